/// A point in event time: milliseconds since the Unix epoch.
///
/// Kafka timestamps are milliseconds, so Sluice keeps event time at that
/// resolution; sub-millisecond parts of a reading's time are truncated toward
/// negative infinity (so windows stay aligned for times before 1970 too).
public struct EventTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    /// Creates an event time from milliseconds since the epoch.
    @inlinable
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Creates an event time from (possibly fractional) seconds since the epoch.
    ///
    /// Seconds beyond ``distantPast`` or ``distantFuture``, infinite or not a number give
    /// ``distantPast`` (below zero or not a number) or ``distantFuture``, outside the range
    /// records may carry (``isSupportedRecordTime``): such a record is dead-lettered.
    @inlinable
    public init(secondsSinceEpoch seconds: Double) {
        let milliseconds = (seconds * 1000).rounded(.down)
        if milliseconds > Double(Self.distantPast.millisecondsSinceEpoch) && milliseconds < Double(Self.distantFuture.millisecondsSinceEpoch) {
            self.millisecondsSinceEpoch = Int64(milliseconds)
        } else {
            self = milliseconds > 0 ? .distantFuture : .distantPast
        }
    }

    /// The earliest representable time.
    public static let distantPast = EventTime(millisecondsSinceEpoch: .min / 2)
    /// The latest representable time.
    public static let distantFuture = EventTime(millisecondsSinceEpoch: .max / 2)

    /// The longest window, session gap or allowed lateness Sluice works with, in milliseconds
    /// (about 36 million years): window bounds and timers computed from a supported record time
    /// and spans up to this long stay within `Int64`. Longer allowed lateness (or
    /// out-of-orderness, or idle timeout) counts as this long; longer windows are refused.
    public static let maximumSpanMilliseconds: Int64 = .max / 8

    /// The latest time a record may carry: two of the longest spans before ``distantFuture``
    /// (about 73 million years after the epoch), so that the end of its latest window plus its
    /// allowed lateness still comes before ``distantFuture``, where the end of a bounded input
    /// raises the watermark: every window closes there.
    public static let latestRecordTime = EventTime(millisecondsSinceEpoch: .max / 2 - 2 * maximumSpanMilliseconds)

    /// Whether a record may carry this time: after ``distantPast`` and at or before
    /// ``latestRecordTime``, so that window bounds, timers and watermarks computed from it
    /// cannot overflow, and its windows close at the end of a bounded input. The pipeline
    /// dead-letters records with other times.
    @inlinable
    public var isSupportedRecordTime: Bool { self > .distantPast && self <= .latestRecordTime }

    /// Seconds since the epoch.
    public var secondsSinceEpoch: Double { Double(millisecondsSinceEpoch) / 1000 }

    @inlinable
    public static func < (lhs: EventTime, rhs: EventTime) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The time `duration` later; saturates at the ends of `Int64` (an idle timeout of
    /// `.seconds(.max)` then never passes).
    @inlinable
    public static func + (lhs: EventTime, rhs: Duration) -> EventTime {
        let (sum, overflow) = lhs.millisecondsSinceEpoch.addingReportingOverflow(rhs.wholeMilliseconds)
        return EventTime(millisecondsSinceEpoch: overflow ? (rhs < .zero ? .min : .max) : sum)
    }

    /// The time `duration` earlier; saturates at the ends of `Int64`.
    @inlinable
    public static func - (lhs: EventTime, rhs: Duration) -> EventTime {
        let (difference, overflow) = lhs.millisecondsSinceEpoch.subtractingReportingOverflow(rhs.wholeMilliseconds)
        return EventTime(millisecondsSinceEpoch: overflow ? (rhs < .zero ? .max : .min) : difference)
    }

    public var description: String { "\(secondsSinceEpoch)s" }

    /// Encodes the time as its milliseconds since the epoch (written directly by Sluice's state encoder).
    public func encode(to encoder: any Encoder) throws {
        if let binary = encoder as? BinaryStateEncoding {
            writeFields(to: try binary.openKeyed())
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(millisecondsSinceEpoch, forKey: .millisecondsSinceEpoch)
    }
}

extension EventTime {
    /// Writes the time's one member into the keyed container being written.
    @inline(__always)
    func writeFields(to writer: BinaryStateWriter) {
        writer.writeHeader(key: CodingKeys.millisecondsSinceEpoch, wireType: .varint)
        writer.body.appendZigzag(millisecondsSinceEpoch)
    }
}

extension Duration {
    /// This duration in whole milliseconds, rounded toward zero; `Int64.max` (or `.min`) for
    /// a duration too long to count in milliseconds, such as `.seconds(.max)`.
    @inlinable
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let (total, overflowAgain) = milliseconds.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflow || overflowAgain { return self < .zero ? .min : .max }
        return total
    }
}
