/// The state of one encoding run of ``BinaryStateEncoder``: the output body, the key table, and
/// the stack of open value slots.
///
/// Encoding streams into one buffer. Every non-primitive value gets a *slot*: its header is written
/// with a placeholder wire type, and the slot is pushed on a stack. A container asked for by the
/// value fills the slot with a length-prefixed region whose length is patched when the slot closes.
/// A slot closes when the value's `encode(to:)` returns, or when a container further down the
/// stack is written to again (so nested containers and super encoders work when filled before
/// their parent continues, which is how synthesized and almost all hand-written `Codable` code
/// behaves). Writing to a container whose slot has already closed throws.
///
/// Stored properties skip run-time exclusivity checks (`@exclusivity(unchecked)`), which cost more
/// than the work on small values: one run uses the object on one thread, and no property is read
/// while a mutation of it is in progress.
final class BinaryStateWriter {
    enum SlotState {
        case empty
        case primitive
        case container(lengthAt: Int)
    }

    struct Slot {
        var id: Int
        var headerAt: Int
        var key: (any CodingKey)?
        var state: SlotState
    }

    /// Names in order of first use, each with a number, found by a scan while there are at
    /// most 16 and by a dictionary after that.
    ///
    /// A class, held by a constant: a lookup in a struct stored in the writer copied the struct
    /// first (a retain and release of each of its three buffers, per field written).
    final class NameList {
        @exclusivity(unchecked) private(set) var names: [String] = []
        @exclusivity(unchecked) private var numbers: [Int] = []
        @exclusivity(unchecked) private var lookup: [String: Int] = [:]

        @inline(__always)
        func number(of name: String) -> Int? {
            if lookup.isEmpty {
                // Lengths first (stored in a native string, so free): most names of a document
                // differ in length, and comparing two different strings calls into the standard
                // library's comparison.
                let length = name.utf8.count
                for i in names.indices where names[i].utf8.count == length && names[i] == name { return numbers[i] }
                return nil
            }
            return lookup[name]
        }

        func append(_ name: String, number: Int) {
            names.append(name)
            numbers.append(number)
            if names.count > 16 {
                if lookup.isEmpty {
                    for (known, knownNumber) in zip(names, numbers) { lookup[known] = knownNumber }
                } else {
                    lookup[name] = number
                }
            }
        }

        func removeAll() {
            names.removeAll(keepingCapacity: true)
            numbers.removeAll(keepingCapacity: true)
            lookup.removeAll(keepingCapacity: true)
        }
    }

    @exclusivity(unchecked) var body: [UInt8] = []
    /// The key names the document holds itself, numbered by their entries' field.
    let documentNames = NameList()
    /// With a key table: the table's names this writer has used, numbered by field (kept across documents).
    private let tableNames = NameList()
    /// With a key table: the key types this writer met and whether their names go into the
    /// table. The type asked about last is checked first, then the list is scanned (a state's
    /// schema has few key types; a scan compares words where a dictionary hashes).
    @exclusivity(unchecked) private var keyTypes: [(type: ObjectIdentifier, sharesNames: Bool)] = []
    @exclusivity(unchecked) private var lastKeyType: (type: ObjectIdentifier, sharesNames: Bool)?
    /// With a key table that refused a name for lack of room: its names and indexes.
    @exclusivity(unchecked) private var fullTable: [String: Int]?
    @exclusivity(unchecked) private(set) var slots: [Slot] = []
    @exclusivity(unchecked) private var nextSlotID = 0
    /// When set, documents refer to this table's names (version 2) instead of holding their own.
    let keyTable: BinaryStateKeyTable?
    /// Whether values that compare equal are written as the same bytes (see
    /// ``BinaryStateEncoder/keyEncoder``): strings and key names in Unicode normalization form C,
    /// `-0.0` as `0.0`, sets and dictionaries in sorted order.
    let isCanonical: Bool

    init(keyTable: BinaryStateKeyTable? = nil, isCanonical: Bool = false) {
        self.keyTable = keyTable
        self.isCanonical = isCanonical
        body.reserveCapacity(64)
    }

