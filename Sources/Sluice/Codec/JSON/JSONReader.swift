/// The state of one decoding run of ``FastJSONDecoder``: the input bytes, its scanned tokens, the
/// current coding path and lookup hints for keyed containers.
///
/// A reader is reused for run after run on one thread (see ``JSONReaderCache``), so that a small
/// record costs no allocation: ``scan(bytes:count:)`` starts a run and ``finish()`` ends it.
///
/// Stored properties skip run-time exclusivity checks (`@exclusivity(unchecked)`), which cost more
/// than the work on small values: one run uses the object on one thread, and no property is read
/// while a mutation of it is in progress.
final class JSONReader {
    /// Token buffers up to this size are kept between runs; larger ones are freed after the run.
    static let retainedTokenCapacity = 4096

    @exclusivity(unchecked) private(set) var bytes: UnsafePointer<UInt8>
    @exclusivity(unchecked) private(set) var tokens: UnsafeMutablePointer<JSONToken>
    @exclusivity(unchecked) private var tokenCapacity: Int
    @exclusivity(unchecked) var path: [any CodingKey] = []
    @exclusivity(unchecked) private var scratch: [UInt8] = []
    /// Whether a run is in progress: a model's `init(from:)` that decodes JSON itself gets a reader
    /// of its own instead of this one.
    @exclusivity(unchecked) var isInUse = false
    /// How many runs have finished: a ``JSONObjectFields`` checks it to refuse use after its run.
    @exclusivity(unchecked) private(set) var finishedRuns: UInt64 = 0
    /// Whether the reader is its thread's cached one (which lives until the thread exits)
    /// rather than one made for a single run.
    @exclusivity(unchecked) var isThreadCached = false
    /// Keyed containers kept for reuse (see ``keyedContainer(keyedBy:object:depth:)``).
    @exclusivity(unchecked) var kept = JSONKeptKeyedContainers()

    /// A reader with a token buffer for small documents and no input yet.
    init() {
        tokenCapacity = JSONScanner.tokenCapacity(forByteCount: 126)
        tokens = .allocate(capacity: tokenCapacity)
        // A placeholder: `bytes` is only read during a run, after `scan` has set it.
        bytes = UnsafeRawPointer(tokens).assumingMemoryBound(to: UInt8.self)
    }

    deinit {
        tokens.deallocate()
    }

    /// Starts a run: scans `bytes` (which must outlive the run) into the reader's tokens, growing
    /// the token buffer if the document needs more.
    @inline(__always)
    func scan(bytes: UnsafePointer<UInt8>, count: Int) throws {
        self.bytes = bytes
        let capacity = JSONScanner.tokenCapacity(forByteCount: count)
        if capacity > tokenCapacity {
            tokens.deallocate()
            tokens = .allocate(capacity: capacity)
            tokenCapacity = capacity
        }
        var scanner = JSONScanner(bytes: bytes, count: count, tokens: tokens, capacity: capacity)
        try scanner.scan()
    }

    /// Ends a run: forgets the coding path and frees buffers too large to keep.
    @inline(__always)
    func finish() {
        isInUse = false
        finishedRuns &+= 1
        if !path.isEmpty { path.removeAll(keepingCapacity: true) }
        if tokenCapacity > JSONReader.retainedTokenCapacity {
            tokens.deallocate()
            tokenCapacity = JSONScanner.tokenCapacity(forByteCount: 126)
            tokens = .allocate(capacity: tokenCapacity)
        }
        if scratch.capacity > 16 * 1024 { scratch = [] }
    }

    // MARK: Objects

    /// The value token of the member named `name` in the object at `object`, or `nil`.
    /// Tries the member after the last one found first; with duplicate keys the last one wins.
    @inline(__always)
    func member(named name: inout String, in object: Int) -> Int? {
        name.withUTF8 { member(named: UnsafeRawBufferPointer($0), in: object) }
    }

