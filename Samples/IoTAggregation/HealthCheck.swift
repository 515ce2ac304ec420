import Sluice
import Synchronization

/// Decides whether the running pipeline is healthy, for `GET /health`.
///
/// Healthy while it is starting (for up to ``startupGrace``) and afterwards while a checkpoint
/// completed within the last ``checkpointIntervalsAllowed`` checkpoint intervals; unhealthy
/// once the pipeline failed (for example on a fatal producer error) or stopped.
final class HealthCheck: Sendable {
    /// How long a pipeline may take to start before it counts as unhealthy.
    static let startupGrace: Duration = .seconds(30)
    /// How many checkpoint intervals may pass without a checkpoint.
    static let checkpointIntervalsAllowed = 5

    private let checkpointInterval: Duration
    private let started: ContinuousClock.Instant
    private let status: @Sendable () -> PipelineStatus
    private let failure = Mutex<String?>(nil)

    /// A check for a pipeline whose progress `status` reports.
    init(checkpointInterval: Duration, status: @escaping @Sendable () -> PipelineStatus) {
        self.checkpointInterval = checkpointInterval
        self.status = status
        self.started = .now
    }

    /// Records that the pipeline failed; health stays 503 from now on.
    func recordFailure(_ reason: String) {
        failure.withLock { $0 = $0 ?? reason }
    }

    /// The answer to `GET /health`: 200 `ok`, or 503 with the reason.
    func response() -> MetricsServer.Response {
        let (healthy, reason) = evaluate(now: SystemWallClock().now())
        return .text(healthy ? "ok\n" : "\(reason)\n", status: healthy ? 200 : 503)
    }

    /// Whether the pipeline is healthy at wall-clock time `now`, and why not.
    func evaluate(now: EventTime) -> (healthy: Bool, reason: String) {
        if let failure = failure.withLock({ $0 }) { return (false, "pipeline failed: \(failure)") }
        let status = status()
        if let failure = status.failure { return (false, "pipeline failed: \(failure)") }
        let uptime = ContinuousClock.now - started
        let limit = checkpointInterval * Self.checkpointIntervalsAllowed
        guard let last = status.lastCheckpointTime else {
            if uptime <= max(Self.startupGrace, limit) { return (true, "starting") }
            return (false, "no checkpoint completed in \(DurationParser.format(uptime)) since start")
        }
        if !status.isRunning { return (false, "pipeline is not running") }
        let age = Duration.milliseconds(now.millisecondsSinceEpoch - last.millisecondsSinceEpoch)
        if age > limit {
            return (false, "no checkpoint completed for \(DurationParser.format(age)) (limit \(DurationParser.format(limit)))")
        }
        return (true, "ok")
    }
}