    /// Empties the writer for another document, keeping its buffers' capacity (and, with a
    /// key table, the table names it looked up).
    func reset() {
        body.removeAll(keepingCapacity: true)
        documentNames.removeAll()
        slots.removeAll(keepingCapacity: true)
        nextSlotID = 0
    }

    // MARK: Keys

    /// Writes the header of an entry for `key` with the given wire type.
    @inline(__always)
    func writeHeader<Key: CodingKey>(key: Key, wireType: BinaryWireType) {
        let name = isCanonical ? CanonicalEncoding.normalized(key.stringValue) : key.stringValue
        if let int = key.intValue, let small = Int64(exactly: int), name == String(int) {
            body.appendVarint(UInt64(wireType.rawValue))
            body.appendZigzag(small)
        } else {
            body.appendVarint(UInt64(field(of: name, keyType: Key.self)) << 3 | UInt64(wireType.rawValue))
        }
    }

    @inline(__always)
    func writeHeader(wireType: BinaryWireType) {
        body.append(wireType.rawValue)
    }

    /// The field number of `name`: in version 1 its 1-based index in the document's table; in
    /// version 2 `2i + 1` for name `i` of the key table, `2j + 2` for name `j` of the document's.
    private func field<Key: CodingKey>(of name: String, keyType: Key.Type) -> Int {
        guard let keyTable else {
            if let field = documentNames.number(of: name) { return field }
            documentNames.append(name, number: documentNames.names.count + 1)
            return documentNames.names.count
        }
        // Where a name goes depends only on its key type and on the table's contents, not on
        // what this writer encoded before: the same value and table give the same bytes.
        if sharesNames(of: keyType) {
            if let field = tableNames.number(of: name) { return field }
            if let index = tableIndex(of: name, in: keyTable) {
                tableNames.append(name, number: 2 * index + 1)
                return 2 * index + 1
            }
        }
        if let field = documentNames.number(of: name) { return field }
        documentNames.append(name, number: 2 * documentNames.names.count + 2)
        return 2 * documentNames.names.count
    }

    /// The index of `name` in the key table, or `nil` when the table is full without it.
    private func tableIndex(of name: String, in keyTable: BinaryStateKeyTable) -> Int? {
        if let fullTable { return fullTable[name] }
        if let index = keyTable.index(of: name) { return index }
        // Full: it will not change again, so look names up in a copy, without the lock.
        fullTable = keyTable.indexes
        return fullTable?[name]
    }

    /// Whether names of `Key` go into the key table: the names of a type's fields do, but not
    /// the keys of a `Dictionary` with `String` (or `CodingKeyRepresentable`) keys, which are
    /// data, not a schema (they would grow the table without bound). Decided once per type.
    @inline(__always)
    private func sharesNames<Key: CodingKey>(of keyType: Key.Type) -> Bool {
        let id = ObjectIdentifier(keyType)
        if let lastKeyType, lastKeyType.type == id { return lastKeyType.sharesNames }
        let known = keyTypes.first { $0.type == id } ?? {
            let added = (type: id, sharesNames: String(reflecting: keyType) != "Swift._DictionaryCodingKey")
            keyTypes.append(added)
            return added
        }()
        lastKeyType = known
        return known.sharesNames
    }

    // MARK: Slots

    /// Opens a slot whose header (with wire type 0 as placeholder) has just been written at `headerAt`.
    func pushSlot(headerAt: Int, key: (any CodingKey)?) -> (id: Int, index: Int) {
        nextSlotID += 1
        slots.append(Slot(id: nextSlotID, headerAt: headerAt, key: key, state: .empty))
        return (nextSlotID, slots.count - 1)
    }

    /// Closes slots until `count` remain.
    func closeSlots(downTo count: Int) {
        while slots.count > count {
            close(slots.removeLast())
        }
    }

    private func close(_ slot: Slot) {
        switch slot.state {
        case .primitive:
            break
        case .empty:
            // A value that encoded nothing reads back as an empty container.
            body[slot.headerAt] |= BinaryWireType.bytes.rawValue
            body.append(0)
        case .container(let lengthAt):
            endRegion(lengthAt: lengthAt)
        }
    }

