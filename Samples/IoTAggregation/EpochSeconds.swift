import Sluice

/// Renders seconds since the epoch as JSON numbers: whole seconds as integers
/// (`1700000000`), others with their shortest exact decimal form (`1700000000.25`).
enum EpochSeconds {
    /// `seconds` as a JSON number.
    static func text(_ seconds: Double) -> String {
        if seconds.rounded(.towardZero) == seconds, abs(seconds) < 9e15 { return String(Int64(seconds)) }
        return "\(seconds)"
    }

    /// `milliseconds` since the epoch as a JSON number of seconds.
    static func text(milliseconds: Int64) -> String {
        if milliseconds % 1_000 == 0 { return String(milliseconds / 1_000) }
        return "\(Double(milliseconds) / 1_000)"
    }

    /// Milliseconds since the epoch, truncated toward negative infinity exactly as Sluice's
    /// `EventTime(secondsSinceEpoch:)` does, so windows computed here match the pipeline's;
    /// `nil` for a time the pipeline dead-letters (outside `EventTime.isSupportedRecordTime`).
    static func milliseconds(_ seconds: Double) -> Int64? {
        let time = EventTime(secondsSinceEpoch: seconds)
        return time.isSupportedRecordTime ? time.millisecondsSinceEpoch : nil
    }
}
