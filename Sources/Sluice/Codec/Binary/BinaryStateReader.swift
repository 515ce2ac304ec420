/// One value inside a binary state document: its wire type and where its bytes are.
///
/// For `.bytes`, `start..<end` is the content after the length prefix.
struct BinaryValue {
    var wireType: BinaryWireType
    var start: Int
    var end: Int
}

/// One entry of a container: its key (table index or integer) and value, and where the next entry starts.
struct BinaryEntry {
    /// 1-based index into the key table, or 0 for an integer key (or no key, in unkeyed containers).
    var field: Int
    var intKey: Int64
    var value: BinaryValue
    var next: Int
}

/// The state of one decoding run of ``BinaryStateDecoder``: the bytes, the key table, the current
/// coding path and lookup hints for keyed containers.
///
/// Stored properties skip run-time exclusivity checks (`@exclusivity(unchecked)`), which cost more
/// than the work on small values: one run uses the object on one thread, and no property is read
/// while a mutation of it is in progress.
final class BinaryStateReader {
    let bytes: UnsafeRawBufferPointer
    /// The document's own key names.
    @exclusivity(unchecked) private(set) var keys: [String] = []
    /// Version 2: the key table's names (odd fields refer to them, even fields to ``keys``).
    @exclusivity(unchecked) private(set) var tableKeys: [String] = []
    @exclusivity(unchecked) private(set) var refersToTable = false
    @exclusivity(unchecked) var path: [any CodingKey] = []
    /// Per depth, where the entry after the last one found by key starts: keyed lookups try there first.
    /// Entries are identified by their container's start, so a stale hint is never used for another container.
    @exclusivity(unchecked) var hints: [(region: Int, next: Int)] = []

    /// The names that version 2 documents refer to.
    let keyTable: BinaryStateKeyTable?

    init(bytes: UnsafeRawBufferPointer, keyTable: BinaryStateKeyTable? = nil) {
        self.bytes = bytes
        self.keyTable = keyTable
    }

    // MARK: Document

    /// Reads the header and key table and returns the root value.
    func readDocument() throws -> BinaryValue {
        guard !bytes.isEmpty else { throw corrupt("the state is empty") }
        var p = 1
        switch bytes[0] {
        case BinaryWireType.formatVersion:
            try readKeyTable(at: &p)
        case BinaryWireType.sharedKeysFormatVersion:
            guard let keyTable else {
                throw SluiceError(
                    .decoding,
                    "state format version 2 names its keys in a shared key table; decode it with a BinaryStateDecoder "
                        + "made with the key table of the store that holds it (CheckpointStore.stateKeyTable)")
            }
            tableKeys = keyTable.allNames
            refersToTable = true
            try readKeyTable(at: &p)
        default:
            throw corrupt(
                "unknown state format version \(bytes[0]) (this build reads versions \(BinaryWireType.formatVersion) "
                    + "and \(BinaryWireType.sharedKeysFormatVersion))")
        }
        let root = try entry(at: p, limit: bytes.count)
        guard root.field == 0 else { throw corrupt("root value has a key at byte \(p)") }
        guard root.next == bytes.count else {
            throw corrupt("\(bytes.count - root.next) unexpected bytes after the root value at byte \(root.next)")
        }
        return root.value
    }

    /// Reads the document's own key table, which starts at `p`.
    private func readKeyTable(at p: inout Int) throws {
        let count = try varint(at: &p, limit: bytes.count)
        guard count <= UInt64(bytes.count) else { throw corrupt("key table claims \(count) keys in \(bytes.count) bytes") }
        keys.reserveCapacity(Int(count))
        for _ in 0..<count {
            let encodedLength = try varint(at: &p, limit: bytes.count)
            guard encodedLength <= UInt64(bytes.count - p) else { throw truncated(at: p) }
            let length = Int(encodedLength)
            guard let key = String(validating: UnsafeRawBufferPointer(rebasing: bytes[p..<p + length]), as: UTF8.self) else {
                throw corrupt("key name at byte \(p) is not valid UTF-8")
            }
            keys.append(key)
            p += length
        }
    }

    // MARK: Bytes

    @inline(__always)
    func varint(at p: inout Int, limit: Int) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard p < limit else { throw truncated(at: p) }
            let byte = bytes[p]
            p += 1
            if shift == 63 && byte > 1 { throw corrupt("varint at byte \(p - 1) overflows 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw corrupt("varint at byte \(p - 1) overflows 64 bits") }
        }
    }

