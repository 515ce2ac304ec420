/// The `Decoder` handed to values decoded by ``FastJSONDecoder``: one token of a ``JSONReader``.
struct JSONDecoding: Decoder {
    // Three words, so that `any Decoder` holds it without a heap allocation.
    // Decoders and containers hold their reader `unowned(unsafe)`, without reference counting:
    // they are only valid during the `FastJSONDecoder.decode` call that made them (which also
    // holds the input bytes only for that long), and that call keeps the reader alive until it
    // returns.
    unowned(unsafe) let reader: JSONReader
    private let token32: Int32
    /// How deep this value is; its coding path is the reader's first `depth` path components...
    private let depth32: Int32
    /// ...unless it was handed out by `superDecoder` or `nestedContainer`, which outlive the call
    /// that made them and so keep a copy of their path.
    var fixedPath: [any CodingKey]? = nil

    var token: Int { Int(token32) }
    var depth: Int { Int(depth32) }

    init(reader: JSONReader, token: Int32, depth: Int32, fixedPath: [any CodingKey]? = nil) {
        self.reader = reader
        self.token32 = token
        self.depth32 = depth
        self.fixedPath = fixedPath
    }

    init(reader: JSONReader, token: Int, depth: Int, fixedPath: [any CodingKey]?) {
        self.init(reader: reader, token: Int32(truncatingIfNeeded: token), depth: Int32(truncatingIfNeeded: depth), fixedPath: fixedPath)
    }

    var codingPath: [any CodingKey] { fixedPath ?? Array(reader.path.prefix(depth)) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        // Through `_withUnsafeGuaranteedRef`: a method call on the `unowned(unsafe)` reader
        // retains and releases it, once per decoded object (about 2 % of a small record's decoding).
        let isObject = Unmanaged.passUnretained(reader)._withUnsafeGuaranteedRef { $0.tokens[token].kind == .object }
        guard isObject else {
            throw reader.mismatch("an object", reader.tokens[token], reader.location())
        }
        // A decoder on the coding path (not one handed out by `superDecoder` or
        // `nestedContainer`) gets a container the reader kept, pointed at this object, if one
        // is free: making one costs an allocation and run-time type lookups per call.
        guard fixedPath == nil else {
            return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(reader: reader, object: token, depth: depth, fixedPath: fixedPath))
        }
        let object = token
        let depth = depth32
        return Unmanaged.passUnretained(reader)._withUnsafeGuaranteedRef { $0.keyedContainer(keyedBy: Key.self, object: object, depth: depth) }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard reader.tokens[token].kind == .array else {
            throw reader.mismatch("an array", reader.tokens[token], reader.location())
        }
        return JSONUnkeyedDecodingContainer(reader: reader, array: token, depth: depth, fixedPath: fixedPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONSingleValueDecodingContainer(decoding: self)
    }
}

