public import SluiceKafka
public import CoreMetrics

/// How a pipeline runs: where its state lives, how often it checkpoints, what it promises.
public struct PipelineConfiguration: Sendable {
    /// What the pipeline promises about its outputs after a crash.
    public enum DeliveryGuarantee: String, Sendable, CaseIterable {
        /// Every result appears exactly once in the output, even if the process is killed at any
        /// instant. Results become visible one checkpoint after they are computed.
        case exactlyOnce = "exactly-once"
        /// Results are published as soon as they are computed; after a crash some may appear
        /// twice (never zero times).
        case atLeastOnce = "at-least-once"
    }

    /// What to do when the consumer group has progress for a partition but the state directory has none.
    public enum MissingStatePolicy: String, Sendable, CaseIterable {
        /// Refuse to start, with an error naming the partitions (the default).
        case fail
        /// Rebuild the state by reprocessing the partition from its earliest retained offset.
        case rebuildFromEarliest = "rebuild"
        /// Accept that the state is lost and continue from the group's committed offset.
        case acceptLoss = "accept-loss"
    }

    /// Kafka connection settings for sources and sinks. Required when the pipeline uses Kafka.
    public var kafka: KafkaConfiguration?
    /// Where the LMDB checkpoint store lives. Required.
    public var stateDirectory: String
    /// The most bytes the checkpoint store's file may grow to: every key's state plus the
    /// outbox. Default 64 GiB. A checkpoint that needs more fails with
    /// ``SluiceError/Code/checkpointFailure`` and the pipeline stops, the last checkpoint intact;
    /// raise this and restart. The store maps the file into memory, so this much address space
    /// is reserved (not used) as the file grows.
    public var stateStoreMaximumBytes: Int = 64 << 30
    /// How often a checkpoint is taken. Default 1 second; works down to 100 ms.
    public var checkpointInterval: Duration = .seconds(1)
    /// The delivery guarantee. Default ``DeliveryGuarantee/exactlyOnce``.
    public var guarantee: DeliveryGuarantee = .exactlyOnce
    /// What to do about group progress without local state. Default ``MissingStatePolicy/fail``.
    public var missingState: MissingStatePolicy = .fail
    /// Key actors unused for this long are released from memory after a checkpoint; their state
    /// stays in the store. `nil` keeps every key in memory. Default 60 seconds. Idle keys are
    /// looked for at most every quarter of this time (every key is visited), so a key may stay
    /// in memory up to a quarter longer.
    public var keyIdleTimeout: Duration? = .seconds(60)
    /// After a checkpoint's commit (at most once a second), hand memory the C allocator holds free
    /// back to the operating system, on the checkpoint thread, before that checkpoint's outputs
    /// are published (glibc's `malloc_trim`, 18–31 ms at 100,000 keys; nothing where
    /// the C library has no such call). Default `true`: without it glibc keeps much of what a
    /// pipeline frees between checkpoints (in one pair of benchmark runs building a million
    /// keys of state, peak RSS was 1,184 MiB without it and 786 MiB with it).
    public var releasesFreeMemory = true
    /// The most records read in one poll. Default 10,000.
    public var maxPollRecords: Int = 10_000
    /// Records whose value is larger than this go to the dead-letter output unread. Default 1 MiB.
    public var maxRecordBytes: Int = PipelineConfiguration.defaultMaxRecordBytes

    /// The default of ``maxRecordBytes``: 1 MiB.
    public static let defaultMaxRecordBytes = 1 << 20
    /// How long one poll waits for records. Default 50 ms.
    public var pollTimeout: Duration = .milliseconds(50)
    /// Whether to finish once every input partition has reached the end offset it had at start:
    /// close every window, checkpoint, publish everything and return. Default `false`.
    public var stopsAtEndOfInput: Bool = false
    /// How long graceful shutdown (and the end of a bounded input) may take to checkpoint and
    /// publish, counted from the stop request (also while the pipeline still waits for the
    /// producer, for example with the brokers down); past it the producer is closed and the run
    /// fails with ``SluiceError/Code/shutdownTimeout``. Outputs not yet confirmed stay in the
    /// outbox and are published after a restart. Default 30 seconds.
    public var shutdownTimeout: Duration = .seconds(30)
    /// Consumer-group session timeout (group assignment only). Default 10 seconds.
    public var sessionTimeout: Duration = .seconds(10)
    /// Crash points that abort the process when reached (for crash tests); default from the
    /// `SLUICE_CRASH_POINT` environment variable, see ``CrashPoint``.
    public var crashPoints: CrashPointSchedule = .fromEnvironment()
    /// Where the pipeline's metrics go. Default `nil`: the process-wide `MetricsSystem.factory`,
    /// which the application bootstraps (the library never does). Tests pass a `TestMetrics`.
    public var metricsFactory: (any MetricsFactory)?

    /// Creates a configuration with a state directory and every other setting at its default.
    public init(stateDirectory: String, kafka: KafkaConfiguration? = nil) {
        self.stateDirectory = stateDirectory
        self.kafka = kafka
    }

    /// Checks the settings; throws a ``SluiceError`` naming the bad one.
    public func validate() throws {
        if stateDirectory.isEmpty {
            throw SluiceError(.invalidConfiguration, "stateDirectory is empty: give a directory for the checkpoint store")
        }
        if checkpointInterval < .milliseconds(10) {
            throw SluiceError(.invalidConfiguration, "checkpointInterval \(checkpointInterval) is too short: use at least 10 ms")
        }
        if maxPollRecords < 1 {
            throw SluiceError(.invalidConfiguration, "maxPollRecords must be at least 1")
        }
        if stateStoreMaximumBytes < 1 << 20 {
            throw SluiceError(
                .invalidConfiguration, "stateStoreMaximumBytes is \(stateStoreMaximumBytes): give at least 1 MiB (1048576 bytes)")
        }
        if let kafka {
            do { try kafka.validate() } catch let error as KafkaError {
                throw SluiceError(.invalidConfiguration, error.message, underlying: error)
            }
            for rule in Self.deliveryProperties {
                for name in rule.names {
                    if let value = kafka.properties[name], !rule.allowed.contains(value.lowercased()) {
                        throw SluiceError(
                            .invalidConfiguration,
                            "kafka.properties sets '\(name)' to '\(value)', but Sluice's delivery guarantee needs "
                                + "\(rule.allowed.sorted().joined(separator: " or ")) (\(rule.reason)): remove it")
                    }
                }
            }
        }
    }

    /// Producer properties the delivery guarantee relies on (`Docs/ExactlyOnce.md`), with their
    /// aliases, the values they may be given in ``kafka``'s raw properties, and why.
    static let deliveryProperties: [(names: [String], allowed: Set<String>, reason: String)] = [
        (["enable.idempotence"], ["true"], "no duplicates or reordering when the producer retries"),
        (["acks", "request.required.acks"], ["all", "-1"], "a record confirmed is on every in-sync replica"),
        (
            ["message.timeout.ms", "delivery.timeout.ms"], ["0"],
            "a record that times out may be followed by delivered ones, which recovery would take as proof it was published"
        ),
        (["enable.gapless.guarantee"], ["true"], "a record that fails for good stops the producer before a later one is delivered"),
    ]
}
