/// A snapshot of a running pipeline's progress, for dashboards, health checks and tests.
public struct PipelineStatus: Sendable, Equatable {
    /// Counters from the router.
    public var router = RouterStatistics()
    /// Checkpoints committed since start.
    public var checkpointsCompleted: UInt64 = 0
    /// The id of the last committed checkpoint.
    public var lastCheckpointID: UInt64 = 0
    /// How long the last checkpoint paused processing.
    public var lastCheckpointPause: Duration = .zero
    /// Wall-clock time of the last committed checkpoint.
    public var lastCheckpointTime: EventTime?
    /// Output records confirmed by the broker since start.
    public var recordsPublished: UInt64 = 0
    /// Committed outbox entries handed to the producer and not yet confirmed.
    public var outboxDepth: Int = 0
    /// Watermark per owned input partition.
    public var watermarks: [InputPartition: EventTime] = [:]
    /// Next offset to read per owned input partition.
    public var positions: [InputPartition: Int64] = [:]
    /// Records not yet read per owned input partition, from the broker's high watermark.
    public var lag: [InputPartition: Int64] = [:]
    /// Records consumed and processed per input partition this run has read, since the run
    /// began; a partition revoked from a consumer-group member keeps its counts (the metrics
    /// count from them).
    public var partitionCounts: [InputPartition: PartitionCounts] = [:]
    /// Bytes of the checkpoint store's data file in use.
    public var stateStoreBytes: Int = 0
    /// Client-level errors the Kafka clients reported (librdkafka retries most by itself).
    public var brokerErrors: UInt64 = 0
    /// Times publishing found the producer's queue full and waited for the broker to confirm
    /// earlier records (backpressure from the output side).
    public var producerQueueFullWaits: UInt64 = 0
    /// Key actors in memory.
    public var liveKeys: Int = 0
    /// Whether the pipeline has started processing (recovery finished).
    public var isRunning = false
    /// Why the pipeline stopped with an error, once it has.
    public var failure: String?

    /// Creates an empty status.
    public init() {}
}