    // MARK: Regions written directly

    // Sluice's own small types (timers and their times) write their containers with these,
    // without a nested encoder and slot per value; the bytes are those of a nested container.

    /// Starts the container of member `key`; returns where its length goes, for ``endRegion(lengthAt:)``.
    @inline(__always)
    func beginRegion<Key: CodingKey>(key: Key) -> Int {
        writeHeader(key: key, wireType: .bytes)
        body.append(0)
        return body.count - 1
    }

    /// Starts the container of the next element of an unkeyed container; returns where its length goes.
    @inline(__always)
    func beginElementRegion() -> Int {
        writeHeader(wireType: .bytes)
        body.append(0)
        return body.count - 1
    }

    /// Ends a container by writing its length (one byte reserved; more are inserted if needed).
    func endRegion(lengthAt: Int) {
        let length = body.count - lengthAt - 1
        if length < 0x80 {
            body[lengthAt] = UInt8(length)
        } else {
            var prefix: [UInt8] = []
            prefix.appendVarint(UInt64(length))
            body.replaceSubrange(lengthAt..<lengthAt + 1, with: prefix)
        }
    }

    /// Makes the slot at `index` the innermost open one, closing any slots opened after it.
    @inline(__always)
    func activate(id: Int, index: Int) throws {
        if slots.count - 1 != index { closeSlots(downTo: index + 1) }
        guard index < slots.count, slots[index].id == id else {
            throw SluiceError(
                .encoding,
                "a container at '\(pathDescription(upTo: min(index, slots.count - 1)))' was written after its parent continued; "
                    + "BinaryStateEncoder needs nested containers and super encoders filled before their parent is written again"
            )
        }
    }

    /// Turns the slot at `index` into a container region, or checks that it already is one.
    func openContainer(id: Int, index: Int) throws {
        try activate(id: id, index: index)
        switch slots[index].state {
        case .empty:
            body[slots[index].headerAt] |= BinaryWireType.bytes.rawValue
            slots[index].state = .container(lengthAt: body.count)
            body.append(0)
        case .container:
            break
        case .primitive:
            throw SluiceError(.encoding, "a value at '\(pathDescription(upTo: index))' asked for a container after encoding a single value")
        }
    }

    /// Prepares the slot at `index` for a single primitive value of `wireType`.
    func openPrimitive(id: Int, index: Int, wireType: BinaryWireType) throws {
        try activate(id: id, index: index)
        guard case .empty = slots[index].state else {
            throw SluiceError(.encoding, "a value at '\(pathDescription(upTo: index))' was encoded twice")
        }
        body[slots[index].headerAt] |= wireType.rawValue
        slots[index].state = .primitive
    }

    /// The coding path of the value in the slot at `index`.
    func codingPath(upTo index: Int) -> [any CodingKey] {
        guard index >= 0 else { return [] }
        return slots[...min(index, slots.count - 1)].compactMap(\.key)
    }

