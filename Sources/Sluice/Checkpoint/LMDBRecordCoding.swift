/// Appends the fixed binary records of the LMDB checkpoint schema to a byte buffer.
///
/// Integers in keys are big-endian, signed ones with the sign bit flipped, so that
/// LMDB's bytewise key order is their numeric order. Lengths in values are LEB128 varints.
struct LMDBRecordWriter {
    var bytes: [UInt8]

    init(capacity: Int = 32) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity for the next record.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func append(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func append(bigEndian value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(bigEndian value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// An `Int32` whose encoding sorts like the number.
    mutating func append(ordered value: Int32) {
        append(bigEndian: UInt32(bitPattern: value) ^ 0x8000_0000)
    }

    /// An `Int64` whose encoding sorts like the number.
    mutating func append(ordered value: Int64) {
        append(bigEndian: UInt64(bitPattern: value) ^ 0x8000_0000_0000_0000)
    }

    mutating func append(varint value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A length-prefixed byte string.
    mutating func append(lengthPrefixed value: some Collection<UInt8>) {
        append(varint: UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A length-prefixed UTF-8 string.
    mutating func append(string: String) {
        append(lengthPrefixed: string.utf8)
    }

    mutating func append(contentsOf value: some Sequence<UInt8>) {
        bytes.append(contentsOf: value)
    }
}

/// Reads what ``LMDBRecordWriter`` wrote, throwing on truncated or malformed input.
struct LMDBRecordReader {
    private let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0
    /// What is being decoded, for error messages.
    let what: String

    init(_ buffer: UnsafeRawBufferPointer, decoding what: String) {
        self.buffer = buffer
        self.what = what
    }

    var isAtEnd: Bool { offset == buffer.count }
    var remaining: Int { buffer.count - offset }

    func corrupted(_ detail: String) -> LMDBCheckpointStoreError {
        LMDBCheckpointStoreError(
            code: .corruptedRecord,
            message: "A stored \(what) could not be decoded (\(detail), at byte \(offset) of \(buffer.count)). "
                + "The state directory is damaged; restore it from a backup or rebuild it.")
    }

    private mutating func take(_ count: Int) throws(LMDBCheckpointStoreError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw corrupted("needs \(count) more bytes") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset ..< offset + count])
    }

    mutating func readByte() throws(LMDBCheckpointStoreError) -> UInt8 {
        try take(1)[0]
    }

    mutating func readUInt32() throws(LMDBCheckpointStoreError) -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readUInt64() throws(LMDBCheckpointStoreError) -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func readOrderedInt32() throws(LMDBCheckpointStoreError) -> Int32 {
        Int32(bitPattern: try readUInt32() ^ 0x8000_0000)
    }

    mutating func readOrderedInt64() throws(LMDBCheckpointStoreError) -> Int64 {
        Int64(bitPattern: try readUInt64() ^ 0x8000_0000_0000_0000)
    }

    mutating func readVarint() throws(LMDBCheckpointStoreError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw corrupted("varint too long") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    mutating func readBytes(count: Int) throws(LMDBCheckpointStoreError) -> [UInt8] {
        Array(try take(count))
    }

    mutating func readLengthPrefixed() throws(LMDBCheckpointStoreError) -> [UInt8] {
        let count = try readVarint()
        guard count <= UInt64(remaining) else { throw corrupted("length \(count) exceeds the record") }
        return try readBytes(count: Int(count))
    }

    mutating func readString() throws(LMDBCheckpointStoreError) -> String {
        String(decoding: try readLengthPrefixed(), as: UTF8.self)
    }

    mutating func readRest() -> [UInt8] {
        defer { offset = buffer.count }
        return Array(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
    }

    func expectEnd() throws(LMDBCheckpointStoreError) {
        guard isAtEnd else { throw corrupted("\(remaining) unexpected trailing bytes") }
    }
}
