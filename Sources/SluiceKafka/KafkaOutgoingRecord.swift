/// A record to send with ``KafkaProducer``.
public struct KafkaOutgoingRecord: Sendable {
    /// The destination topic.
    public var topic: String
    /// The destination partition; `nil` picks one from the key with Java's murmur2
    /// partitioner (records without a key go to a random partition).
    public var partition: Int32?
    /// The record key, or `nil` for none.
    public var key: [UInt8]?
    /// The record value. An empty value is sent as a null value.
    public var value: [UInt8]
    /// The record headers.
    public var headers: [KafkaHeader]

    /// Creates an outgoing record.
    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8], headers: [KafkaHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}
