/// Records to send with ``KafkaProducer/send(contentsOf:)-(KafkaOutgoingBatch)``, stored
/// contiguously: every key, value and header of the batch in one byte buffer, and per record
/// only where its parts lie.
///
/// A ``KafkaOutgoingRecord`` holds its key, value and headers in arrays of their own: several
/// allocations per record to make and free. A batch makes none per record, and librdkafka
/// copies each record from bytes laid out in the order they were appended, as a C loop over flat
/// arrays would. (In Sluice's produce benchmark the two paths measured within the shared
/// machine's noise of each other; Sluice's outbox publisher uses batches to build its records
/// and their two headers without allocating.)
///
/// ```swift
/// var batch = KafkaOutgoingBatch()
/// for reading in readings {
///     batch.append(topic: "sensors", key: reading.sensorKey, value: reading.json)
/// }
/// let ids = try await producer.send(contentsOf: batch)
/// ```
///
/// An empty value is sent as a null value, as with ``KafkaOutgoingRecord/value``.
public struct KafkaOutgoingBatch: Sendable, RandomAccessCollection {
    /// Where one record's parts lie in ``bytes``.
    struct Entry {
        /// Index into ``topics``.
        var topic: Int32
        /// The destination partition, or `nil` to let the partitioner choose.
        var partition: Int32?
        var keyStart: Int
        /// -1: no key (distinct from an empty key).
        var keyCount: Int
        var valueStart: Int
        var valueCount: Int
        /// The record's headers: ``headers[headerStart..<headerStart + headerCount]``.
        var headerStart: Int32
        var headerCount: Int32
    }

    /// Where one header's name and value lie in ``bytes``.
    struct Header {
        var nameStart: Int
        var nameCount: Int
        var valueStart: Int
        var valueCount: Int
    }

    private(set) var bytes: [UInt8] = []
    private(set) var entries: [Entry] = []
    private(set) var headers: [Header] = []
    /// The batch's distinct topics, in order of first use.
    private(set) var topics: [String] = []

    /// Creates an empty batch.
    public init() {}

    /// Creates an empty batch with room for `records` records of `bytes` bytes in all (keys,
    /// values and headers).
    public init(reservingCapacity records: Int, bytes: Int) {
        entries.reserveCapacity(records)
        self.bytes.reserveCapacity(bytes)
    }

    /// Creates a batch of `records`, in order.
    public init(_ records: some Sequence<KafkaOutgoingRecord>) {
        for record in records { append(record) }
    }

    // MARK: Appending

    /// Appends a record whose key and value are copied from the given bytes.
    ///
    /// - Parameters:
    ///   - topic: The destination topic.
    ///   - partition: The destination partition; `nil` picks one from the key with Java's
    ///     murmur2 partitioner (records without a key go to a random partition).
    ///   - key: The key, or `nil` for none (an empty buffer is an empty key).
    ///   - value: The value; an empty value is sent as a null value.
    ///   - headers: The record's headers; ``addHeader(name:value:)`` adds more.
    public mutating func append(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: [KafkaHeader] = []
    ) {
        appendCopying(topic: topic, partition: partition, key: key, value: value, headers: headers)
    }

    /// Appends a record with a key, copying the key and value.
    public mutating func append(
        topic: String, partition: Int32? = nil, key: some Collection<UInt8>, value: some Collection<UInt8>,
        headers: [KafkaHeader] = []
    ) {
        Self.withBytes(of: key) { key in
            Self.withBytes(of: value) { value in
                appendCopying(topic: topic, partition: partition, key: key, value: value, headers: headers)
            }
        }
    }

    /// Appends a record without a key, copying the value.
    public mutating func append(
        topic: String, partition: Int32? = nil, value: some Collection<UInt8>, headers: [KafkaHeader] = []
    ) {
        Self.withBytes(of: value) { value in
            appendCopying(topic: topic, partition: partition, key: nil, value: value, headers: headers)
        }
    }

    /// What every `append` comes to. (Not an overload of them: a buffer is a collection too.)
    private mutating func appendCopying(
        topic: String, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer, headers: [KafkaHeader]
    ) {
        var entry = Entry(
            topic: topicIndex(of: topic), partition: partition, keyStart: bytes.count, keyCount: -1,
            valueStart: 0, valueCount: value.count, headerStart: Int32(self.headers.count), headerCount: 0)
        if let key {
            entry.keyCount = key.count
            bytes.append(contentsOf: key)
        }
        entry.valueStart = bytes.count
        bytes.append(contentsOf: value)
        entries.append(entry)
        for header in headers { addHeader(name: header.name, value: header.value) }
    }

    /// Appends a copy of `record`.
    public mutating func append(_ record: KafkaOutgoingRecord) {
        if let key = record.key {
            append(topic: record.topic, partition: record.partition, key: key, value: record.value, headers: record.headers)
        } else {
            append(topic: record.topic, partition: record.partition, value: record.value, headers: record.headers)
        }
    }

    /// Adds a header to the record appended last.
    ///
    /// - Precondition: The batch is not empty.
    public mutating func addHeader(name: String, value: some Collection<UInt8>) {
        precondition(!entries.isEmpty, "addHeader(name:value:) adds to the last record appended; append a record first")
        var name = name
        let nameStart = bytes.count
        name.withUTF8 { bytes.append(contentsOf: $0) }
        let valueStart = bytes.count
        Self.withBytes(of: value) { bytes.append(contentsOf: $0) }
        headers.append(
            Header(nameStart: nameStart, nameCount: valueStart - nameStart, valueStart: valueStart, valueCount: bytes.count - valueStart))
        entries[entries.count - 1].headerCount += 1
    }

    /// Empties the batch, keeping its storage when `keepingCapacity` is `true`.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
        entries.removeAll(keepingCapacity: keepingCapacity)
        headers.removeAll(keepingCapacity: keepingCapacity)
        topics.removeAll(keepingCapacity: keepingCapacity)
    }

    // MARK: Reading

    /// The number of bytes the batch holds: keys, values, header names and header values.
    public var byteCount: Int { bytes.count }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    /// A copy of record `position` (it allocates its key, value and headers: for inspection,
    /// not for sending).
    public subscript(position: Int) -> KafkaOutgoingRecord {
        let entry = entries[position]
        let key = entry.keyCount < 0 ? nil : Array(bytes[entry.keyStart..<entry.keyStart + entry.keyCount])
        let headers = self.headers[Int(entry.headerStart)..<Int(entry.headerStart) + Int(entry.headerCount)].map { header in
            KafkaHeader(
                name: String(decoding: bytes[header.nameStart..<header.nameStart + header.nameCount], as: UTF8.self),
                value: Array(bytes[header.valueStart..<header.valueStart + header.valueCount]))
        }
        return KafkaOutgoingRecord(
            topic: topics[Int(entry.topic)], partition: entry.partition, key: key,
            value: Array(bytes[entry.valueStart..<entry.valueStart + entry.valueCount]), headers: headers)
    }

    // MARK: Internals

    /// The index of `topic` in ``topics``, added if new. Records of a batch mostly share a
    /// topic: the last one is compared first.
    private mutating func topicIndex(of topic: String) -> Int32 {
        if let last = topics.indices.last, topics[last] == topic { return Int32(last) }
        if let index = topics.firstIndex(of: topic) { return Int32(index) }
        topics.append(topic)
        return Int32(topics.count - 1)
    }

    /// Calls `body` with the bytes of `collection`, in place when they are contiguous.
    @inline(__always)
    private static func withBytes<R>(of collection: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let result = collection.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
        return Array(collection).withUnsafeBytes(body)
    }
}
