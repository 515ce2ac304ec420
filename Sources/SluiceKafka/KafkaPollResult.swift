/// What one ``KafkaConsumer/poll(maxRecords:timeout:)`` returns.
public struct KafkaPollResult: Sendable {
    /// The records read, in per-partition offset order. Possibly empty.
    public var records: KafkaBatch
    /// A rebalance the caller must handle and then pass to
    /// ``KafkaConsumer/acknowledge(_:startOffsets:)``; it happened after every record in
    /// ``records`` was read.
    public var rebalance: KafkaRebalanceEvent?

    /// Creates a poll result.
    public init(records: KafkaBatch, rebalance: KafkaRebalanceEvent?) {
        self.records = records
        self.rebalance = rebalance
    }
}
