/// The state of one encoding run of ``FastJSONEncoder``: the output and the stack of open value slots.
///
/// Like `BinaryStateWriter`, it streams: each non-primitive value gets a slot that becomes an
/// object or array when the value asks for a container, and is closed when the value's
/// `encode(to:)` returns or when a container further down the stack is written again.
///
/// Stored properties skip run-time exclusivity checks (`@exclusivity(unchecked)`), which cost more
/// than the work on small values: one run uses the object on one thread, and no property is read
/// while a mutation of it is in progress.
final class JSONWriter {
    enum SlotState {
        case empty
        case primitive
        case object(count: Int)
        case array(count: Int)
    }

    struct Slot {
        var id: Int
        var key: (any CodingKey)?
        var state: SlotState
    }

    @exclusivity(unchecked) var out: [UInt8] = []
    @exclusivity(unchecked) private(set) var slots: [Slot] = []
    @exclusivity(unchecked) private var nextSlotID = 0

    init() {
        out.reserveCapacity(128)
    }

    // MARK: Slots

    func pushSlot(key: (any CodingKey)?) -> (id: Int, index: Int) {
        nextSlotID += 1
        slots.append(Slot(id: nextSlotID, key: key, state: .empty))
        return (nextSlotID, slots.count - 1)
    }

    func closeSlots(downTo count: Int) {
        while slots.count > count {
            switch slots.removeLast().state {
            case .primitive: break
            case .empty: out.append(UInt8(ascii: "{")); out.append(UInt8(ascii: "}"))
            case .object: out.append(UInt8(ascii: "}"))
            case .array: out.append(UInt8(ascii: "]"))
            }
        }
    }

    @inline(__always)
    func activate(id: Int, index: Int) throws {
        if slots.count - 1 != index { closeSlots(downTo: index + 1) }
        guard index < slots.count, slots[index].id == id else {
            throw SluiceError(
                .encoding,
                "a container at \(location(upTo: min(index, slots.count - 1))) was written after its parent continued; "
                    + "FastJSONEncoder needs nested containers filled before their parent is written again"
            )
        }
    }

    /// Makes the slot an object (writing `{`) or checks it is one, then writes the separator and `"key":`.
    @inline(__always)
    func beginMember(id: Int, index: Int, key: some CodingKey) throws {
        try activate(id: id, index: index)
        switch slots[index].state {
        case .empty:
            out.append(UInt8(ascii: "{"))
            slots[index].state = .object(count: 1)
        case .object(let count):
            if count > 0 { out.append(UInt8(ascii: ",")) }
            slots[index].state = .object(count: count + 1)
        default:
            throw SluiceError(.encoding, "value at \(location(upTo: index)) asked for an object after encoding something else")
        }
        appendString(key.stringValue)
        out.append(UInt8(ascii: ":"))
    }

    /// Opens the slot as an object without writing a member (for an empty keyed container).
    func openObject(id: Int, index: Int) throws {
        try activate(id: id, index: index)
        if case .empty = slots[index].state {
            out.append(UInt8(ascii: "{"))
            slots[index].state = .object(count: 0)
        }
    }

    /// Makes the slot an array (writing `[`) or checks it is one, then writes the separator.
    @inline(__always)
    func beginElement(id: Int, index: Int) throws {
        try activate(id: id, index: index)
        switch slots[index].state {
        case .empty:
            out.append(UInt8(ascii: "["))
            slots[index].state = .array(count: 1)
        case .array(let count):
            if count > 0 { out.append(UInt8(ascii: ",")) }
            slots[index].state = .array(count: count + 1)
        default:
            throw SluiceError(.encoding, "value at \(location(upTo: index)) asked for an array after encoding something else")
        }
    }

    func openArray(id: Int, index: Int) throws {
        try activate(id: id, index: index)
        if case .empty = slots[index].state {
            out.append(UInt8(ascii: "["))
            slots[index].state = .array(count: 0)
        }
    }

    func beginSingleValue(id: Int, index: Int) throws {
        try activate(id: id, index: index)
        guard case .empty = slots[index].state else {
            throw SluiceError(.encoding, "value at \(location(upTo: index)) was encoded twice")
        }
        slots[index].state = .primitive
    }

    func location(upTo index: Int) -> String {
        guard index >= 0 else { return "the top-level value" }
        let path = slots[...min(index, slots.count - 1)].compactMap(\.key)
        if path.isEmpty { return "the top-level value" }
        return "'" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
    }

