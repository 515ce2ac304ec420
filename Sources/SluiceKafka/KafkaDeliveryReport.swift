/// The outcome of sending one record, passed to the producer's `onDelivery` handler.
public struct KafkaDeliveryReport: Sendable {
    /// The id ``KafkaProducer/send(_:)`` returned for the record.
    public var id: UInt64
    /// The topic the record was sent to.
    public var topic: String
    /// The partition the record was written to (or aimed at, on failure).
    public var partition: Int32
    /// The offset the record was written at. `nil` on failure, and occasionally `nil` for an
    /// idempotent producer's retried record whose first attempt succeeded unacknowledged.
    public var offset: Int64?
    /// Why delivery failed, or `nil` when the record was written.
    public var error: KafkaError?

    /// Creates a delivery report.
    public init(id: UInt64, topic: String, partition: Int32, offset: Int64?, error: KafkaError?) {
        self.id = id
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.error = error
    }
}
