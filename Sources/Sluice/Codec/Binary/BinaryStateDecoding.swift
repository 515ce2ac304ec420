/// The `Decoder` handed to values decoded by ``BinaryStateDecoder``: one value of a ``BinaryStateReader``.
struct BinaryStateDecoding: Decoder {
    let reader: BinaryStateReader
    let value: BinaryValue
    /// How deep this value is; its coding path is the reader's first `depth` path components...
    let depth: Int
    /// ...unless it was handed out by `superDecoder` or `nestedContainer`, which outlive the call
    /// that made them and so keep a copy of their path.
    var fixedPath: [any CodingKey]? = nil

    var codingPath: [any CodingKey] { fixedPath ?? Array(reader.path.prefix(depth)) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard value.wireType == .bytes else { throw reader.mismatch(KeyedDecodingContainer<Key>.self, value) }
        return KeyedDecodingContainer(BinaryKeyedDecodingContainer<Key>(reader: reader, region: value, depth: depth, fixedPath: fixedPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard value.wireType == .bytes else { throw reader.mismatch([Any].self, value) }
        return BinaryUnkeyedDecodingContainer(reader: reader, region: value, depth: depth, fixedPath: fixedPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BinarySingleValueDecodingContainer(decoding: self)
    }
}

/// A keyed container of ``BinaryStateDecoding``. Lookups start after the last entry found, so
/// decoding in the order of encoding reads each entry once; any other order still works.
struct BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let reader: BinaryStateReader
    let region: BinaryValue
    let depth: Int
    let fixedPath: [any CodingKey]?

    init(reader: BinaryStateReader, region: BinaryValue, depth: Int, fixedPath: [any CodingKey]?) {
        self.reader = reader
        self.region = region
        self.depth = depth
        self.fixedPath = fixedPath
        while reader.hints.count <= depth { reader.hints.append((0, 0)) }
        reader.hints[depth] = (region.start, region.start)
    }

    var codingPath: [any CodingKey] { fixedPath ?? Array(reader.path.prefix(depth)) }

    var allKeys: [Key] {
        var keys: [Key] = []
        var p = region.start
        while p < region.end, let entry = try? reader.keyedEntry(at: p, limit: region.end) {
            if let key = reader.key(of: entry, as: Key.self) { keys.append(key) }
            p = entry.next
        }
        return keys
    }

    /// The value stored for `key`, or `nil`.
    func find(_ key: Key) throws -> BinaryValue? {
        try find(any: key)
    }

    /// The value stored for `key` of any key type, or `nil`.
    func find(any key: some CodingKey) throws -> BinaryValue? {
        let name = key.stringValue
        let saved = reader.hints[depth]
        let hint = saved.region == region.start ? saved.next : region.start
        var p = hint >= region.start && hint < region.end ? hint : region.start
        var wrapped = false
        while true {
            if p >= region.end {
                if wrapped || hint <= region.start { return nil }
                wrapped = true
                p = region.start
            }
            if wrapped && p >= hint { return nil }
            let entry = try reader.keyedEntry(at: p, limit: region.end)
            if reader.matches(entry, key, name: name) {
                reader.hints[depth] = (region.start, entry.next)
                return entry.value
            }
            p = entry.next
        }
    }

    @inline(__always)
    func require(_ key: Key) throws -> BinaryValue {
        guard let value = try find(key) else { throw reader.missing(key) }
        return value
    }

    /// Runs `body` with `key` appended to the coding path, for error messages.
    @inline(__always)
    func at<T>(_ key: Key, _ body: () throws -> T) throws -> T {
        reader.path.append(key)
        defer { reader.path.removeLast() }
        return try body()
    }

    func contains(_ key: Key) -> Bool { (try? find(key)) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try require(key).wireType == .null }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let v = try require(key)
        return try at(key) { try reader.bool(v) }
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        let v = try require(key)
        return try at(key) { try reader.string(v) }
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        let v = try require(key)
        return try at(key) { try reader.double(v) }
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        let v = try require(key)
        return try at(key) { try reader.float(v) }
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try signed(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try signed(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try signed(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try signed(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try signed(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try unsigned(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try unsigned(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try unsigned(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try unsigned(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try unsigned(key) }

    @inline(__always)
    private func signed<I: FixedWidthInteger & SignedInteger>(_ key: Key) throws -> I {
        let v = try require(key)
        if v.wireType == .varint, v.end - v.start == 1 {
            // One-byte zigzag varint: the common small integer.
            let b = Int64(reader.bytes[v.start])
            if let r = I(exactly: (b >> 1) ^ -(b & 1)) { return r }
        }
        return try at(key) { try reader.signed(v, as: I.self) }
    }

    @inline(__always)
    private func unsigned<I: FixedWidthInteger & UnsignedInteger>(_ key: Key) throws -> I {
        let v = try require(key)
        return try at(key) { try reader.unsigned(v, as: I.self) }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try reader.decode(T.self, from: try require(key), key: key)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = try find(key), v.wireType != .null else { return nil }
        return try reader.decode(T.self, from: v, key: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let v = try find(key), v.wireType != .null else { return nil }
        return try at(key) { try reader.signed(v, as: Int.self) }
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        guard let v = try find(key), v.wireType != .null else { return nil }
        return try at(key) { try reader.signed(v, as: Int64.self) }
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let v = try find(key), v.wireType != .null else { return nil }
        return try at(key) { try reader.double(v) }
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let v = try find(key), v.wireType != .null else { return nil }
        return try at(key) { try reader.string(v) }
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let v = try find(key), v.wireType != .null else { return nil }
        return try at(key) { try reader.bool(v) }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try superDecoder(forKey: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try superDecoder(forKey: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = CodecSuperKey()
        let value = try find(any: key) ?? BinaryValue(wireType: .null, start: region.end, end: region.end)
        return BinaryStateDecoding(reader: reader, value: value, depth: depth + 1, fixedPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        // Like JSONDecoder, a missing key gives a decoder of nil rather than an error.
        let value = try find(key) ?? BinaryValue(wireType: .null, start: region.end, end: region.end)
        // A nested container is used after this call returns, so its path is a copy, not the live stack.
        return BinaryStateDecoding(reader: reader, value: value, depth: depth + 1, fixedPath: codingPath + [key])
    }
}

/// An unkeyed container of ``BinaryStateDecoding``: reads entries in order.
struct BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let reader: BinaryStateReader
    let region: BinaryValue
    let depth: Int
    let fixedPath: [any CodingKey]?
    private var position: Int
    private(set) var currentIndex = 0

    init(reader: BinaryStateReader, region: BinaryValue, depth: Int, fixedPath: [any CodingKey]?) {
        self.reader = reader
        self.region = region
        self.depth = depth
        self.fixedPath = fixedPath
        self.position = region.start
    }

    var codingPath: [any CodingKey] { fixedPath ?? Array(reader.path.prefix(depth)) }

    var count: Int? {
        var n = 0
        var p = region.start
        while p < region.end, let entry = try? reader.entry(at: p, limit: region.end) {
            n += 1
            p = entry.next
        }
        return n
    }

    var isAtEnd: Bool { position >= region.end }

    private mutating func next() throws -> BinaryValue {
        guard position < region.end else {
            throw SluiceError(.decoding, "unexpected end of list at '\(reader.pathDescription)' after \(currentIndex) elements")
        }
        let entry = try reader.entry(at: position, limit: region.end)
        position = entry.next
        currentIndex += 1
        return entry.value
    }

    private mutating func primitive<T>(_ read: (BinaryStateReader, BinaryValue) throws -> T) throws -> T {
        let index = currentIndex
        let value = try next()
        let reader = self.reader
        reader.path.append(BinaryIndexKey(index: index))
        defer { reader.path.removeLast() }
        return try read(reader, value)
    }

    mutating func decodeNil() throws -> Bool {
        guard position < region.end else { return false }
        let entry = try reader.entry(at: position, limit: region.end)
        guard entry.value.wireType == .null else { return false }
        position = entry.next
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try primitive { try $0.bool($1) } }
    mutating func decode(_ type: String.Type) throws -> String { try primitive { try $0.string($1) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try primitive { try $0.double($1) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try primitive { try $0.float($1) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try primitive { try $0.signed($1, as: Int.self) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try primitive { try $0.signed($1, as: Int8.self) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try primitive { try $0.signed($1, as: Int16.self) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try primitive { try $0.signed($1, as: Int32.self) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try primitive { try $0.signed($1, as: Int64.self) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try primitive { try $0.unsigned($1, as: UInt.self) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try primitive { try $0.unsigned($1, as: UInt8.self) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try primitive { try $0.unsigned($1, as: UInt16.self) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try primitive { try $0.unsigned($1, as: UInt32.self) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try primitive { try $0.unsigned($1, as: UInt64.self) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let index = currentIndex
        let value = try next()
        return try reader.decode(T.self, from: value, key: BinaryIndexKey(index: index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try superDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try superDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let index = currentIndex
        let value = try next()
        return BinaryStateDecoding(
            reader: reader, value: value, depth: depth + 1, fixedPath: codingPath + [BinaryIndexKey(index: index)]
        )
    }
}

/// The single-value container of ``BinaryStateDecoding``: the value itself.
struct BinarySingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoding: BinaryStateDecoding
    var codingPath: [any CodingKey] { decoding.codingPath }
    private var reader: BinaryStateReader { decoding.reader }
    private var value: BinaryValue { decoding.value }

    func decodeNil() -> Bool { value.wireType == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try reader.bool(value) }
    func decode(_ type: String.Type) throws -> String { try reader.string(value) }
    func decode(_ type: Double.Type) throws -> Double { try reader.double(value) }
    func decode(_ type: Float.Type) throws -> Float { try reader.float(value) }
    func decode(_ type: Int.Type) throws -> Int { try reader.signed(value, as: Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try reader.signed(value, as: Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try reader.signed(value, as: Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try reader.signed(value, as: Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try reader.signed(value, as: Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try reader.unsigned(value, as: UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.unsigned(value, as: UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.unsigned(value, as: UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.unsigned(value, as: UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.unsigned(value, as: UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let primitive = try reader.primitive(T.self, value) { return primitive }
        // The value takes over this slot, mirroring the encoder.
        return try T(from: decoding)
    }
}
