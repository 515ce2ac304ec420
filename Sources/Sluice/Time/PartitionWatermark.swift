/// The watermark of one input partition, with its idleness bookkeeping.
@usableFromInline
struct PartitionWatermark: Sendable {
    @usableFromInline let policy: WatermarkPolicy
    /// The current watermark; `nil` before any record was seen (and none was restored).
    @usableFromInline var current: EventTime?
    /// Wall-clock time of the last record, or of the start, for idleness.
    @usableFromInline var lastActivity: EventTime
    /// The highest event time the partition has seen.
    @usableFromInline var maxEventTime: EventTime?

    /// The policy's out-of-orderness, at most ``EventTime/maximumSpanMilliseconds`` (a longer
    /// one, such as `.seconds(.max)`, counts as that): the watermark then stays within the
    /// range in which the wall clock minus it is still an `Int64`.
    @inlinable
    var outOfOrderness: Duration {
        min(policy.outOfOrderness, .milliseconds(EventTime.maximumSpanMilliseconds))
    }

    @usableFromInline
    init(policy: WatermarkPolicy, restored: EventTime?, now: EventTime) {
        self.policy = policy
        self.current = restored
        self.lastActivity = now
    }

    /// Notes a record's event time; returns whether the watermark moved.
    @inlinable
    mutating func observe(_ time: EventTime, now: EventTime) -> Bool {
        lastActivity = now
        if maxEventTime.map({ time > $0 }) ?? true { maxEventTime = time }
        return raise(to: time - outOfOrderness)
    }

    /// Advances the watermark with wall-clock time if the partition is idle; returns whether it moved.
    @inlinable
    mutating func advanceIfIdle(now: EventTime, isCaughtUp: Bool) -> Bool {
        guard let idleTimeout = policy.idleTimeout, isCaughtUp else { return false }
        guard now >= lastActivity + idleTimeout else { return false }
        // Idle: event time is taken to move with the wall clock from here on.
        return raise(to: now - outOfOrderness)
    }

    /// Forces the watermark to at least `time` (used at the end of a bounded replay).
    @inlinable
    mutating func raise(to time: EventTime) -> Bool {
        if let current, current >= time { return false }
        current = time
        return true
    }
}
