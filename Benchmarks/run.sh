#!/usr/bin/env bash
# Sluice benchmarks: builds the benchmark package in release mode and runs every benchmark,
# printing one table. Not part of `make test`. See Benchmarks/README.md.
#
#   bash Benchmarks/run.sh            # full sizes: 5,000,000 readings, 1,000,000 keys for recovery
#   QUICK=1 bash Benchmarks/run.sh    # smoke run: 500,000 readings, 100,000 keys, one round
#   bash Benchmarks/run.sh iot --records 1000000 --sensors 100000   # any sluice-bench subcommand
#   CMO=1 bash Benchmarks/run.sh      # the application built with -cross-module-optimization
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scratch="$here/.build"
flags=()
if [ "${CMO:-0}" = "1" ]; then
    # For comparison: the engine is already specialized in the application without it.
    scratch="$here/.build-cmo"
    flags=(-Xswiftc -cross-module-optimization)
fi

# SwiftPM keeps the build plan of a path dependency across runs and does not notice files
# added to or removed from the root package; drop the plan so it is made anew (the build
# itself stays incremental).
rm -f "$scratch"/*.yaml "$scratch"/*/release/description.json

swift build -c release --package-path "$here" --scratch-path "$scratch" "${flags[@]}" --product sluice-broker
swift build -c release --package-path "$here" --scratch-path "$scratch" "${flags[@]}" --product sluice-bench
bin="$(swift build -c release --package-path "$here" --scratch-path "$scratch" "${flags[@]}" --show-bin-path)"

if [ "$#" -gt 0 ]; then
    exec "$bin/sluice-bench" "$@"
fi
if [ "${QUICK:-0}" = "1" ]; then
    exec "$bin/sluice-bench" all --records 500000 --produce-records 500000 --keys 100000 --rounds 1 --produce-rounds 1 --pipeline-rounds 1
fi
exec "$bin/sluice-bench" all --records 5000000 --produce-records 1000000 --keys 1000000 --rounds 3