    // MARK: Values

    func encodeNested<T: Encodable>(_ value: T, key: (any CodingKey)?) throws {
        let depth = slots.count
        let (id, index) = pushSlot(key: key)
        try value.encode(to: JSONEncoding(writer: self, slotID: id, slotIndex: index))
        closeSlots(downTo: depth)
    }

    /// Writes `value` if `T` is a primitive type and returns whether it did.
    @inline(__always)
    func appendPrimitive<T>(_ value: T, at index: Int) throws -> Bool {
        if T.self == Int.self { appendInteger(unsafeBitCast(value, to: Int.self)) }
        else if T.self == String.self { appendString(unsafeBitCast(value, to: String.self)) }
        else if T.self == Double.self { try appendDouble(unsafeBitCast(value, to: Double.self), at: index) }
        else if T.self == Bool.self { appendBool(unsafeBitCast(value, to: Bool.self)) }
        else if T.self == Int64.self { appendInteger(unsafeBitCast(value, to: Int64.self)) }
        else if T.self == Int32.self { appendInteger(unsafeBitCast(value, to: Int32.self)) }
        else if T.self == Int16.self { appendInteger(unsafeBitCast(value, to: Int16.self)) }
        else if T.self == Int8.self { appendInteger(unsafeBitCast(value, to: Int8.self)) }
        else if T.self == UInt.self { appendInteger(unsafeBitCast(value, to: UInt.self)) }
        else if T.self == UInt64.self { appendInteger(unsafeBitCast(value, to: UInt64.self)) }
        else if T.self == UInt32.self { appendInteger(unsafeBitCast(value, to: UInt32.self)) }
        else if T.self == UInt16.self { appendInteger(unsafeBitCast(value, to: UInt16.self)) }
        else if T.self == UInt8.self { appendInteger(unsafeBitCast(value, to: UInt8.self)) }
        else if T.self == Float.self { try appendFloat(unsafeBitCast(value, to: Float.self), at: index) }
        else { return false }
        return true
    }

    @inline(__always)
    static func isPrimitive<T>(_ type: T.Type) -> Bool {
        T.self == Int.self || T.self == String.self || T.self == Double.self || T.self == Bool.self
            || T.self == Int64.self || T.self == Int32.self || T.self == Int16.self || T.self == Int8.self
            || T.self == UInt.self || T.self == UInt64.self || T.self == UInt32.self || T.self == UInt16.self
            || T.self == UInt8.self || T.self == Float.self
    }

    @inline(__always)
    func appendInteger<I: FixedWidthInteger>(_ value: I) {
        if value >= 0 && value < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // Digits of the magnitude, written backwards into a small buffer.
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            var i = 40
            repeat {
                i -= 1
                buffer[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                i -= 1
                buffer[i] = UInt8(ascii: "-")
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<40]))
        }
    }

    func appendDouble(_ value: Double, at index: Int) throws {
        guard value.isFinite else {
            throw SluiceError(.encoding, "cannot encode \(value) at \(location(upTo: index)): JSON has no representation for it")
        }
        if let whole = Int64(exactly: value), whole.magnitude < 1 << 53, whole != 0 || value.sign == .plus {
            appendInteger(whole)  // JSONEncoder writes 2.0 as 2
        } else {
            appendASCII(value.description)
        }
    }

    func appendFloat(_ value: Float, at index: Int) throws {
        guard value.isFinite else {
            throw SluiceError(.encoding, "cannot encode \(value) at \(location(upTo: index)): JSON has no representation for it")
        }
        if let whole = Int64(exactly: value), whole.magnitude < 1 << 24, whole != 0 || value.sign == .plus {
            appendInteger(whole)
        } else {
            appendASCII(value.description)
        }
    }

    @inline(__always)
    func appendBool(_ value: Bool) {
        if value {
            out.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            out.append(contentsOf: [UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e")])
        }
    }

    func appendNull() {
        out.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    private func appendASCII(_ text: String) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// Appends `value` as a quoted JSON string, escaping `"`, `\` and control characters.
    @inline(__always)
    func appendString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            out.append(UInt8(ascii: "\""))
            var runStart = 0
            for i in 0..<utf8.count {
                let b = utf8[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            out.append(UInt8(ascii: "\""))
        }
    }
}
