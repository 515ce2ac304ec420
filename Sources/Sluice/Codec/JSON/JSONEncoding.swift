/// The `Encoder` handed to values encoded by ``FastJSONEncoder``: one slot of a ``JSONWriter``.
struct JSONEncoding: Encoder {
    let writer: JSONWriter
    let slotID: Int
    let slotIndex: Int

    var codingPath: [any CodingKey] { writer.slots[...min(slotIndex, writer.slots.count - 1)].compactMap(\.key) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // A failure (the slot was closed or holds another kind of value) resurfaces on the first write.
        try? writer.openObject(id: slotID, index: slotIndex)
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(encoding: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        try? writer.openArray(id: slotID, index: slotIndex)
        return JSONUnkeyedEncodingContainer(encoding: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueEncodingContainer(encoding: self)
    }
}

/// A keyed container of ``JSONEncoding``: members written in the order they are encoded.
struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoding: JSONEncoding
    var codingPath: [any CodingKey] { encoding.codingPath }
    private var writer: JSONWriter { encoding.writer }

    @inline(__always)
    private func begin(_ key: Key) throws -> JSONWriter {
        try encoding.writer.beginMember(id: encoding.slotID, index: encoding.slotIndex, key: key)
        return encoding.writer
    }

    mutating func encodeNil(forKey key: Key) throws { try begin(key).appendNull() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try begin(key).appendBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try begin(key).appendString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try begin(key).appendDouble(value, at: encoding.slotIndex) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try begin(key).appendFloat(value, at: encoding.slotIndex) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try begin(key).appendInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try begin(key).appendInteger(value) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let writer = try begin(key)
        if try !writer.appendPrimitive(value, at: encoding.slotIndex) {
            try writer.encodeNested(value, key: key)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        superEncoder(forKey: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        superEncoder(forKey: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        slotEncoder(forKey: CodecSuperKey())
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        slotEncoder(forKey: key)
    }

    private func slotEncoder(forKey key: some CodingKey) -> any Encoder {
        // If the member cannot be started, the returned encoder's first write reports it.
        try? encoding.writer.beginMember(id: encoding.slotID, index: encoding.slotIndex, key: key)
        let (id, index) = writer.pushSlot(key: key)
        return JSONEncoding(writer: writer, slotID: id, slotIndex: index)
    }
}

/// An unkeyed container of ``JSONEncoding``: an array.
struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoding: JSONEncoding
    private(set) var count = 0
    var codingPath: [any CodingKey] { encoding.codingPath }

    init(encoding: JSONEncoding) {
        self.encoding = encoding
    }

    @inline(__always)
    private mutating func begin() throws -> JSONWriter {
        try encoding.writer.beginElement(id: encoding.slotID, index: encoding.slotIndex)
        count += 1
        return encoding.writer
    }

    mutating func encodeNil() throws { try begin().appendNull() }
    mutating func encode(_ value: Bool) throws { try begin().appendBool(value) }
    mutating func encode(_ value: String) throws { try begin().appendString(value) }
    mutating func encode(_ value: Double) throws { try begin().appendDouble(value, at: encoding.slotIndex) }
    mutating func encode(_ value: Float) throws { try begin().appendFloat(value, at: encoding.slotIndex) }
    mutating func encode(_ value: Int) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int8) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int16) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int32) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int64) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt8) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt16) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt32) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt64) throws { try begin().appendInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        let writer = try begin()
        if try !writer.appendPrimitive(value, at: encoding.slotIndex) {
            try writer.encodeNested(value, key: JSONIndexKey(index: index))
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        superEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        superEncoder().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let index = count
        let writer = encoding.writer
        _ = try? begin()
        let (id, slot) = writer.pushSlot(key: JSONIndexKey(index: index))
        return JSONEncoding(writer: writer, slotID: id, slotIndex: slot)
    }
}

/// The single-value container of ``JSONEncoding``: the slot's value itself.
struct JSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoding: JSONEncoding
    var codingPath: [any CodingKey] { encoding.codingPath }

    private func begin() throws -> JSONWriter {
        try encoding.writer.beginSingleValue(id: encoding.slotID, index: encoding.slotIndex)
        return encoding.writer
    }

    mutating func encodeNil() throws { try begin().appendNull() }
    mutating func encode(_ value: Bool) throws { try begin().appendBool(value) }
    mutating func encode(_ value: String) throws { try begin().appendString(value) }
    mutating func encode(_ value: Double) throws { try begin().appendDouble(value, at: encoding.slotIndex) }
    mutating func encode(_ value: Float) throws { try begin().appendFloat(value, at: encoding.slotIndex) }
    mutating func encode(_ value: Int) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int8) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int16) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int32) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: Int64) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt8) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt16) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt32) throws { try begin().appendInteger(value) }
    mutating func encode(_ value: UInt64) throws { try begin().appendInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if JSONWriter.isPrimitive(T.self) {
            _ = try begin().appendPrimitive(value, at: encoding.slotIndex)
        } else {
            try value.encode(to: encoding)
        }
    }
}
