# Sluice — the two commands a new Debian machine needs:
#   make demo   installs what is missing, builds, runs the IoT demo
#   make test   installs what is missing, builds, runs every test
# Both are idempotent.

SWIFT        ?= swift
SYSTEM_DEPS  := librdkafka-dev liblmdb-dev pkg-config
DEMO_ARGS    ?=
BIN_DIR       = $(shell $(SWIFT) build --show-bin-path 2>/dev/null)

.PHONY: deps build build-release test demo broker bench clean

# Install the Debian packages Sluice links against, only when one is missing.
deps:
	@missing=""; \
	for p in $(SYSTEM_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build --build-tests

build-release: deps
	$(SWIFT) build -c release --product iot
	$(SWIFT) build -c release --product sluice-broker

# Every test: unit suites and the multi-process integration suite.
test: build
	SLUICE_BIN_DIR="$(BIN_DIR)" $(SWIFT) test --skip-build

demo: build-release
	$$($(SWIFT) build -c release --show-bin-path)/iot demo $(DEMO_ARGS)

broker: deps
	$(SWIFT) build --product sluice-broker
	$(BIN_DIR)/sluice-broker --topic sensors:8 --topic sums:4

# Benchmarks are not part of `make test`; see Benchmarks/README.md.
bench: deps
	bash Benchmarks/run.sh

clean:
	rm -rf .build
