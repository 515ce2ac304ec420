/// One input record as the engine sees it, whatever its source.
///
/// Its key and value bytes may live in a buffer that the records of one poll share (copying a
/// polled batch out of librdkafka is one allocation, not two per record). Reading ``key`` or
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
        // @unchecked: the bytes at `base` are written before the storage is made (by
        // `InputBatch.Builder` or `RecordBytes.init(key:value:)`), then only read; they are
        // freed when the last record or batch holding the storage goes away.
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
        let keyCount = key?.count ?? 0
        precondition(keyCount + value.count <= Int(Int32.max), "a record of \(keyCount + value.count) bytes is larger than the 2 GiB a record may have")
        let base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(keyCount + value.count, 1), alignment: 16)
        if let source = key?.baseAddress, keyCount > 0 { base.copyMemory(from: source, byteCount: keyCount) }
        if let source = value.baseAddress, !value.isEmpty { (base + keyCount).copyMemory(from: source, byteCount: value.count) }
        self.init(
            storage: Storage(base: base), key: key.map { _ in Span(start: 0, count: Int32(keyCount)) },
            value: Span(start: Int32(keyCount), count: Int32(value.count)))
    }
}

extension Optional where Wrapped == [UInt8] {
    /// Calls `body` with the bytes of the array, or `nil` when there is none.
    fileprivate func withUnsafeBytesIfPresent<Result>(_ body: (UnsafeRawBufferPointer?) throws -> Result) rethrows -> Result {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBytes { try body($0) }
    }
}
