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
    /// The position of the containers and literals being scanned and of errors (see Grammar).
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
        let q = try value(at: skipWhitespace(from: 0))
        p = skipWhitespace(from: q)
        if p < count {
            throw SluiceError(.decoding, "input is not JSON: unexpected \(describeByte(at: p)) at offset \(p) after the end of the value")
        }
    }

    // MARK: Grammar
    //
    // The grammar functions take the offset they start at and return the offset after what they
    // scanned, so that the position stays in a register through a flat object. `p` is only the
    // offset the error messages report and the position `value()` hands to the functions for
    // containers and literals, which are called rarely enough to keep it in memory.

    @inline(__always)
    private func skipWhitespace(from start: Int) -> Int {
        var q = start
        while q < count {
            let b = bytes[q]
            // Everything above the space is not whitespace: one comparison for the common case.
            guard b <= 0x20, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            q &+= 1
        }
        return q
    }

    @inline(__always)
    private mutating func append(_ kind: JSONToken.Kind, flags: UInt8 = 0, start: Int, end: Int) -> Int {
        let index = tokenCount
        tokens[index] = JSONToken(kind: kind, flags: flags, start: UInt32(truncatingIfNeeded: start),
                                  end: UInt32(truncatingIfNeeded: end), next: UInt32(truncatingIfNeeded: index &+ 1), hint: UInt32(truncatingIfNeeded: index &+ 1))
        tokenCount = index &+ 1
        return index
    }

    /// Scans the value at `q`. Strings and numbers, which flat objects are made of, are scanned
    /// inline; containers and literals go through `containerOrLiteral()`.
    @inline(__always)
    private mutating func value(at q: Int) throws -> Int {
        guard q < count else { throw truncated("a value") }
        let b = bytes[q]
        if b == UInt8(ascii: "\"") { return try string(at: q) }
        if isDigit(b) || b == UInt8(ascii: "-") { return try number(at: q) }
        p = q
        try containerOrLiteral()
        return p
    }

    /// Scans the object, array or literal at `p`.
    private mutating func containerOrLiteral() throws {
        switch bytes[p] {
        case UInt8(ascii: "{"): try object()
        case UInt8(ascii: "["): try array()
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

    @inline(__always)
    private mutating func enter() throws {
        depth += 1
        if depth > JSONScanner.maximumDepth {
            throw SluiceError(.decoding, "input nests arrays and objects deeper than \(JSONScanner.maximumDepth) levels at offset \(p)")
        }
    }

    /// Scans the object at `p`, leaving `p` after it.
    private mutating func object() throws {
        try enter()
        let index = append(.object, start: p, end: 0)
        var q = skipWhitespace(from: p + 1)
        var members = 0
        // A one-word Bloom filter over (length, first byte, last byte) of the keys: only when two
        // keys collide in it are the keys compared for duplicates.
        var seen: UInt64 = 0
        var collided = false
        if q < count, bytes[q] == UInt8(ascii: "}") {
            q += 1
        } else {
            while true {
                guard q < count else { throw truncated("a key") }
                guard bytes[q] == UInt8(ascii: "\"") else { throw unexpected("a key in quotes", at: q) }
                let keyStart = q &+ 1
                q = try string(at: q)
                let keyEnd = q &- 1
                let length = keyEnd &- keyStart
                let signature = length == 0 ? 0 : (length &* 7 &+ Int(bytes[keyStart]) &* 3 &+ Int(bytes[keyEnd &- 1]))
                let bit = UInt64(1) << UInt64(signature & 63)
                collided = collided || seen & bit != 0 || tokens[tokenCount &- 1].isFlagged
                seen |= bit
                q = skipWhitespace(from: q)
                guard q < count else { throw truncated("':'") }
                guard bytes[q] == UInt8(ascii: ":") else { throw unexpected("':' after a key", at: q) }
                q = try value(at: skipWhitespace(from: q &+ 1))
                members &+= 1
                q = skipWhitespace(from: q)
                guard q < count else { throw truncated("',' or '}'") }
                let b = bytes[q]
                if b == UInt8(ascii: ",") {
                    q = skipWhitespace(from: q &+ 1)
                } else if b == UInt8(ascii: "}") {
                    q &+= 1
                    break
                } else {
                    throw unexpected("',' or '}'", at: q)
                }
            }
        }
        p = q
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

    /// Scans the array at `p`, leaving `p` after it.
    private mutating func array() throws {
        try enter()
        let index = append(.array, start: p, end: 0)
        var q = skipWhitespace(from: p + 1)
        var elements = 0
        if q < count, bytes[q] == UInt8(ascii: "]") {
            q += 1
        } else {
            while true {
                q = skipWhitespace(from: try value(at: q))
                elements += 1
                guard q < count else { throw truncated("',' or ']'") }
                let b = bytes[q]
                if b == UInt8(ascii: ",") {
                    q = skipWhitespace(from: q + 1)
                } else if b == UInt8(ascii: "]") {
                    q += 1
                    break
                } else {
                    throw unexpected("',' or ']'", at: q)
                }
            }
        }
        p = q
        tokens[index].end = UInt32(elements)
        tokens[index].next = UInt32(tokenCount)
        depth -= 1
    }

    /// Scans the string whose opening quote is at `quote`. Strings without escapes are scanned
    /// here; the rest (and every malformed string) by `escapedString`.
    @inline(__always)
    private mutating func string(at quote: Int) throws -> Int {
        let start = quote &+ 1
        var q = start
        while q < count {
            let b = bytes[q]
            if b == UInt8(ascii: "\"") {
                _ = append(.string, start: start, end: q)
                return q &+ 1
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            q &+= 1
        }
        return try escapedString(start: start, from: q)
    }

    /// Scans the rest of a string that starts at `start` from `q`, the first byte that is not a
    /// plain character (or the end of the input).
    private mutating func escapedString(start: Int, from q: Int) throws -> Int {
        var escaped = false
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
        return p + 1
    }

    /// Scans the number at `start`, whose first byte is a digit or '-'.
    @inline(__always)
    private mutating func number(at start: Int) throws -> Int {
        var q = start
        var isInteger = true
        if bytes[q] == UInt8(ascii: "-") {
            q += 1
            guard q < count else { throw truncated("a digit") }
        }
        if bytes[q] == UInt8(ascii: "0") {
            q += 1
        } else {
            guard isDigit(bytes[q]) else { throw unexpected("a digit", at: q) }
            q = digitRun(from: q + 1)
        }
        if q < count, bytes[q] == UInt8(ascii: ".") {
            isInteger = false
            q += 1
            guard q < count else { throw truncated("a digit after '.'") }
            guard isDigit(bytes[q]) else { throw unexpected("a digit after '.'", at: q) }
            q = digitRun(from: q + 1)
        }
        if q < count, bytes[q] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            q += 1
            if q < count, bytes[q] == UInt8(ascii: "+") || bytes[q] == UInt8(ascii: "-") { q += 1 }
            guard q < count else { throw truncated("an exponent") }
            guard isDigit(bytes[q]) else { throw unexpected("a digit in the exponent", at: q) }
            q = digitRun(from: q + 1)
        }
        _ = append(.number, flags: isInteger ? JSONToken.flagged : 0, start: start, end: q)
        return q
    }

    /// The offset of the first byte from `start` on that is not a decimal digit; `count` if there is none.
    @inline(__always)
    private func digitRun(from start: Int) -> Int {
        var q = start
        while q < count, isDigit(bytes[q]) { q &+= 1 }
        return q
    }

    // MARK: Errors

    private func describeByte(at offset: Int) -> String {
        let b = bytes[offset]
        let hex = "0x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
        if b >= 0x21 && b < 0x7F { return "byte \(hex) ('\(Character(Unicode.Scalar(b)))')" }
        return "byte \(hex)"
    }

    private func unexpected(_ expected: String) -> SluiceError {
        unexpected(expected, at: p)
    }

    @inline(never)
    private func unexpected(_ expected: String, at offset: Int) -> SluiceError {
        SluiceError(.decoding, "input is not JSON: unexpected \(describeByte(at: offset)) at offset \(offset), expected \(expected)")
    }

    @inline(never)
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
