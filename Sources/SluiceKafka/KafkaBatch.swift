internal import CRdKafka
import Synchronization

/// The records one ``KafkaConsumer/poll(maxRecords:timeout:)`` returned.
///
/// A batch owns librdkafka's message buffers and frees them when the last reference to
/// the batch (or to any ``KafkaRecord`` taken from it) goes away, so reading keys and
/// values through ``KafkaRecord/withUnsafeValue(_:)`` copies nothing.
public final class KafkaBatch: RandomAccessCollection, @unchecked Sendable {
    // @unchecked Sendable: the message array and the messages are never mutated after init
    // except by librdkafka's header parsing, which runs under `headerLock` (it caches the
    // parsed list in the message the first time a record's headers are asked for); librdkafka
    // allows reading a message from any thread, and deinit frees them exactly once.

    /// The messages, all without error.
    let messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>?
    /// Topic names by topic handle, so `topic` does not decode a C string per record.
    private let topicNames: [(handle: OpaquePointer, name: String)]
    /// The client the messages came from, kept alive until they are freed: librdkafka's
    /// `rd_kafka_destroy` waits for every message of its instance to be destroyed first, so a
    /// record kept past its consumer would otherwise hold a destroying thread for as long.
    private let client: RDKafkaClient?
    /// Held while librdkafka parses (or hands out the parsed) headers of a message: parsing
    /// writes to the message, so two threads must not do it at once. Records whose headers
    /// are never read (an engine that ignores input headers) never pay for parsing them.
    let headerLock = Mutex(())

    /// The number of records.
    public let count: Int

    /// Takes ownership of `count` valid messages in `messages` (allocated with `allocate`),
    /// which `client` fetched.
    init(messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>?, count: Int, client: RDKafkaClient?) {
        self.messages = messages
        self.count = count
        self.client = client
        var names: [(handle: OpaquePointer, name: String)] = []
        for index in 0..<count {
            let message = messages![index]!
            if let rkt = message.pointee.rkt, !names.contains(where: { $0.handle == rkt }) {
                names.append((rkt, String(cString: rd_kafka_topic_name(rkt))))
            }
        }
        topicNames = names
    }

    /// An empty batch.
    convenience init() {
        self.init(messages: nil, count: 0, client: nil)
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

    /// Calls `body` with the topic, partition, offset, timestamp (milliseconds), key and value
    /// of each record in `range` (default: all), in order; the bytes are valid only during the
    /// call. For copying a batch out without a ``KafkaRecord`` (and a reference to the batch)
    /// per record. Several threads may walk disjoint (or the same) ranges at once: it only reads.
    package func forEachRecord(
        in range: Range<Int>? = nil,
        _ body: (_ topic: String, _ partition: Int32, _ offset: Int64, _ timestamp: Int64?, _ key: UnsafeRawBufferPointer?,
                 _ value: UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let range = range ?? 0..<count
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "KafkaBatch range \(range) out of 0..<\(count)")
        var lastHandle: OpaquePointer?
        var lastTopic = ""
        for index in range {
            let message = message(index)
            let handle = message.pointee.rkt
            if handle != lastHandle {
                lastHandle = handle
                lastTopic = topicName(handle)
            }
            try body(
                lastTopic, message.pointee.partition, message.pointee.offset, message.timestampMilliseconds, message.keyBytes,
                message.valueBytes)
        }
    }

    func topicName(_ handle: OpaquePointer?) -> String {
        guard let handle else { return "" }
        for entry in topicNames where entry.handle == handle { return entry.name }
        return String(cString: rd_kafka_topic_name(handle))
    }
}
