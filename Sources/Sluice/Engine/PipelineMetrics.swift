import Metrics

/// The metrics a pipeline reports through swift-metrics. Labels stay low-cardinality.
///
/// The library never bootstraps a metrics backend; the application chooses one
/// (the IoT sample uses Prometheus). See `Docs/Operations.md` for each metric.
struct PipelineMetrics {
    private let dimensions: [(String, String)]
    private let recordsConsumed: Counter
    private let resultsEmitted: Counter
    private let lateRecords: Counter
    private let deadLetters: Counter
    private let rebalances: Counter
    private let checkpoints: Counter
    private let checkpointPause: Timer
    private let checkpointKeys: Recorder
    private let outboxDepth: Gauge
    private let liveKeys: Gauge
    private let lastCheckpointTime: Gauge

    init(pipeline: String) {
        let dimensions = [("pipeline", pipeline)]
        self.dimensions = dimensions
        recordsConsumed = Counter(label: "sluice_records_consumed_total", dimensions: dimensions)
        resultsEmitted = Counter(label: "sluice_results_emitted_total", dimensions: dimensions)
        lateRecords = Counter(label: "sluice_late_records_total", dimensions: dimensions)
        deadLetters = Counter(label: "sluice_dead_letters_total", dimensions: dimensions)
        rebalances = Counter(label: "sluice_rebalances_total", dimensions: dimensions)
        checkpoints = Counter(label: "sluice_checkpoints_total", dimensions: dimensions)
        checkpointPause = Timer(label: "sluice_checkpoint_pause_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        checkpointKeys = Recorder(label: "sluice_checkpoint_keys", dimensions: dimensions)
        outboxDepth = Gauge(label: "sluice_outbox_depth", dimensions: dimensions)
        liveKeys = Gauge(label: "sluice_key_actors_live", dimensions: dimensions)
        lastCheckpointTime = Gauge(label: "sluice_last_checkpoint_timestamp_seconds", dimensions: dimensions)
    }

    func consumed(_ count: Int) { recordsConsumed.increment(by: count) }
    func resultEmitted() { resultsEmitted.increment() }
    func late() { lateRecords.increment() }
    func deadLettered() { deadLetters.increment() }
    func rebalanced() { rebalances.increment() }

    func checkpointed(pause: Duration, keys: Int, outbox: Int) {
        checkpoints.increment()
        checkpointPause.recordNanoseconds(pause.wholeMilliseconds * 1_000_000)
        checkpointKeys.record(keys)
        lastCheckpointTime.record(Double(SystemWallClock().now().millisecondsSinceEpoch) / 1000)
    }

    func update(lag: [InputPartition: Int64], watermarks: [InputPartition: EventTime], liveKeys count: Int, outboxDepth depth: Int, now: EventTime) {
        liveKeys.record(count)
        outboxDepth.record(depth)
        for (partition, value) in lag {
            Gauge(label: "sluice_consumer_lag", dimensions: dimensions + [("partition", partition.description)]).record(value)
        }
        for (partition, watermark) in watermarks {
            let delay = Double(now.millisecondsSinceEpoch - watermark.millisecondsSinceEpoch) / 1000
            Gauge(label: "sluice_watermark_delay_seconds", dimensions: dimensions + [("partition", partition.description)]).record(delay)
        }
    }
}