    /// Reads the entry starting at `p`.
    @inline(__always)
    func entry(at start: Int, limit: Int) throws -> BinaryEntry {
        var p = start
        let header = try varint(at: &p, limit: limit)
        guard let wireType = BinaryWireType(rawValue: UInt8(header & 7)) else {
            throw corrupt("unknown wire type \(header & 7) at byte \(start)")
        }
        let field = Int(truncatingIfNeeded: header >> 3)
        if !isKnown(field) { throw keyOutsideTable(field, at: start) }
        let valueStart = p
        var value = BinaryValue(wireType: wireType, start: valueStart, end: valueStart)
        switch wireType {
        case .varint:
            _ = try varint(at: &p, limit: limit)
            value.end = p
        case .fixed64:
            guard limit - p >= 8 else { throw truncated(at: p) }
            p += 8
            value.end = p
        case .fixed32:
            guard limit - p >= 4 else { throw truncated(at: p) }
            p += 4
            value.end = p
        case .bytes:
            let length = try varint(at: &p, limit: limit)
            guard length <= UInt64(limit - p) else { throw truncated(at: p) }
            value.start = p
            p += Int(length)
            value.end = p
        case .null:
            break
        }
        return BinaryEntry(field: field, intKey: 0, value: value, next: p)
    }

    /// Reads a keyed entry at `p`: like ``entry(at:limit:)`` but an entry with field 0 has its integer key after the header.
    @inline(__always)
    func keyedEntry(at start: Int, limit: Int) throws -> BinaryEntry {
        var p = start
        let first = bytes[p]
        if first >> 3 == 0 && first < 0x80 {
            // Integer key: header byte, zigzag key, value.
            p += 1
            let zigzag = try varint(at: &p, limit: limit)
            let key = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
            // Re-read as an unkeyed entry whose header is the first byte.
            var e = try entry(at: p - 1, limit: limit, headerByte: first)
            e.intKey = key
            return e
        }
        return try entry(at: start, limit: limit)
    }

    /// Reads an entry whose one-byte header has been taken out of the stream; `p + 1` is where its value starts.
    private func entry(at p: Int, limit: Int, headerByte: UInt8) throws -> BinaryEntry {
        guard let wireType = BinaryWireType(rawValue: headerByte & 7) else {
            throw corrupt("unknown wire type \(headerByte & 7) at byte \(p)")
        }
        var q = p + 1
        var value = BinaryValue(wireType: wireType, start: q, end: q)
        switch wireType {
        case .varint:
            _ = try varint(at: &q, limit: limit)
        case .fixed64:
            guard limit - q >= 8 else { throw truncated(at: q) }
            q += 8
        case .fixed32:
            guard limit - q >= 4 else { throw truncated(at: q) }
            q += 4
        case .bytes:
            let length = try varint(at: &q, limit: limit)
            guard length <= UInt64(limit - q) else { throw truncated(at: q) }
            value.start = q
            q += Int(length)
        case .null:
            break
        }
        value.end = q
        return BinaryEntry(field: 0, intKey: 0, value: value, next: q)
    }

    // MARK: Keys

    /// Whether a field (at least 1) names a key of the document's or the key table's.
    @inline(__always)
    func isKnown(_ field: Int) -> Bool {
        guard refersToTable else { return field <= keys.count }
        return field & 1 == 1 ? field >> 1 < tableKeys.count : (field >> 1) - 1 < keys.count
    }

    /// The key name of a field that ``isKnown(_:)``.
    @inline(__always)
    func name(ofField field: Int) -> String {
        guard refersToTable else { return keys[field - 1] }
        return field & 1 == 1 ? tableKeys[field >> 1] : keys[(field >> 1) - 1]
    }

    @inline(__always)
    func matches(_ entry: BinaryEntry, _ key: some CodingKey, name: String) -> Bool {
        if entry.field > 0 { return self.name(ofField: entry.field) == name }
        if let int = key.intValue { return Int64(exactly: int) == entry.intKey }
        return name == String(entry.intKey)
    }

    func key<Key: CodingKey>(of entry: BinaryEntry, as type: Key.Type) -> Key? {
        if entry.field > 0 { return Key(stringValue: name(ofField: entry.field)) }
        if let int = Int(exactly: entry.intKey), let key = Key(intValue: int) { return key }
        return Key(stringValue: String(entry.intKey))
    }

    // MARK: Primitives

    func signed<I: FixedWidthInteger & SignedInteger>(_ value: BinaryValue, as type: I.Type) throws -> I {
        guard value.wireType == .varint else { throw mismatch(I.self, value) }
        var p = value.start
        let zigzag = try varint(at: &p, limit: value.end)
        let v = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
        guard let result = I(exactly: v) else { throw corrupt("\(v) at '\(pathDescription)' does not fit in \(I.self)") }
        return result
    }

