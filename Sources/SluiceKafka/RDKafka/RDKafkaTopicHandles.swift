internal import CRdKafka

/// librdkafka topic handles by topic name, for a producer's send thread.
///
/// Handing `rd_kafka_produceva` a topic handle instead of a name saves librdkafka a topic
/// lookup per record (a read lock, a string comparison and two reference-count atomics),
/// and Sluice a retain and release of the name per record: a record's topic is compared with
/// the last one's, which for the same string is a comparison of two words.
///
/// `@unchecked Sendable`: used only by the producer's send thread while it holds the delivery
/// loop's `serving` lock, so by one thread at a time. It keeps the client alive, so its
/// handles are destroyed before the client's.
final class RDKafkaTopicHandles: @unchecked Sendable {
    private let client: RDKafkaClient
    private var last: (name: String, handle: OpaquePointer)?
    private var handles: [String: OpaquePointer] = [:]

    /// At most this many topics get a handle; records to others are sent by name.
    private let limit: Int

    /// The default ``limit``.
    static let defaultLimit = 1_000

    init(client: RDKafkaClient, limit: Int) {
        self.client = client
        self.limit = limit
    }

    /// The handle of `record`'s topic, or `nil` when it has none (send the record by name then).
    @inline(__always)
    func handle(forTopicOf record: UnsafePointer<KafkaOutgoingRecord>) -> OpaquePointer? {
        handle(named: record.pointee.topic)
    }

    /// The handle of topic `name`, or `nil` when it has none (send by name then).
    @inline(__always)
    func handle(named name: String) -> OpaquePointer? {
        if let last, name == last.name { return last.handle }
        return lookUp(name)
    }

    private func lookUp(_ name: String) -> OpaquePointer? {
        if let handle = handles[name] {
            last = (name, handle)
            return handle
        }
        guard handles.count < limit, let handle = rd_kafka_topic_new(client.handle, name, nil) else { return nil }
        handles[name] = handle
        last = (name, handle)
        return handle
    }

    deinit {
        for handle in handles.values { rd_kafka_topic_destroy(handle) }
    }
}
