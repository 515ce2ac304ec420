/// `sluice-broker`: a Kafka-protocol broker for development and tests, hosting
/// librdkafka's mock cluster in its own process.
///
/// Usage:
///
///     sluice-broker [--brokers N] [--topic NAME:PARTITIONS]... [--port P]
///                   [--bootstrap-file PATH] [--log-level LEVEL]
///
/// - `--brokers N`: number of brokers in the cluster (default 1), numbered from 1.
/// - `--topic NAME:PARTITIONS`: create a topic at start-up; repeatable.
/// - `--port P`: a stable bootstrap address `127.0.0.1:P`. The mock cluster picks its own
///   ports, so the broker forwards connections from `P` to the first mock broker that
///   accepts them; clients then follow the cluster metadata to the brokers' own ports.
///   `0` picks a free port. Without `--port`, the mock's own addresses are printed.
/// - `--bootstrap-file PATH`: also write the bootstrap address (one line) to `PATH`,
///   atomically, once the broker is ready; removed again on a clean exit.
///
/// The first line on stdout is always `bootstrap=HOST:PORT[,HOST:PORT...]`.
/// SIGTERM or SIGINT (or the `quit` command) stops the broker cleanly with exit status 0.
///
/// Control channel: one command per line on stdin, each answered with one line on stdout,
/// `ok` or `error: <reason>`:
///
/// - `down <broker>` / `up <broker>`: take a broker down or bring it back.
/// - `rtt <broker> <duration>`: add round-trip time to a broker's responses, for example
///   `rtt 1 500ms` (units `ms`, `s`; `0` removes it).
/// - `errors <apiKey> <error> [<error>...]`: fail the next requests of that kind with the
///   given errors, in order. `apiKey` is a number or a name (`produce`, `fetch`,
///   `metadata`, `offsetcommit`, `joingroup`, ...); errors are Kafka error numbers or
///   names (`NOT_LEADER_FOR_PARTITION`, `REQUEST_TIMED_OUT`, ...).
/// - `clear <apiKey>`: forget injected errors not yet used.
/// - `topic <name> <partitions> [<replicationFactor>]`: create a topic.
/// - `quit`: stop the broker.
///
/// Limits of the mock cluster (librdkafka 2.0.2): about 5 MiB kept per partition (older
/// records silently dropped), consumer groups need `session.timeout.ms` of at least about
/// 4000, transactions have no effect. See `Sources/SluiceBroker/README.md`.
#if canImport(Glibc)
import Glibc
#endif

// A client that disconnects while the forwarder writes to it must not kill the broker.
signal(SIGPIPE, SIG_IGN)
// Started in the background of an interactive shell, the control channel's read of the
// terminal would stop the whole process (SIGTTIN); ignored, the read fails and Kafka is served.
signal(SIGTTIN, SIG_IGN)
// SIGTERM and SIGINT are handled by BrokerRuntime; until its handlers are in place they are
// held back rather than left to their default action (an exit with status 143 or 130).
BrokerRuntime.holdShutdownSignals()
SluiceBrokerCommand.main()
