/// Special offset values understood wherever a start offset is accepted
/// (``KafkaConsumer/assign(_:)``, ``KafkaConsumer/seek(_:to:)``,
/// ``KafkaConsumer/acknowledge(_:startOffsets:)``).
public enum KafkaOffset {
    /// The oldest record the broker still holds.
    public static let beginning: Int64 = -2
    /// The offset after the newest record: read only what is written from now on.
    public static let end: Int64 = -1
    /// The group's committed offset, or `auto.offset.reset` when there is none.
    public static let committed: Int64 = -1_000
}
