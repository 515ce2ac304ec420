/// One input record as the engine sees it, whatever its source.
///
/// Its key and value bytes live in a buffer that the records of one poll share: copying a
/// polled batch out of librdkafka is one allocation, not two per record. Reading ``key`` or
/// ``value`` makes an array; ``withUnsafeValue(_:)`` reads the value in place.
public struct SourceRecord: Sendable {
    /// The input partition it was read from.
    public var partition: InputPartition
    /// Its offset in that partition.
    public var offset: Int64
    /// The record's timestamp (Kafka create or append time), if any.
    public var timestamp: EventTime?
    /// Where the key and value are.
    @usableFromInline var bytes: RecordBytes

    /// Creates a record.
    public init(partition: InputPartition, offset: Int64, key: [UInt8]? = nil, value: [UInt8], timestamp: EventTime? = nil) {
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        var builder = RecordBytes.Builder(capacity: (key?.count ?? 0) + value.count)
        let keySpan = key.map { key in key.withUnsafeBytes { builder.append($0) } }
        let valueSpan = value.withUnsafeBytes { builder.append($0) }
        self.bytes = RecordBytes(storage: builder.storage, key: keySpan, value: valueSpan)
    }

    /// A record whose key and value are already in a shared buffer.
    init(partition: InputPartition, offset: Int64, timestamp: EventTime?, bytes: RecordBytes) {
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.bytes = bytes
    }

    /// The record key, if any.
    public var key: [UInt8]? {
        get { bytes.key.map { Array(bytes.storage.bytes($0)) } }
        set { self = SourceRecord(partition: partition, offset: offset, key: newValue, value: value, timestamp: timestamp) }
    }

    /// The record value.
    public var value: [UInt8] {
        get { Array(bytes.storage.bytes(bytes.value)) }
        set { self = SourceRecord(partition: partition, offset: offset, key: key, value: newValue, timestamp: timestamp) }
    }

    /// The size of the value in bytes.
    @inlinable
    public var valueCount: Int { Int(bytes.value.count) }

    /// The value's bytes, valid only while this record (or a copy of it) exists.
    @inlinable
    var unsafeValueBytes: UnsafeRawBufferPointer { bytes.storage.bytes(bytes.value) }

    /// Calls `body` with the value's bytes, valid only during the call: no copy is made.
    @inlinable
    public func withUnsafeValue<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(bytes.storage.bytes(bytes.value))
    }
}

extension SourceRecord: Equatable {
    /// Records are equal when their partition, offset, timestamp, key and value are.
    public static func == (lhs: SourceRecord, rhs: SourceRecord) -> Bool {
        lhs.partition == rhs.partition && lhs.offset == rhs.offset && lhs.timestamp == rhs.timestamp
            && lhs.key == rhs.key && lhs.withUnsafeValue({ l in rhs.withUnsafeValue({ r in l.elementsEqual(r) }) })
    }
}

/// The key and value of a ``SourceRecord``: spans of a byte buffer that may hold other records' too.
@usableFromInline
struct RecordBytes: Sendable {
    /// A range of bytes in a ``Storage``.
    @usableFromInline
    struct Span: Sendable {
        @usableFromInline let start: Int32
        @usableFromInline let count: Int32

        @inlinable init(start: Int32, count: Int32) {
            self.start = start
            self.count = count
        }
    }

    /// Bytes written once, while the buffer is built, and only read after.
    @usableFromInline
    final class Storage: @unchecked Sendable {
        // @unchecked: `base` is written only by `Builder` before the records that share it
        // are handed out, then only read; it is freed when the last of them goes away.
        @usableFromInline let base: UnsafeMutableRawPointer

        init(base: UnsafeMutableRawPointer) {
            self.base = base
        }

        deinit {
            base.deallocate()
        }

        @inlinable
        func bytes(_ span: Span) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + Int(span.start), count: Int(span.count))
        }
    }

    /// Copies byte ranges into one new buffer; the records made meanwhile share its ``storage``.
    struct Builder {
        /// The buffer being filled. Records may reference it at once; it is read only after
        /// the builder is done (the batch is handed out).
        let storage: Storage
        private let capacity: Int
        private var used = 0

        /// A builder for up to `capacity` bytes (at least 1 byte is allocated).
        init(capacity: Int) {
            precondition(capacity <= Int(Int32.max), "a polled batch of \(capacity) bytes is larger than 2 GiB")
            self.capacity = capacity
            self.storage = Storage(base: .allocate(byteCount: max(capacity, 1), alignment: 16))
        }

        /// Copies `bytes` in and returns where they are.
        mutating func append(_ bytes: UnsafeRawBufferPointer) -> Span {
            precondition(used + bytes.count <= capacity, "RecordBytes.Builder overflow")
            if let source = bytes.baseAddress, !bytes.isEmpty {
                (storage.base + used).copyMemory(from: source, byteCount: bytes.count)
            }
            let span = Span(start: Int32(used), count: Int32(bytes.count))
            used += bytes.count
            return span
        }
    }

    @usableFromInline let storage: Storage
    /// The key's bytes, or `nil` for a record without a key.
    @usableFromInline let key: Span?
    @usableFromInline let value: Span

    init(storage: Storage, key: Span?, value: Span) {
        self.storage = storage
        self.key = key
        self.value = value
    }
}