    /// The value token of the member whose key is the UTF-8 text `name`, or `nil`; as
    /// ``member(named:in:)-(String,_)``.
    @inline(__always)
    func member(named name: UnsafeRawBufferPointer, in object: Int) -> Int? {
        let o = tokens[object]
        let first = object + 1
        let end = Int(o.next)
        if o.isFlagged {
            var found: Int?
            var t = first
            while t < end {
                if keyMatches(t, name) { found = t + 1 }
                t = Int(tokens[t + 1].next)
            }
            return found
        }
        let hint = Int(o.hint)
        var t = hint
        while t < end {
            if keyMatches(t, name) { return found(t, object) }
            t = Int(tokens[t + 1].next)
        }
        t = first
        while t < hint {
            if keyMatches(t, name) { return found(t, object) }
            t = Int(tokens[t + 1].next)
        }
        return nil
    }

    @inline(__always)
    private func found(_ key: Int, _ object: Int) -> Int {
        tokens[object].hint = tokens[key + 1].next
        return key + 1
    }

    @inline(__always)
    func keyMatches(_ t: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        let token = tokens[t]
        if token.isFlagged {
            // An escaped key compares as a String (canonical equivalence), as it always has.
            guard let key = try? unescapedString(token) else { return false }
            return key == String(decoding: name, as: UTF8.self)
        }
        let length = Int(token.end &- token.start)
        guard name.count == length else { return false }
        return length == 0 || memcmp(name.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes + Int(token.start), length) == 0
    }

    /// The key names of the object at `object`, each once.
    func keys(of object: Int) -> [String] {
        let o = tokens[object]
        var names: [String] = []
        var t = object + 1
        while t < Int(o.next) {
            if let name = try? string(t, at: nil) { names.append(name) }
            t = Int(tokens[t + 1].next)
        }
        if o.isFlagged {
            var seen = Set<String>()
            names = names.filter { seen.insert($0).inserted }
        }
        return names
    }

    // MARK: Primitives

