/// One input record as the engine sees it, whatever its source.
public struct SourceRecord: Sendable, Equatable {
    /// The input partition it was read from.
    public var partition: InputPartition
    /// Its offset in that partition.
    public var offset: Int64
    /// The record key, if any.
    public var key: [UInt8]?
    /// The record value.
    public var value: [UInt8]
    /// The record's timestamp (Kafka create or append time), if any.
    public var timestamp: EventTime?

    /// Creates a record.
    public init(partition: InputPartition, offset: Int64, key: [UInt8]? = nil, value: [UInt8], timestamp: EventTime? = nil) {
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestamp = timestamp
    }
}
