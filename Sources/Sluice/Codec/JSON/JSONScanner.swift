/// A validating scanner that turns UTF-8 JSON text into a flat array of ``JSONToken``s.
///
/// It checks the whole document (RFC 8259 grammar, no trailing bytes, bounded nesting) before
/// anything is decoded, so a malformed record is rejected even in fields the model ignores.
struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = 512

    let bytes: UnsafePointer<UInt8>
    let count: Int
    let tokens: UnsafeMutablePointer<JSONToken>
    let capacity: Int
    private(set) var tokenCount = 0
    private var p = 0
    private var depth = 0

    init(bytes: UnsafePointer<UInt8>, count: Int, tokens: UnsafeMutablePointer<JSONToken>, capacity: Int) {
        self.bytes = bytes
        self.count = count
        self.tokens = tokens
        self.capacity = capacity
    }

    /// The number of tokens a document of `byteCount` bytes can need at most: every value after the
    /// first takes at least two bytes (itself and a separator, or the quotes of a key).
    static func tokenCapacity(forByteCount byteCount: Int) -> Int { byteCount / 2 + 2 }

    /// Scans the whole document.
    mutating func scan() throws {
        skipWhitespace()
        try value()
        skipWhitespace()
        if p < count {
            throw SluiceError(.decoding, "input is not JSON: unexpected \(describeByte(at: p)) at offset \(p) after the end of the value")
        }
    }

    // MARK: Grammar

    @inline(__always)
    private mutating func skipWhitespace() {
        var q = p
        while q < count {
            let b = bytes[q]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            q += 1
        }
        p = q
    }

    @inline(__always)
    private mutating func append(_ kind: JSONToken.Kind, flags: UInt8 = 0, start: Int, end: Int) -> Int {
        let index = tokenCount
        tokens[index] = JSONToken(kind: kind, flags: flags, start: UInt32(truncatingIfNeeded: start),
                                  end: UInt32(truncatingIfNeeded: end), next: UInt32(truncatingIfNeeded: index + 1), hint: UInt32(truncatingIfNeeded: index + 1))
        tokenCount += 1
        return index
    }

    private mutating func value() throws {
        guard p < count else { throw truncated("a value") }
        switch bytes[p] {
        case UInt8(ascii: "{"): try object()
        case UInt8(ascii: "["): try array()
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        default: throw unexpected("a value")
        }
    }

    private mutating func literal(_ text: StaticString, _ kind: JSONToken.Kind) throws {
        let n = text.utf8CodeUnitCount
        let start = p
        for i in 0..<n {
            guard p + i < count else { throw truncated("'\(text)'") }
            guard bytes[p + i] == text.utf8Start[i] else { p += i; throw unexpected("'\(text)'") }
        }
        p += n
        _ = append(kind, start: start, end: p)
    }

    private mutating func enter() throws {
        depth += 1
        if depth > JSONScanner.maximumDepth {
            throw SluiceError(.decoding, "input nests arrays and objects deeper than \(JSONScanner.maximumDepth) levels at offset \(p)")
        }
    }

    private mutating func object() throws {
        try enter()
        let index = append(.object, start: p, end: 0)
        p += 1
        var members = 0
        // A one-word Bloom filter over (length, first byte, last byte) of the keys: only when two
        // keys collide in it are the keys compared for duplicates.
        var seen: UInt64 = 0
        var collided = false
        skipWhitespace()
        if p < count, bytes[p] == UInt8(ascii: "}") {
            p += 1
        } else {
            while true {
                guard p < count else { throw truncated("a key") }
                guard bytes[p] == UInt8(ascii: "\"") else { throw unexpected("a key in quotes") }
                try string()
                let key = tokens[tokenCount - 1]
                let length = Int(key.end &- key.start)
                let signature = length == 0 ? 0 : (length &* 7 &+ Int(bytes[Int(key.start)]) &* 3 &+ Int(bytes[Int(key.end) - 1]))
                let bit = UInt64(1) << UInt64(signature & 63)
                collided = collided || seen & bit != 0 || key.isFlagged
                seen |= bit
                skipWhitespace()
                guard p < count else { throw truncated("':'") }
                guard bytes[p] == UInt8(ascii: ":") else { throw unexpected("':' after a key") }
                p += 1
                skipWhitespace()
                try value()
                members += 1
                skipWhitespace()
                guard p < count else { throw truncated("',' or '}'") }
                if bytes[p] == UInt8(ascii: ",") {
                    p += 1
                    skipWhitespace()
                } else if bytes[p] == UInt8(ascii: "}") {
                    p += 1
                    break
                } else {
                    throw unexpected("',' or '}'")
                }
            }
        }
        tokens[index].end = UInt32(members)
        tokens[index].next = UInt32(tokenCount)
        if collided && members > 1 && mayHaveDuplicateKeys(object: index, members: members) {
            tokens[index].flags = JSONToken.flagged
        }
        depth -= 1
    }

    /// Whether two keys of the object are (or might be) equal. Objects with many members are not
    /// checked and are always treated as possibly having duplicates.
    private func mayHaveDuplicateKeys(object: Int, members: Int) -> Bool {
        guard members <= 16 else { return true }
        var keys: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &keys) { raw in
            let keyIndex = raw.bindMemory(to: Int.self)
            var t = object + 1
            for m in 0..<members {
                keyIndex[m] = t
                t = Int(tokens[t + 1].next)
            }
            for i in 0..<members {
                let a = tokens[keyIndex[i]]
                for j in (i + 1)..<members {
                    let b = tokens[keyIndex[j]]
                    if a.isFlagged || b.isFlagged { return true }  // escaped keys: compare decoded, so assume maybe
                    let length = Int(a.end - a.start)
                    if length == Int(b.end - b.start),
                        memcmp(bytes + Int(a.start), bytes + Int(b.start), length) == 0
                    {
                        return true
                    }
                }
            }
            return false
        }
    }

    private mutating func array() throws {
        try enter()
        let index = append(.array, start: p, end: 0)
        p += 1
        var elements = 0
        skipWhitespace()
        if p < count, bytes[p] == UInt8(ascii: "]") {
            p += 1
        } else {
            while true {
                try value()
                elements += 1
                skipWhitespace()
                guard p < count else { throw truncated("',' or ']'") }
                if bytes[p] == UInt8(ascii: ",") {
                    p += 1
                    skipWhitespace()
                } else if bytes[p] == UInt8(ascii: "]") {
                    p += 1
                    break
                } else {
                    throw unexpected("',' or ']'")
                }
            }
        }
        tokens[index].end = UInt32(elements)
        tokens[index].next = UInt32(tokenCount)
        depth -= 1
    }

    private mutating func string() throws {
        p += 1
        let start = p
        var escaped = false
        // Plain characters, with the index in a register.
        var q = p
        while q < count {
            let b = bytes[q]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
            q += 1
        }
        p = q
        while true {
            guard p < count else { throw truncated("the end of a string that starts at offset \(start - 1)") }
            let b = bytes[p]
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                escaped = true
                p += 1
                guard p < count else { throw truncated("an escape sequence") }
                switch bytes[p] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    p += 1
                case UInt8(ascii: "u"):
                    p += 1
                    for _ in 0..<4 {
                        guard p < count else { throw truncated("four hex digits after \\u") }
                        guard hexValue(bytes[p]) != nil else { throw unexpected("a hex digit in a \\u escape") }
                        p += 1
                    }
                default:
                    throw unexpected("an escape character (one of \" \\ / b f n r t u)")
                }
                continue
            }
            if b < 0x20 { throw unexpected("a string character (control characters must be escaped)") }
            p += 1
        }
        _ = append(.string, flags: escaped ? JSONToken.flagged : 0, start: start, end: p)
        p += 1
    }

    private mutating func number() throws {
        let start = p
        var isInteger = true
        if bytes[p] == UInt8(ascii: "-") {
            p += 1
            guard p < count else { throw truncated("a digit") }
        }
        if bytes[p] == UInt8(ascii: "0") {
            p += 1
        } else {
            guard isDigit(bytes[p]) else { throw unexpected("a digit") }
            var q = p
            while q < count, isDigit(bytes[q]) { q += 1 }
            p = q
        }
        if p < count, bytes[p] == UInt8(ascii: ".") {
            isInteger = false
            p += 1
            guard p < count else { throw truncated("a digit after '.'") }
            guard isDigit(bytes[p]) else { throw unexpected("a digit after '.'") }
            var q = p
            while q < count, isDigit(bytes[q]) { q += 1 }
            p = q
        }
        if p < count, bytes[p] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            p += 1
            if p < count, bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-") { p += 1 }
            guard p < count else { throw truncated("an exponent") }
            guard isDigit(bytes[p]) else { throw unexpected("a digit in the exponent") }
            while p < count, isDigit(bytes[p]) { p += 1 }
        }
        _ = append(.number, flags: isInteger ? JSONToken.flagged : 0, start: start, end: p)
    }

    // MARK: Errors

    private func describeByte(at offset: Int) -> String {
        let b = bytes[offset]
        let hex = "0x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
        if b >= 0x21 && b < 0x7F { return "byte \(hex) ('\(Character(Unicode.Scalar(b)))')" }
        return "byte \(hex)"
    }

    private func unexpected(_ expected: String) -> SluiceError {
        SluiceError(.decoding, "input is not JSON: unexpected \(describeByte(at: p)) at offset \(p), expected \(expected)")
    }

    private func truncated(_ expected: String) -> SluiceError {
        SluiceError(.decoding, "input is truncated: it ends at offset \(count) while expecting \(expected)")
    }
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

@inline(__always)
func hexValue(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
    default: nil
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// `memcmp` without importing a C library into the module's interface.
@inline(__always)
func memcmp(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Int {
    for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
    return 0
}
