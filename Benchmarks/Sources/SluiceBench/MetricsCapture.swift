import CoreMetrics
import Synchronization

/// A swift-metrics factory for the pipeline child, passed as
/// `PipelineConfiguration.metricsFactory`: it keeps the values of the few metrics the report
/// needs (checkpoint pauses and sizes) and drops the rest.
final class CapturedMetrics: MetricsFactory, Sendable {
    struct Values: Sendable {
        /// `sluice_checkpoint_pause_seconds`, in nanoseconds, in order.
        var checkpointPauses: [Int64] = []
        /// `sluice_checkpoint_keys`, in order (one per checkpoint, paired with the pauses).
        var checkpointKeys: [Int64] = []
    }

    let values = Mutex(Values())

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Ignored() }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        label == "sluice_checkpoint_keys" ? KeysRecorder(owner: self) : Ignored()
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "sluice_checkpoint_pause_seconds" ? PauseTimer(owner: self) : Ignored()
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class KeysRecorder: RecorderHandler, Sendable {
        let owner: CapturedMetrics
        init(owner: CapturedMetrics) { self.owner = owner }
        func record(_ value: Int64) { owner.values.withLock { $0.checkpointKeys.append(value) } }
        func record(_ value: Double) { record(Int64(value)) }
    }

    private final class PauseTimer: TimerHandler, Sendable {
        let owner: CapturedMetrics
        init(owner: CapturedMetrics) { self.owner = owner }
        func recordNanoseconds(_ duration: Int64) { owner.values.withLock { $0.checkpointPauses.append(duration) } }
    }

    private final class Ignored: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        func increment(by: Int64) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }
}
