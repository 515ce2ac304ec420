/// One value of a scanned JSON document, as laid out by ``JSONScanner``.
///
/// Tokens are stored in document order. An object is its own token followed by alternating key
/// (string) and value tokens; an array is its own token followed by its elements. Containers record
/// where the token after their last descendant is, so a decoder can skip them in one step.
struct JSONToken {
    enum Kind: UInt8 {
        case object, array, string, number, `true`, `false`, null

        /// How an error message names a value of this kind.
        var name: String {
            switch self {
            case .object: "an object"
            case .array: "an array"
            case .string: "a string"
            case .number: "a number"
            case .true, .false: "a boolean"
            case .null: "null"
            }
        }
    }

    /// For strings: the content has backslash escapes. For numbers: the text has no fraction or exponent.
    /// For objects: two members may share a key (or the object is too large to have been checked).
    static let flagged: UInt8 = 1

    var kind: Kind
    var flags: UInt8
    /// Byte offset of the value (for strings, of the first content byte after the quote).
    var start: UInt32
    /// For strings and numbers, the byte offset after the content; for containers, the member count.
    var end: UInt32
    /// For containers, the index of the token after the container's last descendant.
    var next: UInt32
    /// For objects, the key token after the member last found by key: lookups start there, so
    /// fields read in document order cost one comparison each.
    var hint: UInt32

    var isFlagged: Bool { flags & JSONToken.flagged != 0 }
}
