internal import CRdKafka

/// The records one ``KafkaConsumer/poll(maxRecords:timeout:)`` returned.
///
/// A batch owns librdkafka's message buffers and frees them when the last reference to
/// the batch (or to any ``KafkaRecord`` taken from it) goes away, so reading keys and
/// values through ``KafkaRecord/withUnsafeValue(_:)`` copies nothing.
public final class KafkaBatch: RandomAccessCollection, @unchecked Sendable {
    // @unchecked Sendable: the message array and the messages are never mutated after
    // init (headers are parsed eagerly on the consumer thread, before the batch is shared),
    // librdkafka allows reading a message from any thread, and deinit frees them exactly once.

    /// The messages, all without error.
    let messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>?
    /// Topic names by topic handle, so `topic` does not decode a C string per record.
    private let topicNames: [(handle: OpaquePointer, name: String)]

    /// The number of records.
    public let count: Int

    /// Takes ownership of `count` valid messages in `messages` (allocated with `allocate`).
    init(messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>?, count: Int) {
        self.messages = messages
        self.count = count
        var names: [(handle: OpaquePointer, name: String)] = []
        for index in 0..<count {
            let message = messages![index]!
            if let rkt = message.pointee.rkt, !names.contains(where: { $0.handle == rkt }) {
                names.append((rkt, String(cString: rd_kafka_topic_name(rkt))))
            }
            // Parse headers now so later reads from other threads only read.
            var headers: OpaquePointer?
            _ = rd_kafka_message_headers(message, &headers)
        }
        topicNames = names
    }

    /// An empty batch.
    convenience init() {
        self.init(messages: nil, count: 0)
    }

    deinit {
        guard let messages else { return }
        for index in 0..<count {
            rd_kafka_message_destroy(messages[index])
        }
        messages.deallocate()
    }

    /// The first index, always 0.
    public var startIndex: Int { 0 }
    /// One past the last index, equal to ``count``.
    public var endIndex: Int { count }

    /// The record at `position`, which must be in `0..<count`.
    public subscript(position: Int) -> KafkaRecord {
        precondition(position >= 0 && position < count, "KafkaBatch index \(position) out of range 0..<\(count)")
        return KafkaRecord(batch: self, index: position)
    }

    /// The message at `index`.
    @inline(__always)
    func message(_ index: Int) -> UnsafeMutablePointer<rd_kafka_message_t> {
        messages.unsafelyUnwrapped[index].unsafelyUnwrapped
    }

    func topicName(_ handle: OpaquePointer?) -> String {
        guard let handle else { return "" }
        for entry in topicNames where entry.handle == handle { return entry.name }
        return String(cString: rd_kafka_topic_name(handle))
    }
}
