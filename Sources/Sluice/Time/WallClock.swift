#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The source of wall-clock ("processing") time for the engine.
///
/// The engine reads wall-clock time to advance idle partitions' watermarks and
/// to fire processing-time timers. Tests substitute a ``ManualWallClock`` so
/// that time only moves when the test says so.
public protocol WallClock: Sendable {
    /// The current wall-clock time.
    func now() -> EventTime
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}

    /// Reads `CLOCK_REALTIME`.
    public func now() -> EventTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return EventTime(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

/// A wall clock that moves only when told to; for deterministic tests.
public final class ManualWallClock: WallClock {
    private let current: Mutex<EventTime>

    /// Creates a clock standing at `start`.
    public init(start: EventTime = EventTime(millisecondsSinceEpoch: 0)) {
        current = Mutex(start)
    }

    /// The time the clock stands at.
    public func now() -> EventTime { current.withLock { $0 } }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0 + duration }
    }

    /// Sets the clock to `time` (never backward).
    public func set(to time: EventTime) {
        current.withLock { $0 = max($0, time) }
    }
}
