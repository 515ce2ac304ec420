/// One input record as the engine sees it, whatever its source.
///
/// Its key and value bytes live in a buffer that the records of one poll share: copying a
/// polled batch out of librdkafka is one allocation, not two per record. Reading ``key`` or
/// ``value`` makes an array (and setting one makes the record a buffer of its own);
/// ``withUnsafeKey(_:)`` and ``withUnsafeValue(_:)`` read in place. Records the engine hands
/// to side outputs (late records, dead letters) have a buffer of their own, so keeping one
/// does not keep its whole poll in memory.
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
        self.bytes = key.withUnsafeBytesIfPresent { key in value.withUnsafeBytes { RecordBytes(key: key, value: $0) } }
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

    /// Calls `body` with the key's bytes (`nil` for a record without a key), valid only during the call: no copy is made.
    @inlinable
    public func withUnsafeKey<Result>(_ body: (UnsafeRawBufferPointer?) throws -> Result) rethrows -> Result {
        try body(bytes.key.map { bytes.storage.bytes($0) })
    }

    /// The same record with its key and value in a buffer of its own, for keeping past its batch.
    @usableFromInline
    func detached() -> SourceRecord {
        SourceRecord(
            partition: partition, offset: offset, timestamp: timestamp,
            bytes: withUnsafeKey { key in withUnsafeValue { RecordBytes(key: key, value: $0) } })
    }

    /// Calls `body` with the value's bytes, valid only during the call: no copy is made.
    @inlinable
    public func withUnsafeValue<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(bytes.storage.bytes(bytes.value))
    }
}

extension SourceRecord: Equatable {
    /// Records are equal when their partition, offset, timestamp, key and value are.
    public static func == (lhs: SourceRecord, rhs: SourceRecord) -> Bool {
        guard lhs.partition == rhs.partition && lhs.offset == rhs.offset && lhs.timestamp == rhs.timestamp else { return false }
        let keysEqual = lhs.withUnsafeKey { l in
            rhs.withUnsafeKey { r in
                switch (l, r) {
                case (nil, nil): true
                case (let l?, let r?): l.elementsEqual(r)
                default: false
                }
            }
        }
        return keysEqual && lhs.withUnsafeValue { l in rhs.withUnsafeValue { r in l.elementsEqual(r) } }
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

    /// Copies records' keys and values into new buffers; the records made meanwhile share them.
    ///
    /// Call ``startRecord(byteCount:)`` before appending a record's key and value, then make
    /// the record with ``storage``: a record's bytes are always in one buffer. A buffer holds
    /// at most `maximumChunk` bytes (1 GiB by default; a span's offsets are 32-bit), so a large
    /// poll gets several.
    struct Builder {
        /// The largest buffer made: a poll holding more gets several.
        let maximumChunk: Int

        /// The buffer being filled. Records may reference it at once; it is read only after
        /// the builder is done (the batch is handed out).
        private(set) var storage: Storage
        private var capacity: Int
        private var used = 0
        /// Bytes announced but not yet in a buffer: the size of the next one.
        private var remaining: Int

        /// A builder for `totalBytes` bytes in all.
        init(totalBytes: Int, maximumChunk: Int = 1 << 30) {
            self.maximumChunk = maximumChunk
            let first = min(max(totalBytes, 1), maximumChunk)
            storage = Storage(base: .allocate(byteCount: first, alignment: 16))
            capacity = first
            remaining = max(totalBytes - first, 0)
        }

        /// Makes sure the next `byteCount` bytes go into one buffer, starting a new one if needed.
        mutating func startRecord(byteCount: Int) {
            precondition(byteCount <= maximumChunk, "a record of \(byteCount) bytes is larger than the \(maximumChunk)-byte limit")
            guard used + byteCount > capacity else { return }
            let next = min(max(remaining, byteCount, 1), maximumChunk)
            remaining = max(remaining - next, 0)
            storage = Storage(base: .allocate(byteCount: next, alignment: 16))
            capacity = next
            used = 0
        }

        /// Copies `bytes` in and returns where they are.
        mutating func append(_ bytes: UnsafeRawBufferPointer) -> Span {
            precondition(used + bytes.count <= capacity, "RecordBytes.Builder: startRecord(byteCount:) was not called")
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

    /// A key and value copied into a buffer of their own.
    init(key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer) {
        let byteCount = (key?.count ?? 0) + value.count
        var builder = Builder(totalBytes: byteCount)
        builder.startRecord(byteCount: byteCount)
        let keySpan = key.map { builder.append($0) }
        let valueSpan = builder.append(value)
        self.init(storage: builder.storage, key: keySpan, value: valueSpan)
    }
}

extension Optional where Wrapped == [UInt8] {
    /// Calls `body` with the bytes of the array, or `nil` when there is none.
    fileprivate func withUnsafeBytesIfPresent<Result>(_ body: (UnsafeRawBufferPointer?) throws -> Result) rethrows -> Result {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBytes { try body($0) }
    }
}
