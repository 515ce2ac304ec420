internal import CRdKafka

/// One record of a ``KafkaBatch``: a view into librdkafka's buffer that keeps the batch alive.
///
/// ``key``, ``value`` and ``headers`` copy; ``withUnsafeKey(_:)`` and
/// ``withUnsafeValue(_:)`` give zero-copy access for decoding.
public struct KafkaRecord: Sendable {
    let batch: KafkaBatch
    let index: Int

    private var message: UnsafeMutablePointer<rd_kafka_message_t> { batch.message(index) }

    /// The topic the record was read from.
    public var topic: String { batch.topicName(message.pointee.rkt) }
    /// The partition the record was read from.
    public var partition: Int32 { message.pointee.partition }
    /// The record's offset in its partition.
    public var offset: Int64 { message.pointee.offset }
    /// The topic and partition together.
    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The record timestamp in milliseconds since the Unix epoch (create time or log-append
    /// time, as the topic is configured), or `nil` when the broker gave none.
    public var timestamp: Int64? { message.timestampMilliseconds }

    /// A copy of the key, or `nil` when the record has none.
    public var key: [UInt8]? {
        withUnsafeKey { $0.map { Array($0.bindMemory(to: UInt8.self)) } }
    }

    /// A copy of the value; empty for a null value.
    public var value: [UInt8] {
        withUnsafeValue { Array($0.bindMemory(to: UInt8.self)) }
    }

    /// Whether the value is null (on a compacted topic, a tombstone) rather than present,
    /// possibly empty.
    public var isValueNull: Bool { message.pointee.payload == nil }

    /// Copies of the headers, in record order.
    public var headers: [KafkaHeader] {
        var result: [KafkaHeader] = []
        forEachHeader { name, value in
            result.append(KafkaHeader(name: String(cString: name), value: Array(value)))
            return true
        }
        return result
    }

    /// A copy of the value of the first header called `name`, or `nil` if there is none.
    public func header(named name: String) -> [UInt8]? {
        var found: [UInt8]?
        forEachHeader { headerName, value in
            if String(cString: headerName) == name {
                found = Array(value)
                return false
            }
            return true
        }
        return found
    }

    /// The names of the headers whose value is null rather than present (possibly empty);
    /// ``headers`` gives both as empty. For tests.
    var nullValuedHeaderNames: [String] {
        var names: [String] = []
        forEachHeader { name, value in
            if value.baseAddress == nil { names.append(String(cString: name)) }
            return true
        }
        return names
    }

    /// Calls `body` with the key bytes in place (`nil` when the record has no key).
    /// The buffer must not escape `body`.
    public func withUnsafeKey<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        try body(message.keyBytes)
    }

    /// Calls `body` with the value bytes in place (empty for a null value).
    /// The buffer must not escape `body`.
    public func withUnsafeValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(message.valueBytes)
    }

    /// Calls `body` per header until it returns `false`.
    private func forEachHeader(_ body: (UnsafePointer<CChar>, UnsafeRawBufferPointer) -> Bool) {
        var headers: OpaquePointer?
        let parsed = batch.headerLock.withLock { _ in rd_kafka_message_headers(message, &headers) }
        guard parsed == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return }
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
                let name
            else { return }
            if !body(name, UnsafeRawBufferPointer(start: value, count: value == nil ? 0 : size)) { return }
            index += 1
        }
    }
}

/// A message's fields as Swift values, for ``KafkaRecord`` and ``KafkaBatch/forEachRecord(_:)``.
extension UnsafeMutablePointer where Pointee == rd_kafka_message_t {
    /// The timestamp in milliseconds since the epoch, or `nil` when the broker gave none.
    var timestampMilliseconds: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let value = rd_kafka_message_timestamp(self, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || value < 0 ? nil : value
    }

    /// The key's bytes in place, or `nil` without a key.
    var keyBytes: UnsafeRawBufferPointer? {
        pointee.key.map { UnsafeRawBufferPointer(start: $0, count: pointee.key_len) }
    }

    /// The value's bytes in place (empty for a null value).
    var valueBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointee.payload, count: pointee.len)
    }
}
