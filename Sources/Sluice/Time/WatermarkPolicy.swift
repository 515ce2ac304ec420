/// How watermarks are derived from the event times an input partition has seen.
///
/// A partition's watermark is the highest event time seen minus
/// ``outOfOrderness``: Sluice promises that records older than the watermark
/// are rare, and treats them as late. A partition that has caught up with its
/// input (nothing unread below the broker's high watermark) and has seen no
/// record for ``idleTimeout`` of wall-clock time advances its watermark with the
/// wall clock, so the last windows close when input stops. A partition with a
/// backlog is never idle, so replaying history never turns records late.
public struct WatermarkPolicy: Sendable, Equatable {
    /// How far behind the highest seen event time the watermark trails.
    public var outOfOrderness: Duration
    /// Wall-clock time without records after which a caught-up partition is idle; `nil` disables idleness.
    public var idleTimeout: Duration?

    /// Creates a policy.
    public init(outOfOrderness: Duration = .seconds(1), idleTimeout: Duration? = .seconds(5)) {
        precondition(outOfOrderness >= .zero, "outOfOrderness must not be negative")
        self.outOfOrderness = outOfOrderness
        self.idleTimeout = idleTimeout
    }
}
