/// How a value is laid out in the binary state format; the low three bits of every entry header.
///
/// The format, version 1 (self-contained) and version 2 (most key names in a
/// ``BinaryStateKeyTable``):
///
///     document = version:UInt8(1 or 2) keyCount:varint (keyLength:varint keyUTF8)* root
///     root     = header value                      header = varint((field << 3) | wireType)
///     value    = varint | fixed64 | fixed32 | length:varint bytes | (nothing, for null)
///
/// Keyed containers are a length-delimited run of `header value` entries, where `field` is 0
/// followed by a zigzag varint for an integer key (dictionary keys), or names a key: in version 1
/// the 1-based index of the key in the document's key table; in version 2 `2i + 1` for name `i`
/// (0-based) of the shared table and `2j + 2` for name `j` of the document's own table (string
/// dictionary keys, and names once the shared table is full). Unkeyed containers are a length-delimited run of entries with
/// `field` 0. Signed integers are zigzag varints, unsigned integers and Bool plain varints,
/// Double and Float their IEEE bits little-endian, strings their UTF-8 bytes.
enum BinaryWireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case fixed32 = 2
    case bytes = 3
    case null = 4

    /// The format version of a self-contained document, with its own key table.
    static let formatVersion: UInt8 = 1
    /// The format version of a document whose keys refer to a ``BinaryStateKeyTable``.
    static let sharedKeysFormatVersion: UInt8 = 2

    var name: String {
        switch self {
        case .varint: "an integer"
        case .fixed64: "a Double"
        case .fixed32: "a Float"
        case .bytes: "a string or container"
        case .null: "nil"
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` as an unsigned LEB128 varint.
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends `value` zigzag-encoded as a varint.
    @inline(__always)
    mutating func appendZigzag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Appends the little-endian bytes of `value`.
    @inline(__always)
    mutating func appendLittleEndian<I: FixedWidthInteger>(_ value: I) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// The number of bytes `value` takes as a varint.
@inline(__always)
func varintSize(_ value: UInt64) -> Int {
    value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
}