    func pathDescription(upTo index: Int) -> String {
        let path = codingPath(upTo: index)
        return path.isEmpty ? "<root>" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    // MARK: Values

    /// Encodes `value` into a new slot whose header has just been written at `headerAt`.
    func encodeNested<T: Encodable>(_ value: T, headerAt: Int, key: (any CodingKey)?) throws {
        let depth = slots.count
        let (id, index) = pushSlot(headerAt: headerAt, key: key)
        try encode(value, to: BinaryStateEncoding(writer: self, slotID: id, slotIndex: index))
        closeSlots(downTo: depth)
    }

    /// Has `value` encode itself to `encoding`; in a canonical document, a set or dictionary
    /// in sorted order. (One that a value encodes by calling its `encode(to:)` on an encoder
    /// itself, as with `superEncoder()`, cannot be seen here and keeps its own order.)
    @inline(__always)
    func encode<T: Encodable>(_ value: T, to encoding: BinaryStateEncoding) throws {
        if isCanonical, let unordered = value as? any CanonicallyOrderedEncodable {
            try unordered.encodeInCanonicalOrder(to: encoding)
        } else {
            try value.encode(to: encoding)
        }
    }

    /// Writes `value` (header already written with the right wire type) if it is a primitive.
    /// Returns the wire type it used, or `nil` if `T` is not a primitive.
    @inline(__always)
    func primitiveWireType<T>(of type: T.Type) -> BinaryWireType? {
        if T.self == Int.self || T.self == Int64.self || T.self == Int32.self || T.self == Int16.self || T.self == Int8.self
            || T.self == UInt.self || T.self == UInt64.self || T.self == UInt32.self || T.self == UInt16.self
            || T.self == UInt8.self || T.self == Bool.self
        {
            return .varint
        }
        if T.self == Double.self { return .fixed64 }
        if T.self == String.self { return .bytes }
        if T.self == Float.self { return .fixed32 }
        return nil
    }

    /// Appends the bytes of a primitive `value` whose type passed ``primitiveWireType(of:)``.
    @inline(__always)
    func appendPrimitive<T>(_ value: T) {
        if T.self == Int.self { body.appendZigzag(Int64(unsafeBitCast(value, to: Int.self))) }
        else if T.self == Int64.self { body.appendZigzag(unsafeBitCast(value, to: Int64.self)) }
        else if T.self == Double.self { appendDouble(unsafeBitCast(value, to: Double.self)) }
        else if T.self == String.self { appendString(unsafeBitCast(value, to: String.self)) }
        else if T.self == Bool.self { body.append(unsafeBitCast(value, to: Bool.self) ? 1 : 0) }
        else if T.self == Int32.self { body.appendZigzag(Int64(unsafeBitCast(value, to: Int32.self))) }
        else if T.self == Int16.self { body.appendZigzag(Int64(unsafeBitCast(value, to: Int16.self))) }
        else if T.self == Int8.self { body.appendZigzag(Int64(unsafeBitCast(value, to: Int8.self))) }
        else if T.self == UInt.self { body.appendVarint(UInt64(unsafeBitCast(value, to: UInt.self))) }
        else if T.self == UInt64.self { body.appendVarint(unsafeBitCast(value, to: UInt64.self)) }
        else if T.self == UInt32.self { body.appendVarint(UInt64(unsafeBitCast(value, to: UInt32.self))) }
        else if T.self == UInt16.self { body.appendVarint(UInt64(unsafeBitCast(value, to: UInt16.self))) }
        else if T.self == UInt8.self { body.appendVarint(UInt64(unsafeBitCast(value, to: UInt8.self))) }
        else if T.self == Float.self { appendFloat(unsafeBitCast(value, to: Float.self)) }
        else { preconditionFailure("appendPrimitive called with a non-primitive \(T.self)") }
    }

    @inline(__always)
    func appendString(_ value: String) {
        var value = isCanonical ? CanonicalEncoding.normalized(value) : value
        value.withUTF8 { utf8 in
            body.appendVarint(UInt64(utf8.count))
            body.append(contentsOf: utf8)
        }
    }

    @inline(__always)
    func appendDouble(_ value: Double) {
        // `0.0 == -0.0`: canonically, both are written as `0.0`.
        body.appendLittleEndian((isCanonical && value == 0 ? 0 : value).bitPattern)
    }

    @inline(__always)
    func appendFloat(_ value: Float) {
        body.appendLittleEndian((isCanonical && value == 0 ? 0 : value).bitPattern)
    }

    /// The finished document: version, the document's own key names, body.
    func finish() -> [UInt8] {
        closeSlots(downTo: 0)
        var out: [UInt8] = []
        let keys = documentNames.names
        out.reserveCapacity(body.count + 2 + keys.reduce(0) { $0 + $1.utf8.count + 1 })
        out.append(keyTable == nil ? BinaryWireType.formatVersion : BinaryWireType.sharedKeysFormatVersion)
        out.appendVarint(UInt64(keys.count))
        for key in keys {
            var key = key
            key.withUTF8 { utf8 in
                out.appendVarint(UInt64(utf8.count))
                out.append(contentsOf: utf8)
            }
        }
        out.append(contentsOf: body)
        return out
    }
}
