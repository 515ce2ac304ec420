import Sluice

/// Compares the pipeline's output with the truth computed from its input: every
/// (sensor, window) must appear exactly once, with the right sum and count, and nothing else.
struct Verification {
    /// A result's identity: sensor and window start (milliseconds since the epoch).
    struct WindowKey: Hashable, Comparable, CustomStringConvertible {
        /// The sensor id.
        var id: Int
        /// The window start, milliseconds since the epoch.
        var start: Int64

        static func < (lhs: WindowKey, rhs: WindowKey) -> Bool { (lhs.id, lhs.start) < (rhs.id, rhs.start) }

        var description: String { "sensor \(id) window \(EpochSeconds.text(milliseconds: start))" }
    }

    /// The window size in milliseconds.
    let windowMilliseconds: Int64
    private var truth: [WindowKey: SumCount] = [:]
    private var found: [WindowKey: [WindowSum]] = [:]
    /// Input records that are not readings (they go to dead letters, not into sums).
    private(set) var malformedInput = 0
    /// Output records that are not window sums.
    private(set) var malformedOutput = 0

    /// A verification for tumbling windows of `window`.
    init(window: Duration) {
        windowMilliseconds = window.wholeMilliseconds
    }

    /// Adds one input record's value to the truth.
    mutating func addInput(_ value: [UInt8]) {
        guard let reading = try? FastJSONDecoder().decode(Reading.self, from: value) else {
            malformedInput += 1
            return
        }
        // The pipeline dead-letters it too.
        guard let time = EpochSeconds.milliseconds(reading.time) else {
            malformedInput += 1
            return
        }
        let start = Self.floorDiv(time, windowMilliseconds) * windowMilliseconds
        truth[WindowKey(id: reading.id, start: start), default: SumCount()].add(reading)
    }

    /// Adds one output record's value.
    mutating func addOutput(_ value: [UInt8]) {
        guard let sum = WindowSum(json: value) else {
            malformedOutput += 1
            return
        }
        found[WindowKey(id: sum.id, start: sum.windowStart), default: []].append(sum)
    }

    /// The outcome.
    func report() -> Report {
        var report = Report(expected: truth.count)
        report.unexpected = malformedOutput
        for (key, sums) in found {
            guard let expected = truth[key] else {
                report.unexpected += sums.count
                report.examples.append("unexpected: \(key) sum=\(sums[0].sum) count=\(sums[0].count)")
                continue
            }
            report.found += 1
            if sums.count > 1 {
                report.duplicates += sums.count - 1
                report.examples.append("duplicated: \(key) appears \(sums.count) times")
            }
            if let wrong = sums.first(where: {
                $0.sum != expected.sum || $0.count != expected.count || $0.windowEnd != key.start + windowMilliseconds
            }) {
                report.wrong += 1
                report.examples.append(
                    "wrong: \(key) has sum=\(wrong.sum) count=\(wrong.count), expected sum=\(expected.sum) count=\(expected.count)")
            }
        }
        for key in truth.keys where found[key] == nil {
            report.missing += 1
            report.examples.append("missing: \(key)")
        }
        report.examples.sort()
        return report
    }

    /// Counts of what was expected and what was found.
    struct Report {
        /// Distinct (sensor, window) results the input calls for.
        var expected: Int
        /// Expected results that appear in the output.
        var found = 0
        /// Expected results absent from the output.
        var missing = 0
        /// Extra copies of expected results.
        var duplicates = 0
        /// Expected results whose sum, count or window end is wrong.
        var wrong = 0
        /// Output records that match no expected result (or are not results at all).
        var unexpected = 0
        /// One line per problem.
        var examples: [String] = []

        /// Whether every expected result appears exactly once, right, and nothing else; and
        /// there was something to check (empty topics, or input that is all malformed, prove nothing).
        var isOK: Bool { expected > 0 && found == expected && missing == 0 && duplicates == 0 && wrong == 0 && unexpected == 0 }

        /// `verify: expected=N found=N missing=0 duplicates=0 wrong=0 unexpected=0 OK`.
        var summary: String {
            "verify: expected=\(expected) found=\(found) missing=\(missing) duplicates=\(duplicates) wrong=\(wrong) "
                + "unexpected=\(unexpected) \(isOK ? "OK" : expected == 0 && found == 0 ? "FAILED (nothing to check)" : "FAILED")"
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }
}
