/// Settings for a ``KafkaConsumer``.
///
/// Sluice manages offsets itself, so the consumer always runs with
/// `enable.auto.commit=false` and `enable.auto.offset.store=false`. It reports partition
/// ends only when ``reportsPartitionEnds`` asks for them.
public struct KafkaConsumerConfiguration: Sendable {
    /// How partitions are shared out among the members of a consumer group.
    public struct RebalanceStrategy: Hashable, Sendable, CustomStringConvertible {
        /// The librdkafka assignor name.
        public let description: String
        private init(_ name: String) { description = name }

        /// Eager (`range`): every rebalance revokes the whole assignment, then assigns a new one.
        public static let eager = RebalanceStrategy("range")
        /// Cooperative sticky (`cooperative-sticky`): rebalances move only the partitions that
        /// change owner; events carry just those partitions.
        public static let cooperativeSticky = RebalanceStrategy("cooperative-sticky")

        var isCooperative: Bool { self == .cooperativeSticky }
    }

    /// Where to start reading a partition that has no committed offset (`auto.offset.reset`).
    public enum OffsetReset: String, Sendable {
        /// Start at the oldest retained record.
        case earliest
        /// Start after the newest record.
        case latest
    }

    /// Which records a consumer may read (`isolation.level`).
    public enum IsolationLevel: String, Sendable {
        /// Only records of committed transactions and non-transactional records.
        case readCommitted = "read_committed"
        /// Every record, including those of open or aborted transactions.
        case readUncommitted = "read_uncommitted"
    }

    /// Settings shared with every client.
    public var common: KafkaConfiguration
    /// The consumer group (`group.id`). Required for ``KafkaConsumer/subscribe(topics:)`` and
    /// for committing offsets; may be `nil` for manual assignment only. Default `nil`.
    public var groupID: String?
    /// How long the group coordinator waits for a heartbeat before it evicts a member
    /// (`session.timeout.ms`). Default 45 seconds.
    ///
    /// A rebalance after a member vanishes takes about this long. librdkafka's mock cluster
    /// never answers a JoinGroup with less than about 4 seconds; tests use 6 seconds.
    public var sessionTimeout: Duration = .seconds(45)
    /// How often the consumer sends heartbeats (`heartbeat.interval.ms`). Default `nil`:
    /// a third of ``sessionTimeout``, at most 3 seconds.
    public var heartbeatInterval: Duration?
    /// The longest time between two polls before the consumer leaves its group
    /// (`max.poll.interval.ms`). Default 300 seconds.
    public var maxPollInterval: Duration = .seconds(300)
    /// The partition assignment strategy. Default ``RebalanceStrategy/eager``.
    public var rebalanceStrategy: RebalanceStrategy = .eager
    /// Where to start a partition without a committed offset. Default ``OffsetReset/earliest``.
    public var autoOffsetReset: OffsetReset = .earliest
    /// Which transactional records to read. Default ``IsolationLevel/readCommitted``
    /// (librdkafka's default).
    public var isolationLevel: IsolationLevel = .readCommitted
    /// How many prefetched records librdkafka's queue holds before it stops fetching
    /// (`queued.min.messages`; the assigned partitions share the consumer's queue, so this
    /// counts all of them). Default 1,000,000.
    ///
    /// librdkafka 2.0.2 resumes fetching only when its broker thread next wakes, up to a
    /// second later, so the queue should hold at least a second of what the caller consumes:
    /// librdkafka's own default of 100,000 makes a fast consumer stall about a second each
    /// time the queue fills. Lower it to save memory.
    public var maxQueuedRecords: Int = 1_000_000
    /// Whether polls report the partitions whose end the consumer reached
    /// (``KafkaPollResult/partitionEnds``; librdkafka's `enable.partition.eof`). Default `false`.
    public var reportsPartitionEnds: Bool = false
    /// The longest time a broker holds a fetch request open waiting for data
    /// (`fetch.wait.max.ms`). Default 100 milliseconds.
    public var fetchMaxWait: Duration = .milliseconds(100)

    /// Creates a consumer configuration with every other setting at its default.
    public init(bootstrapServers: [String], groupID: String? = nil) {
        self.common = KafkaConfiguration(bootstrapServers: bootstrapServers)
        self.groupID = groupID
    }

    /// Checks the settings without contacting any broker.
    ///
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration``.
    public func validate() throws {
        try common.validate()
        if let groupID, groupID.isEmpty {
            throw KafkaError(.configuration, "groupID is empty: give a group name or nil for manual assignment")
        }
        if sessionTimeout < .seconds(1) || sessionTimeout > .seconds(3_600) {
            throw KafkaError(
                .configuration,
                "sessionTimeout is \(sessionTimeout): it must lie between 1 s and 3600 s (the mock cluster needs at least 4 s)")
        }
        if effectiveHeartbeatInterval >= sessionTimeout {
            throw KafkaError(
                .configuration,
                "heartbeatInterval (\(effectiveHeartbeatInterval)) must be shorter than sessionTimeout (\(sessionTimeout))")
        }
        if maxPollInterval < sessionTimeout {
            throw KafkaError(
                .configuration,
                "maxPollInterval (\(maxPollInterval)) must be at least sessionTimeout (\(sessionTimeout))")
        }
        if maxQueuedRecords < 1 || maxQueuedRecords > 10_000_000 {
            throw KafkaError(
                .configuration, "maxQueuedRecords is \(maxQueuedRecords): it must lie between 1 and 10,000,000")
        }
        if fetchMaxWait < .zero || fetchMaxWait > .seconds(300) {
            throw KafkaError(.configuration, "fetchMaxWait is \(fetchMaxWait): it must lie between 0 and 300 s")
        }
    }

    var effectiveHeartbeatInterval: Duration {
        heartbeatInterval ?? min(.seconds(3), sessionTimeout / 3)
    }

    /// The librdkafka properties for these settings; `groupID` is supplied by the caller.
    func librdkafkaProperties(groupID: String) -> [(String, String)] {
        var result: [(String, String)] = [
            ("group.id", groupID),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", reportsPartitionEnds ? "true" : "false"),
            ("session.timeout.ms", String(sessionTimeout.milliseconds)),
            ("heartbeat.interval.ms", String(effectiveHeartbeatInterval.milliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.milliseconds)),
            ("partition.assignment.strategy", rebalanceStrategy.description),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("isolation.level", isolationLevel.rawValue),
            ("queued.min.messages", String(maxQueuedRecords)),
            ("fetch.wait.max.ms", String(fetchMaxWait.milliseconds)),
        ]
        // Common settings, including the raw escape hatch, come last so they can override.
        result += common.librdkafkaProperties()
        return result
    }
}