    func unsigned<I: FixedWidthInteger & UnsignedInteger>(_ value: BinaryValue, as type: I.Type) throws -> I {
        guard value.wireType == .varint else { throw mismatch(I.self, value) }
        var p = value.start
        let v = try varint(at: &p, limit: value.end)
        guard let result = I(exactly: v) else { throw corrupt("\(v) at '\(pathDescription)' does not fit in \(I.self)") }
        return result
    }

    func bool(_ value: BinaryValue) throws -> Bool {
        guard value.wireType == .varint, value.end == value.start + 1, bytes[value.start] <= 1 else {
            throw mismatch(Bool.self, value)
        }
        return bytes[value.start] == 1
    }

    func double(_ value: BinaryValue) throws -> Double {
        guard value.wireType == .fixed64 else { throw mismatch(Double.self, value) }
        return Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: value.start, as: UInt64.self)))
    }

    func float(_ value: BinaryValue) throws -> Float {
        guard value.wireType == .fixed32 else { throw mismatch(Float.self, value) }
        return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: value.start, as: UInt32.self)))
    }

    func string(_ value: BinaryValue) throws -> String {
        guard value.wireType == .bytes else { throw mismatch(String.self, value) }
        guard let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[value.start..<value.end]), as: UTF8.self) else {
            throw corrupt("string at '\(pathDescription)' (byte \(value.start)) is not valid UTF-8")
        }
        return s
    }

    /// Decodes a primitive `T` if it is one; `nil` if `T` is not a primitive type.
    @inline(__always)
    func primitive<T>(_ type: T.Type, _ value: BinaryValue) throws -> T? {
        if T.self == Int.self { return unsafeBitCast(try signed(value, as: Int.self), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try signed(value, as: Int64.self), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(value), to: T.self) }
        if T.self == String.self { return unsafeBitCast(try string(value), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(value), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try signed(value, as: Int32.self), to: T.self) }
        if T.self == Int16.self { return unsafeBitCast(try signed(value, as: Int16.self), to: T.self) }
        if T.self == Int8.self { return unsafeBitCast(try signed(value, as: Int8.self), to: T.self) }
        if T.self == UInt.self { return unsafeBitCast(try unsigned(value, as: UInt.self), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try unsigned(value, as: UInt64.self), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try unsigned(value, as: UInt32.self), to: T.self) }
        if T.self == UInt16.self { return unsafeBitCast(try unsigned(value, as: UInt16.self), to: T.self) }
        if T.self == UInt8.self { return unsafeBitCast(try unsigned(value, as: UInt8.self), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(try float(value), to: T.self) }
        return nil
    }

    /// Decodes `T` from `value`, entering `key` in the coding path while it does.
    func decode<T: Decodable>(_ type: T.Type, from value: BinaryValue, key: (any CodingKey)?) throws -> T {
        if let primitive = try primitive(T.self, value) { return primitive }
        if let key { path.append(key) }
        defer { if key != nil { path.removeLast() } }
        return try T(from: BinaryStateDecoding(reader: self, value: value, depth: path.count))
    }

    // MARK: Errors

    var pathDescription: String {
        path.isEmpty ? "<root>" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    func corrupt(_ message: String) -> SluiceError {
        SluiceError(.decoding, "state is corrupt or from another layout: \(message)")
    }

    func keyOutsideTable(_ field: Int, at p: Int) -> SluiceError {
        if refersToTable && field & 1 == 1 {
            return corrupt(
                "key index \(field >> 1) at byte \(p) is outside the shared key table (\(tableKeys.count) names): the "
                    + "table was not saved with the state, or belongs to another store")
        }
        if refersToTable {
            return corrupt("document key \((field >> 1) - 1) at byte \(p) is outside the document's key table")
        }
        return corrupt("key index \(field) at byte \(p) is outside the key table")
    }

    func truncated(at p: Int) -> SluiceError {
        SluiceError(.decoding, "state is truncated: needed more than \(bytes.count) bytes (at byte \(p), '\(pathDescription)')")
    }

    func mismatch(_ expected: Any.Type, _ value: BinaryValue) -> SluiceError {
        SluiceError(.decoding, "expected \(expected) at '\(pathDescription)' (byte \(value.start)), found \(value.wireType.name)")
    }

    func missing(_ key: some CodingKey) -> SluiceError {
        let where_ = path.isEmpty ? "" : " in '\(pathDescription)'"
        return SluiceError(.decoding, "missing field '\(key.stringValue)'\(where_)")
    }
}
