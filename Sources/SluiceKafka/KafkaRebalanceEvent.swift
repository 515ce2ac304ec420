/// A change to a group consumer's assignment, reported by ``KafkaConsumer/poll(maxRecords:timeout:)``.
///
/// The consumer does not act on the change until the caller passes the event to
/// ``KafkaConsumer/acknowledge(_:startOffsets:)``, so the caller can first checkpoint the
/// partitions it is about to lose, or load start offsets for those it gains.
///
/// With ``KafkaConsumerConfiguration/RebalanceStrategy/cooperativeSticky`` events are
/// incremental: they name only the partitions that move. With
/// ``KafkaConsumerConfiguration/RebalanceStrategy/eager`` an `assigned` event carries the
/// whole new assignment and a `revoked` event the whole old one.
public enum KafkaRebalanceEvent: Sendable, Equatable {
    /// These partitions are now (or additionally) assigned to this consumer.
    case assigned([KafkaTopicPartition])
    /// These partitions are being taken away from this consumer.
    case revoked([KafkaTopicPartition])

    /// The partitions the event names.
    public var partitions: [KafkaTopicPartition] {
        switch self {
        case .assigned(let partitions), .revoked(let partitions): partitions
        }
    }
}
