/// The `Encoder` handed to values encoded by ``BinaryStateEncoder``: one slot of a ``BinaryStateWriter``.
struct BinaryStateEncoding: Encoder {
    let writer: BinaryStateWriter
    let slotID: Int
    let slotIndex: Int

    var codingPath: [any CodingKey] { writer.codingPath(upTo: slotIndex) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(BinaryKeyedEncodingContainer<Key>(encoding: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        BinaryUnkeyedEncodingContainer(encoding: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BinarySingleValueEncodingContainer(encoding: self)
    }
}

/// Writes the header for a primitive entry and its value; shared by the keyed and unkeyed containers.
protocol BinaryEntryWriting {
    var encoding: BinaryStateEncoding { get }
    /// Makes this container's slot current and writes the header of the next entry.
    mutating func beginEntry(_ wireType: BinaryWireType) throws
}

extension BinaryEntryWriting {
    @inline(__always) mutating func put<I: FixedWidthInteger & SignedInteger>(signed value: I) throws {
        try beginEntry(.varint)
        encoding.writer.body.appendZigzag(Int64(value))
    }
    @inline(__always) mutating func put<I: FixedWidthInteger & UnsignedInteger>(unsigned value: I) throws {
        try beginEntry(.varint)
        encoding.writer.body.appendVarint(UInt64(value))
    }
    @inline(__always) mutating func put(_ value: Bool) throws {
        try beginEntry(.varint)
        encoding.writer.body.append(value ? 1 : 0)
    }
    @inline(__always) mutating func put(_ value: Double) throws {
        try beginEntry(.fixed64)
        encoding.writer.appendDouble(value)
    }
    @inline(__always) mutating func put(_ value: Float) throws {
        try beginEntry(.fixed32)
        encoding.writer.appendFloat(value)
    }
    @inline(__always) mutating func put(_ value: String) throws {
        try beginEntry(.bytes)
        encoding.writer.appendString(value)
    }
}

/// A keyed container of ``BinaryStateEncoding``: entries with key-table or integer keys.
struct BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoding: BinaryStateEncoding

    init(encoding: BinaryStateEncoding) {
        self.encoding = encoding
        // A failure here (the slot already holds a single value, or was closed) resurfaces on the first write.
        try? encoding.writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
    }

    var codingPath: [any CodingKey] { encoding.codingPath }

    /// Makes this container's slot current and writes the header of an entry for `key`.
    @inline(__always)
    private func entry(_ key: Key, _ wireType: BinaryWireType) throws -> BinaryStateWriter {
        let writer = encoding.writer
        try writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
        writer.writeHeader(key: key, wireType: wireType)
        return writer
    }

    mutating func encodeNil(forKey key: Key) throws { _ = try entry(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try entry(key, .varint).body.append(value ? 1 : 0) }
    mutating func encode(_ value: String, forKey key: Key) throws { try entry(key, .bytes).appendString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try entry(key, .fixed64).appendDouble(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try entry(key, .fixed32).appendFloat(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try entry(key, .varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try entry(key, .varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try entry(key, .varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try entry(key, .varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try entry(key, .varint).body.appendZigzag(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try entry(key, .varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try entry(key, .varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try entry(key, .varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try entry(key, .varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try entry(key, .varint).body.appendVarint(value) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let writer = encoding.writer
        try writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
        try writer.writeMember(value, key: key)
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
        let writer = encoding.writer
        // If the slot cannot be written, the returned encoder's first write reports it.
        try? writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
        let headerAt = writer.body.count
        writer.writeHeader(key: key, wireType: .varint)
        let (id, index) = writer.pushSlot(headerAt: headerAt, key: key)
        return BinaryStateEncoding(writer: writer, slotID: id, slotIndex: index)
    }
}

/// The index of an element of an unkeyed container, as a coding path component.
struct BinaryIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// An unkeyed container of ``BinaryStateEncoding``: a run of entries without keys.
struct BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer, BinaryEntryWriting {
    let encoding: BinaryStateEncoding
    private(set) var count = 0

    init(encoding: BinaryStateEncoding) {
        self.encoding = encoding
        try? encoding.writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
    }

    var codingPath: [any CodingKey] { encoding.codingPath }

    @inline(__always) mutating func beginEntry(_ wireType: BinaryWireType) throws {
        try encoding.writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
        encoding.writer.writeHeader(wireType: wireType)
        count += 1
    }

    mutating func encodeNil() throws { try beginEntry(.null) }
    mutating func encode(_ value: Bool) throws { try put(value) }
    mutating func encode(_ value: String) throws { try put(value) }
    mutating func encode(_ value: Double) throws { try put(value) }
    mutating func encode(_ value: Float) throws { try put(value) }
    mutating func encode(_ value: Int) throws { try put(signed: value) }
    mutating func encode(_ value: Int8) throws { try put(signed: value) }
    mutating func encode(_ value: Int16) throws { try put(signed: value) }
    mutating func encode(_ value: Int32) throws { try put(signed: value) }
    mutating func encode(_ value: Int64) throws { try put(signed: value) }
    mutating func encode(_ value: UInt) throws { try put(unsigned: value) }
    mutating func encode(_ value: UInt8) throws { try put(unsigned: value) }
    mutating func encode(_ value: UInt16) throws { try put(unsigned: value) }
    mutating func encode(_ value: UInt32) throws { try put(unsigned: value) }
    mutating func encode(_ value: UInt64) throws { try put(unsigned: value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let writer = encoding.writer
        try writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
        try writer.writeElement(value, index: count)
        count += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        superEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        superEncoder().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let writer = encoding.writer
        try? writer.openContainer(id: encoding.slotID, index: encoding.slotIndex)
        let headerAt = writer.body.count
        writer.writeHeader(wireType: .varint)
        let (id, index) = writer.pushSlot(headerAt: headerAt, key: BinaryIndexKey(index: count))
        count += 1
        return BinaryStateEncoding(writer: writer, slotID: id, slotIndex: index)
    }
}

/// The single-value container of ``BinaryStateEncoding``: the slot's value itself.
struct BinarySingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoding: BinaryStateEncoding
    var codingPath: [any CodingKey] { encoding.codingPath }

    private func begin(_ wireType: BinaryWireType) throws -> BinaryStateWriter {
        try encoding.writer.openPrimitive(id: encoding.slotID, index: encoding.slotIndex, wireType: wireType)
        return encoding.writer
    }

    mutating func encodeNil() throws { _ = try begin(.null) }
    mutating func encode(_ value: Bool) throws { try begin(.varint).body.append(value ? 1 : 0) }
    mutating func encode(_ value: String) throws { try begin(.bytes).appendString(value) }
    mutating func encode(_ value: Double) throws { try begin(.fixed64).appendDouble(value) }
    mutating func encode(_ value: Float) throws { try begin(.fixed32).appendFloat(value) }
    mutating func encode(_ value: Int) throws { try begin(.varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try begin(.varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try begin(.varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try begin(.varint).body.appendZigzag(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try begin(.varint).body.appendZigzag(value) }
    mutating func encode(_ value: UInt) throws { try begin(.varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try begin(.varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try begin(.varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try begin(.varint).body.appendVarint(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try begin(.varint).body.appendVarint(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let writer = encoding.writer
        if let wireType = writer.primitiveWireType(of: T.self) {
            try writer.openPrimitive(id: encoding.slotID, index: encoding.slotIndex, wireType: wireType)
            writer.appendPrimitive(value)
        } else {
            // The value takes over this slot: wrappers cost nothing in the output.
            try writer.encode(value, to: encoding)
        }
    }
}

// MARK: Direct writing for Sluice's own types

/// Checkpoints encode Sluice's own state types (a key's stored state and timers, window
/// state, event times) for every changed key. Those types write themselves straight to the
/// ``BinaryStateWriter`` when they are encoded by ``BinaryStateEncoder``, making the same
/// bytes a `KeyedEncodingContainer` would (tested byte for byte) without a container box and
/// run-time type lookups per value. Values of the application's types in them still go
/// through `Codable`.
extension BinaryStateEncoding {
    /// Opens this value's slot as a keyed container, as `container(keyedBy:)` does.
    func openKeyed() throws -> BinaryStateWriter {
        try writer.openContainer(id: slotID, index: slotIndex)
        return writer
    }
}

extension BinaryStateWriter {
    /// Writes a member of the keyed container being written; `KeyedEncodingContainer.encode(_:forKey:)` calls it too.
    func writeMember<T: Encodable>(_ value: T, key: some CodingKey) throws {
        if let wireType = primitiveWireType(of: T.self) {
            writeHeader(key: key, wireType: wireType)
            appendPrimitive(value)
        } else {
            let headerAt = body.count
            writeHeader(key: key, wireType: .varint)
            try encodeNested(value, headerAt: headerAt, key: key)
        }
    }

    /// Writes an array member, as `Array.encode(to:)` does through an unkeyed container.
    func writeArrayMember<Element: Encodable>(_ values: [Element], key: some CodingKey) throws {
        let headerAt = body.count
        writeHeader(key: key, wireType: .varint)
        let depth = slots.count
        let (id, index) = pushSlot(headerAt: headerAt, key: key)
        try openContainer(id: id, index: index)
        for position in values.indices {
            try openContainer(id: id, index: index)
            try writeElement(values[position], index: position)
        }
        closeSlots(downTo: depth)
    }

    /// Writes the next element of the unkeyed container being written, as `UnkeyedEncodingContainer.encode(_:)` does.
    func writeElement<T: Encodable>(_ value: T, index: Int) throws {
        if let wireType = primitiveWireType(of: T.self) {
            writeHeader(wireType: wireType)
            appendPrimitive(value)
        } else {
            let headerAt = body.count
            writeHeader(wireType: .varint)
            try encodeNested(value, headerAt: headerAt, key: BinaryIndexKey(index: index))
        }
    }
}
