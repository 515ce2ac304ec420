import Sluice

/// Parses durations written as a number and a unit — `250ms`, `1s`, `1.5s`, `2m` — for flags.
enum DurationParser {
    /// Why a duration flag was rejected; the text is shown after ArgumentParser's
    /// "The value '…' is invalid for '--flag <value>'".
    struct Failure: Error, CustomStringConvertible {
        /// What was wrong and what would be accepted.
        let description: String
    }

    /// Parses `text`; a bare number is read as seconds only when `bareNumbersAreSeconds` is set
    /// (a bare `0` is always accepted).
    static func parse(_ text: String, bareNumbersAreSeconds: Bool = false) throws -> Duration {
        let trimmed = text.trimmingWhitespace()
        let numberEnd = trimmed.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? trimmed.endIndex
        let number = trimmed[..<numberEnd]
        let unit = trimmed[numberEnd...]
        guard !number.isEmpty, let value = Double(number), value.isFinite else {
            throw Failure(description: "not a duration: write a non-negative number followed by ms, s or m, for example 500ms, 10s or 2m")
        }
        let nanosecondsPerUnit: Double
        switch unit {
        case "ms": nanosecondsPerUnit = 1e6
        case "s": nanosecondsPerUnit = 1e9
        case "m": nanosecondsPerUnit = 60e9
        case "" where value == 0 || bareNumbersAreSeconds: nanosecondsPerUnit = 1e9
        case "":
            throw Failure(description: "the duration has no unit: add ms, s or m, for example \(number)s")
        default:
            throw Failure(description: "unknown unit \"\(unit)\": use ms, s or m, for example 500ms, 10s or 2m")
        }
        let nanoseconds = value * nanosecondsPerUnit
        guard nanoseconds < 1e18 else {
            throw Failure(description: "the duration is too long: keep it under about 30 years")
        }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// Formats `duration` the way ``parse(_:bareNumbersAreSeconds:)`` reads it: `500ms`, `10s`, `1.5s`, `2m`.
    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.wholeMilliseconds
        if milliseconds != 0 && milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1_000 == 0 { return "\(milliseconds / 1_000)s" }
        if milliseconds < 1_000 { return "\(milliseconds)ms" }
        return "\(Double(milliseconds) / 1_000)s"
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    fileprivate func trimmingWhitespace() -> Substring {
        let text = Substring(self)
        let start = text.firstIndex { !$0.isWhitespace } ?? text.endIndex
        let end = text.lastIndex { !$0.isWhitespace }.map { text.index(after: $0) } ?? start
        return text[start..<end]
    }
}
