/// How an output compares with what was expected: each expected result exactly once, nothing else.
public struct ExactlyOnceReport<Key: Hashable & Sendable, Value: Equatable & Sendable>: Sendable, CustomStringConvertible {
    /// Results expected.
    public var expectedCount: Int
    /// Results found.
    public var foundCount: Int
    /// Expected keys never found.
    public var missing: [Key]
    /// Keys found more than once, with how often.
    public var duplicated: [Key: Int]
    /// Keys found with another value than expected: (expected, found).
    public var wrong: [Key: (expected: Value, found: Value)]
    /// Keys found but not expected.
    public var unexpected: [Key]
    /// Output records that could not be read as results (see ``init(expected:found:unparsed:)``).
    public var unparsedCount: Int

    /// Whether every expected result appears exactly once with its value, and nothing else:
    /// no other result, and no output record that is not a result.
    public var isExactlyOnce: Bool {
        missing.isEmpty && duplicated.isEmpty && wrong.isEmpty && unexpected.isEmpty && unparsedCount == 0
    }

    /// Compares `found` with `expected`.
    ///
    /// - Parameters:
    ///   - expected: Every result a correct run produces, by key.
    ///   - found: The results read from the output.
    ///   - unparsed: How many output records the caller could not read as results (a parser
    ///     that returns `nil` drops them from `found`); any makes the report fail.
    public init(expected: [Key: Value], found: [(key: Key, value: Value)], unparsed: Int = 0) {
        expectedCount = expected.count
        foundCount = found.count
        unparsedCount = unparsed
        var seen: [Key: Int] = [:]
        var wrong: [Key: (expected: Value, found: Value)] = [:]
        var unexpected: [Key] = []
        for (key, value) in found {
            seen[key, default: 0] += 1
            if let want = expected[key] {
                if want != value { wrong[key] = (want, value) }
            } else {
                unexpected.append(key)
            }
        }
        missing = expected.keys.filter { seen[$0] == nil }
        duplicated = seen.filter { $0.value > 1 }
        self.wrong = wrong
        self.unexpected = unexpected
    }

    public var description: String {
        "expected=\(expectedCount) found=\(foundCount) missing=\(missing.count) duplicates=\(duplicated.count) wrong=\(wrong.count) unexpected=\(unexpected.count)"
            + (unparsedCount > 0 ? " unparsed=\(unparsedCount)" : "")
            + (isExactlyOnce ? " OK" : " FAILED; e.g. missing \(missing.prefix(3)), duplicated \(Array(duplicated.keys.prefix(3))), wrong \(Array(wrong.prefix(3)))")
    }
}
