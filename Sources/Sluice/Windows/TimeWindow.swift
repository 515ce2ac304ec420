/// A half-open interval of event time, `[start, end)`.
public struct TimeWindow: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The first instant inside the window.
    public var start: EventTime
    /// The first instant after the window.
    public var end: EventTime

    /// Creates a window.
    public init(start: EventTime, end: EventTime) {
        precondition(start < end, "a window must have a positive length")
        self.start = start
        self.end = end
    }

    /// Whether `time` lies inside the window.
    public func contains(_ time: EventTime) -> Bool { start <= time && time < end }

    public static func < (lhs: TimeWindow, rhs: TimeWindow) -> Bool {
        (lhs.start, lhs.end) < (rhs.start, rhs.end)
    }

    public var description: String { "[\(start), \(end))" }
}