    func string(_ t: Int, at key: (any CodingKey)?) throws -> String {
        let token = tokens[t]
        guard token.kind == .string else { throw mismatch("a string", token, self.location(key)) }
        if token.isFlagged { return try unescapedString(token) }
        let raw = UnsafeRawBufferPointer(start: bytes + Int(token.start), count: Int(token.end &- token.start))
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw SluiceError(.decoding, "string for \(self.location(key)) at byte \(token.start) is not valid UTF-8")
        }
        return s
    }

    private func unescapedString(_ token: JSONToken) throws -> String {
        scratch.removeAll(keepingCapacity: true)
        var p = Int(token.start)
        let end = Int(token.end)
        while p < end {
            let b = bytes[p]
            if b != UInt8(ascii: "\\") {
                scratch.append(b)
                p += 1
                continue
            }
            p += 1
            switch bytes[p] {
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: p + 1)
                p += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard p + 6 < end, bytes[p + 1] == UInt8(ascii: "\\"), bytes[p + 2] == UInt8(ascii: "u") else {
                        throw SluiceError(.decoding, "string at byte \(token.start) has an unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
                    }
                    let low = hex4(at: p + 3)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw SluiceError(.decoding, "string at byte \(token.start) has an unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    p += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw SluiceError(.decoding, "string at byte \(token.start) has an unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
                }
                for unit in UTF8.encode(Unicode.Scalar(scalar)!)! { scratch.append(unit) }
            default: scratch.append(bytes[p])  // " \ /
            }
            p += 1
        }
        guard let s = String(validating: scratch, as: UTF8.self) else {
            throw SluiceError(.decoding, "string at byte \(token.start) is not valid UTF-8")
        }
        return s
    }

    private func hex4(at p: Int) -> UInt32 {
        (hexValue(bytes[p])! << 12) | (hexValue(bytes[p + 1])! << 8) | (hexValue(bytes[p + 2])! << 4) | hexValue(bytes[p + 3])!
    }

    func bool(_ t: Int, at key: (any CodingKey)?) throws -> Bool {
        switch tokens[t].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch("a boolean", tokens[t], self.location(key))
        }
    }

    /// The integer at token `t` converted to `I`, or a decoding error naming `location`.
    @inline(__always)
    func integer<I: FixedWidthInteger>(_ t: Int, as type: I.Type, at key: (any CodingKey)?) throws -> I {
        if I.isSigned {
            guard let v = I(exactly: try int64(t, at: key)) else { throw overflow(tokens[t], I.self, self.location(key)) }
            return v
        }
        guard let v = I(exactly: try uint64(t, at: key)) else { throw overflow(tokens[t], I.self, self.location(key)) }
        return v
    }

    /// The value of a number token written as an integer of at most 18 digits (which cannot
    /// overflow), or `nil` for any other token.
    @inline(__always)
    func plainInteger(_ t: Int) -> Int64? {
        let token = tokens[t]
        guard token.kind == .number, token.isFlagged else { return nil }
        var p = Int(token.start)
        let end = Int(token.end)
        let negative = bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        guard end - p <= 18 else { return nil }
        var value: Int64 = 0
        while p < end {
            value = value &* 10 &+ Int64(bytes[p] &- UInt8(ascii: "0"))
            p += 1
        }
        return negative ? 0 &- value : value
    }

    /// The value of a number token that `fastDouble` converts exactly, or `nil`.
    @inline(__always)
    func plainDouble(_ t: Int) -> Double? {
        let token = tokens[t]
        guard token.kind == .number else { return nil }
        return fastDouble(token)
    }

    /// The value of an integer token, or `nil` with `overflowed` set when it does not fit in 64 bits.
    @inline(__always)
    private func magnitude(of token: JSONToken) -> (negative: Bool, magnitude: UInt64)? {
        var p = Int(token.start)
        let end = Int(token.end)
        let negative = bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        var magnitude: UInt64 = 0
        if end - p <= 19 {
            // Up to 19 digits cannot overflow UInt64.
            while p < end {
                magnitude = magnitude &* 10 &+ UInt64(bytes[p] &- UInt8(ascii: "0"))
                p += 1
            }
            return (negative, magnitude)
        }
        while p < end {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(bytes[p] &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            magnitude = s
            p += 1
        }
        return (negative, magnitude)
    }

    /// The number at token `t` as an `Int64`; fractions and exponents are accepted when the value is whole.
    /// `type` names the model's type in overflow errors (an `Int` field reads through here too).
    func int64(_ t: Int, at key: (any CodingKey)?, reporting type: Any.Type = Int64.self) throws -> Int64 {
        let token = tokens[t]
        guard token.kind == .number else { throw mismatch("an integer", token, self.location(key)) }
        if token.isFlagged {
            guard let (negative, magnitude) = magnitude(of: token) else { throw overflow(token, type, self.location(key)) }
            if negative {
                guard magnitude <= UInt64(1) << 63 else { throw overflow(token, type, self.location(key)) }
                return Int64(bitPattern: 0 &- magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else { throw overflow(token, type, self.location(key)) }
            return Int64(magnitude)
        }
        guard let (negative, magnitude) = try wholeMagnitude(token, key) else { throw overflow(token, type, self.location(key)) }
        if negative {
            guard magnitude <= UInt64(1) << 63 else { throw overflow(token, type, self.location(key)) }
            return Int64(bitPattern: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw overflow(token, type, self.location(key)) }
        return Int64(magnitude)
    }

    /// The number at token `t` as a `UInt64`; fractions and exponents are accepted when the value is whole.
    func uint64(_ t: Int, at key: (any CodingKey)?) throws -> UInt64 {
        let token = tokens[t]
        guard token.kind == .number else { throw mismatch("an integer", token, self.location(key)) }
        if token.isFlagged {
            guard let (negative, magnitude) = magnitude(of: token), !negative || magnitude == 0 else {
                throw overflow(token, UInt64.self, self.location(key))
            }
            return magnitude
        }
        guard let (negative, magnitude) = try wholeMagnitude(token, key), !negative || magnitude == 0 else {
            throw overflow(token, UInt64.self, self.location(key))
        }
        return magnitude
    }

    /// The exact value of a number written with a fraction or exponent (`17.0`, `1.7e1`), which
    /// is accepted where an integer is expected when it is whole, as `JSONDecoder` does; `nil`
    /// when its magnitude passes `UInt64`. Computed from the text: through a `Double`, a value
    /// from 2^53 on would lose digits and, from 2^52 on, a fraction.
    private func wholeMagnitude(_ token: JSONToken, _ key: (any CodingKey)?) throws -> (negative: Bool, magnitude: UInt64)? {
        var p = Int(token.start)
        let end = Int(token.end)
        let negative = bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        var significant: [UInt8] = []
        var fractionDigits = 0
        while p < end, isDigit(bytes[p]) {
            let digit = bytes[p] &- UInt8(ascii: "0")
            if !significant.isEmpty || digit != 0 { significant.append(digit) }
            p += 1
        }
        if p < end, bytes[p] == UInt8(ascii: ".") {
            p += 1
            while p < end, isDigit(bytes[p]) {
                let digit = bytes[p] &- UInt8(ascii: "0")
                if !significant.isEmpty || digit != 0 { significant.append(digit) }
                fractionDigits += 1
                p += 1
            }
        }
        var exponent = self.exponent(from: p, to: end)
        // Fraction digits that are significant are those before the trailing zeros.
        while significant.last == 0 {
            significant.removeLast()
            exponent += 1
        }
        if significant.isEmpty { return (negative, 0) }
        let scale = exponent - fractionDigits
        guard scale >= 0 else {
            throw SluiceError(.decoding, "expected an integer for \(self.location(key)) at byte \(token.start), found \(text(token))")
        }
        var magnitude: UInt64 = 0
        for digit in significant {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = m.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { return nil }
            magnitude = sum
        }
        for _ in 0..<scale {
            let (m, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            magnitude = m
        }
        return (negative, magnitude)
    }

    /// The exponent of a number token whose digits end at `p` (0 when it has none), its
    /// magnitude capped at 100,000: far past where a `Double` or a 64-bit integer ends.
    @inline(__always)
    private func exponent(from p: Int, to end: Int) -> Int {
        guard p < end else { return 0 }
        var p = p + 1  // "e" or "E"
        var negative = false
        if bytes[p] == UInt8(ascii: "-") { negative = true; p += 1 } else if bytes[p] == UInt8(ascii: "+") { p += 1 }
        var exponent = 0
        while p < end {
            exponent = Swift.min(exponent * 10 + Int(bytes[p] &- UInt8(ascii: "0")), 100_000)
            p += 1
        }
        return negative ? -exponent : exponent
    }

    /// A `Float`, refusing numbers beyond its range (which `Float(_:)` would make infinite).
    @inline(__always)
    func float(_ t: Int, at key: (any CodingKey)?) throws -> Float {
        let d = try double(t, at: key)
        let f = Float(d)
        guard f.isFinite else {
            throw SluiceError(.decoding, "number \(text(tokens[t])) for \(self.location(key)) at byte \(tokens[t].start) does not fit in Float")
        }
        return f
    }

    @inline(__always)
    func double(_ t: Int, at key: (any CodingKey)?) throws -> Double {
        let token = tokens[t]
        guard token.kind == .number else { throw mismatch("a number", token, self.location(key)) }
        if let d = fastDouble(token) { return d }
        let text = self.text(token)
        guard let d = Double(text), d.isFinite else {
            throw SluiceError(.decoding, "number \(text) for \(self.location(key)) at byte \(token.start) is not representable as a Double")
        }
        return d
    }

    /// The exactly rounded value of simple numbers (at most 19 significant digits, a power of ten
    /// within ±22 and a mantissa below 2^53); `nil` for the rest.
    @inline(__always)
    private func fastDouble(_ token: JSONToken) -> Double? {
        var p = Int(token.start)
        let end = Int(token.end)
        let negative = bytes[p] == UInt8(ascii: "-")
        if negative { p += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        // Significant digits count from the first non-zero one (a mantissa that wrapped to 0
        // past 19 digits still counts them, and goes the exact way).
        while p < end, isDigit(bytes[p]) {
            mantissa = mantissa &* 10 &+ UInt64(bytes[p] &- UInt8(ascii: "0"))
            if digits > 0 || mantissa != 0 { digits += 1 }
            p += 1
        }
        if p < end, bytes[p] == UInt8(ascii: ".") {
            p += 1
            while p < end, isDigit(bytes[p]) {
                mantissa = mantissa &* 10 &+ UInt64(bytes[p] &- UInt8(ascii: "0"))
                if digits > 0 || mantissa != 0 { digits += 1 }
                exponent -= 1
                p += 1
            }
        }
        exponent += self.exponent(from: p, to: end)
        guard digits <= 19, mantissa <= UInt64(1) << 53, exponent >= -22, exponent <= 22 else { return nil }
        var d = Double(mantissa)
        if exponent < 0 { d /= powersOfTen[-exponent] } else if exponent > 0 { d *= powersOfTen[exponent] }
        return negative ? -d : d
    }

    func text(_ token: JSONToken) -> String {
        String(decoding: UnsafeRawBufferPointer(start: bytes + Int(token.start), count: Int(token.end &- token.start)), as: UTF8.self)
    }

    // MARK: Generic values

    /// Decodes a `T` for which `JSONWriter.isPrimitive(T.self)` is true.
    func primitive<T>(_ type: T.Type, _ t: Int, at key: (any CodingKey)?) throws -> T {
        if T.self == Int.self { return unsafeBitCast(Int(try int64(t, at: key, reporting: Int.self)), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(t, at: key), to: T.self) }
        if T.self == String.self { return unsafeBitCast(try string(t, at: key), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(t, at: key), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try int64(t, at: key), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try integer(t, as: Int32.self, at: key), to: T.self) }
        if T.self == Int16.self { return unsafeBitCast(try integer(t, as: Int16.self, at: key), to: T.self) }
        if T.self == Int8.self { return unsafeBitCast(try integer(t, as: Int8.self, at: key), to: T.self) }
        if T.self == UInt.self { return unsafeBitCast(try integer(t, as: UInt.self, at: key), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try integer(t, as: UInt64.self, at: key), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try integer(t, as: UInt32.self, at: key), to: T.self) }
        if T.self == UInt16.self { return unsafeBitCast(try integer(t, as: UInt16.self, at: key), to: T.self) }
        if T.self == UInt8.self { return unsafeBitCast(try integer(t, as: UInt8.self, at: key), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(try float(t, at: key), to: T.self) }
        preconditionFailure("\(T.self) is not a JSON primitive")
    }

    /// Decodes `T` from the value at token `t`, entering `key` in the coding path while it does.
    func decode<T: Decodable>(_ type: T.Type, from t: Int, key: (any CodingKey)?) throws -> T {
        if let key { path.append(key) }
        defer { if key != nil { path.removeLast() } }
        if JSONWriter.isPrimitive(T.self) { return try primitive(T.self, t, at: nil) }
        return try T(from: JSONDecoding(reader: self, token: Int32(truncatingIfNeeded: t), depth: Int32(truncatingIfNeeded: path.count)))
    }

    // MARK: Errors

    /// The current coding path, plus `key`, quoted for an error message.
    func location(_ key: (any CodingKey)? = nil) -> String {
        var components = path
        if let key { components.append(key) }
        if components.isEmpty { return "the top-level value" }
        return "'" + components.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
    }

    func mismatch(_ expected: String, _ token: JSONToken, _ location: String) -> SluiceError {
        let found = token.kind == .number || token.kind == .string && token.end - token.start <= 40
            ? "\(token.kind.name) \(token.kind == .string ? "\"" + text(token) + "\"" : text(token))"
            : token.kind.name
        let offset = token.kind == .string ? token.start - 1 : token.start
        return SluiceError(.decoding, "expected \(expected) for \(location) at byte \(offset), found \(found)")
    }

    private func overflow(_ token: JSONToken, _ type: Any.Type, _ location: String) -> SluiceError {
        SluiceError(.decoding, "number \(text(token)) for \(location) at byte \(token.start) does not fit in \(type)")
    }
}

/// Exact powers of ten representable as Double.
private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]