/// A keyed container of ``JSONDecoding``: an object whose members are found by comparing key bytes.
struct JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// The reader, unretained as in `JSONDecoding`. The lookups and numbers every field goes
    /// through use it by `_withUnsafeGuaranteedRef`, which spares them a retain and a release.
    let unmanagedReader: Unmanaged<JSONReader>
    /// The object's token, or `-1 - slot` for a container its reader reuses, whose object is
    /// then the reader's `kept.objects[slot]` (see ``JSONKeptKeyedContainers``).
    let objectOrSlot: Int
    let depth: Int
    let fixedPath: [any CodingKey]?

    init(reader: JSONReader, object: Int, depth: Int, fixedPath: [any CodingKey]?) {
        unmanagedReader = Unmanaged.passUnretained(reader)
        self.objectOrSlot = object
        self.depth = depth
        self.fixedPath = fixedPath
    }

    /// A container that reads its object from the reader's slot `slot`, for the reader to keep
    /// (see ``JSONKeptKeyedContainers``).
    init(reader: JSONReader, slot: Int, depth: Int) {
        unmanagedReader = Unmanaged.passUnretained(reader)
        self.objectOrSlot = -1 - slot
        self.depth = depth
        self.fixedPath = nil
    }

    /// The object's token.
    var object: Int {
        @inline(__always) get {
            objectOrSlot >= 0 ? objectOrSlot : unmanagedReader._withUnsafeGuaranteedRef { $0.kept.objects[-1 - objectOrSlot] }
        }
    }

    var reader: JSONReader { unmanagedReader.takeUnretainedValue() }

    var codingPath: [any CodingKey] { fixedPath ?? Array(reader.path.prefix(depth)) }

    var allKeys: [Key] { reader.keys(of: object).compactMap { Key(stringValue: $0) } }

    @inline(__always)
    func find(_ key: Key) -> Int? {
        var name = key.stringValue
        return unmanagedReader._withUnsafeGuaranteedRef { $0.member(named: &name, in: object) }
    }

    @inline(__always)
    func require(_ key: Key) throws -> Int {
        guard let t = find(key) else {
            let parent = reader.path.isEmpty ? "" : " in \(reader.location())"
            throw SluiceError(.decoding, "missing field '\(key.stringValue)'\(parent)")
        }
        return t
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { reader.tokens[try require(key)].kind == .null }

    // Numbers first try the plain case (an integer without fraction or exponent, a number
    // `fastDouble` converts), which needs no key; the full path builds the error messages.

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try reader.bool(try require(key), at: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try reader.string(try require(key), at: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try double(try require(key), key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try reader.float(try require(key), at: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { Int(try int64(try require(key), key, reporting: Int.self)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try int64(try require(key), key, reporting: Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

    @inline(__always)
    private func integer<I: FixedWidthInteger>(_ key: Key) throws -> I {
        let t = try require(key)
        if let v = unmanagedReader._withUnsafeGuaranteedRef({ $0.plainInteger(t) }), let i = I(exactly: v) { return i }
        return try reader.integer(t, as: I.self, at: key)
    }

    @inline(__always)
    private func int64(_ t: Int, _ key: Key, reporting type: Any.Type) throws -> Int64 {
        if let v = unmanagedReader._withUnsafeGuaranteedRef({ $0.plainInteger(t) }) { return v }
        return try reader.int64(t, at: key, reporting: type)
    }

    @inline(__always)
    private func double(_ t: Int, _ key: Key) throws -> Double {
        if let d = unmanagedReader._withUnsafeGuaranteedRef({ $0.plainDouble(t) }) { return d }
        return try reader.double(t, at: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try reader.decode(T.self, from: try require(key), key: key)
    }

    /// The member for `key` unless it is absent or null.
    @inline(__always)
    private func present(_ key: Key) -> Int? {
        guard let t = find(key), reader.tokens[t].kind != .null else { return nil }
        return t
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let t = present(key) else { return nil }
        return try reader.decode(T.self, from: t, key: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let t = present(key) else { return nil }
        return Int(try int64(t, key, reporting: Int.self))
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        guard let t = present(key) else { return nil }
        return try int64(t, key, reporting: Int64.self)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let t = present(key) else { return nil }
        return try double(t, key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let t = present(key) else { return nil }
        return try reader.string(t, at: key)
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let t = present(key) else { return nil }
        return try reader.bool(t, at: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let t = try require(key)
        return try JSONDecoding(reader: reader, token: t, depth: depth + 1, fixedPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let t = try require(key)
        return try JSONDecoding(reader: reader, token: t, depth: depth + 1, fixedPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        try slotDecoder(forKey: CodecSuperKey())
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try slotDecoder(forKey: key)
    }

    private func slotDecoder(forKey key: some CodingKey) throws -> any Decoder {
        var name = key.stringValue
        guard let t = reader.member(named: &name, in: object) else {
            // Like JSONDecoder: a missing key decodes as null. Point at the object's last token if
            // there is no member; a token after the document would be out of bounds.
            return JSONNullDecoder(codingPath: codingPath + [key])
        }
        return JSONDecoding(reader: reader, token: t, depth: depth + 1, fixedPath: codingPath + [key])
    }
}

/// The index of an element of an array, as a coding path component.
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// An unkeyed container of ``JSONDecoding``: an array, read in order.
struct JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    unowned(unsafe) let reader: JSONReader  // as in `JSONDecoding`
    let array: Int
    let depth: Int
    let fixedPath: [any CodingKey]?
    private var position: Int
    private(set) var currentIndex = 0

    init(reader: JSONReader, array: Int, depth: Int, fixedPath: [any CodingKey]?) {
        self.reader = reader
        self.array = array
        self.depth = depth
        self.fixedPath = fixedPath
        self.position = array + 1
    }

    var codingPath: [any CodingKey] { fixedPath ?? Array(reader.path.prefix(depth)) }
    var count: Int? { Int(reader.tokens[array].end) }
    var isAtEnd: Bool { currentIndex >= Int(reader.tokens[array].end) }

    private mutating func next() throws -> Int {
        guard !isAtEnd else {
            throw SluiceError(.decoding, "unexpected end of array \(reader.location()) after \(currentIndex) elements")
        }
        let t = position
        position = Int(reader.tokens[t].next)
        currentIndex += 1
        return t
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, reader.tokens[position].kind == .null else { return false }
        _ = try next()
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let l = JSONIndexKey(index: currentIndex); return try reader.bool(try next(), at: l) }
    mutating func decode(_ type: String.Type) throws -> String { let l = JSONIndexKey(index: currentIndex); return try reader.string(try next(), at: l) }
    mutating func decode(_ type: Double.Type) throws -> Double { let l = JSONIndexKey(index: currentIndex); return try reader.double(try next(), at: l) }
    mutating func decode(_ type: Float.Type) throws -> Float { let l = JSONIndexKey(index: currentIndex); return try reader.float(try next(), at: l) }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    private mutating func integer<I: FixedWidthInteger>() throws -> I {
        let index = currentIndex
        let t = try next()
        return try reader.integer(t, as: I.self, at: JSONIndexKey(index: index))
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let index = currentIndex
        let t = try next()
        return try reader.decode(T.self, from: t, key: JSONIndexKey(index: index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try superDecoder().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try superDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let index = currentIndex
        let t = try next()
        return JSONDecoding(reader: reader, token: t, depth: depth + 1, fixedPath: codingPath + [JSONIndexKey(index: index)])
    }
}

/// The single-value container of ``JSONDecoding``: the value itself.
struct JSONSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoding: JSONDecoding
    var codingPath: [any CodingKey] { decoding.codingPath }
    private var reader: JSONReader { decoding.reader }
    private var t: Int { decoding.token }

    func decodeNil() -> Bool { reader.tokens[t].kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try reader.bool(t, at: nil) }
    func decode(_ type: String.Type) throws -> String { try reader.string(t, at: nil) }
    func decode(_ type: Double.Type) throws -> Double { try reader.double(t, at: nil) }
    func decode(_ type: Float.Type) throws -> Float { try reader.float(t, at: nil) }
    func decode(_ type: Int.Type) throws -> Int { try reader.integer(t, as: Int.self, at: nil) }
    func decode(_ type: Int8.Type) throws -> Int8 { try reader.integer(t, as: Int8.self, at: nil) }
    func decode(_ type: Int16.Type) throws -> Int16 { try reader.integer(t, as: Int16.self, at: nil) }
    func decode(_ type: Int32.Type) throws -> Int32 { try reader.integer(t, as: Int32.self, at: nil) }
    func decode(_ type: Int64.Type) throws -> Int64 { try reader.integer(t, as: Int64.self, at: nil) }
    func decode(_ type: UInt.Type) throws -> UInt { try reader.integer(t, as: UInt.self, at: nil) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.integer(t, as: UInt8.self, at: nil) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.integer(t, as: UInt16.self, at: nil) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.integer(t, as: UInt32.self, at: nil) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.integer(t, as: UInt64.self, at: nil) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if JSONWriter.isPrimitive(T.self) { return try reader.primitive(T.self, t, at: nil) }
        return try T(from: decoding)
    }
}
