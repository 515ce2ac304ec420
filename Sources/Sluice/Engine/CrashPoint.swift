#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Named places in the checkpoint protocol where a test can make the process die abruptly.
///
/// Enable one with the environment variable `SLUICE_CRASH_POINT=<name>` or
/// `SLUICE_CRASH_POINT=<name>:<n>` (die the n-th time it is reached; default 1),
/// or through ``PipelineConfiguration/crashPoints``. The process kills itself with
/// `SIGKILL`: nothing is flushed, exactly as if the machine had lost power.
public enum CrashPoint: String, Sendable, CaseIterable {
    /// Everything is prepared; the LMDB transaction has not committed.
    case beforeCheckpointCommit = "before-checkpoint-commit"
    /// The checkpoint committed; nothing of its outbox was published.
    case afterCommitBeforePublish = "after-commit-before-publish"
    /// About half of a checkpoint's outbox was handed to the producer.
    case midPublish = "mid-publish"
    /// Publications were confirmed; the checkpoint that trims them from the outbox has not committed.
    case beforeOutboxTrim = "before-outbox-trim"
    /// Input offsets are about to be committed to the consumer group.
    case beforeOffsetCommit = "before-offset-commit"
}

/// Which crash points are armed, and after how many hits.
public struct CrashPointSchedule: Sendable {
    private let armed: [CrashPoint: Int]
    private let hits = HitCounter()

    /// No crash points.
    public static let none = CrashPointSchedule(armed: [:])

    /// Arms `point` to fire the `hit`-th time it is reached.
    public static func crash(at point: CrashPoint, onHit hit: Int = 1) -> CrashPointSchedule {
        CrashPointSchedule(armed: [point: max(1, hit)])
    }

    /// Reads `SLUICE_CRASH_POINT` (`name` or `name:n`).
    public static func fromEnvironment() -> CrashPointSchedule {
        guard let raw = getenv("SLUICE_CRASH_POINT").map({ String(cString: $0) }), !raw.isEmpty else { return .none }
        let parts = raw.split(separator: ":")
        guard let point = CrashPoint(rawValue: String(parts[0])) else { return .none }
        let hit = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        return .crash(at: point, onHit: hit)
    }

    private init(armed: [CrashPoint: Int]) {
        self.armed = armed
    }

    /// Whether any crash point is armed.
    public var isArmed: Bool { !armed.isEmpty }

    /// Dies with SIGKILL if `point` is armed and this is its fatal hit.
    func reach(_ point: CrashPoint) {
        guard let fatalHit = armed[point] else { return }
        if hits.increment(point) == fatalHit {
            kill(getpid(), SIGKILL)
        }
    }
}

private final class HitCounter: Sendable {
    private let counts = Mutex<[CrashPoint: Int]>([:])

    func increment(_ point: CrashPoint) -> Int {
        counts.withLock { counts in
            counts[point, default: 0] += 1
            return counts[point]!
        }
    }
}
