/// What one ``KafkaConsumer/poll(maxRecords:timeout:)`` returns.
public struct KafkaPollResult: Sendable {
    /// The records read, in per-partition offset order. Possibly empty.
    public var records: KafkaBatch
    /// A rebalance the caller must handle and then pass to
    /// ``KafkaConsumer/acknowledge(_:startOffsets:)``; it happened after every record in
    /// ``records`` was read.
    public var rebalance: KafkaRebalanceEvent?
    /// Partitions whose end the consumer reached after the records of theirs in ``records``
    /// (and before any later ones), each with the offset its next fetch starts at. Reported
    /// only with ``KafkaConsumerConfiguration/reportsPartitionEnds``, once each time the
    /// consumer catches up. The offset is past any transaction markers at the partition's end,
    /// which take offsets but are never delivered: the offset after the last record read can
    /// stay below the high watermark for good, this one does not.
    public var partitionEnds: [KafkaTopicPartition: Int64]

    /// Creates a poll result.
    public init(records: KafkaBatch, rebalance: KafkaRebalanceEvent?, partitionEnds: [KafkaTopicPartition: Int64] = [:]) {
        self.records = records
        self.rebalance = rebalance
        self.partitionEnds = partitionEnds
    }
}
