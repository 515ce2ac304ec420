import CoreMetrics

/// The metrics a pipeline reports through swift-metrics. Labels stay low-cardinality
/// (`pipeline`, and `partition` for per-input-partition gauges).
///
/// The library never bootstraps a metrics backend; the application chooses one
/// (the IoT sample uses Prometheus) or passes a factory in
/// ``PipelineConfiguration/metricsFactory``. `Docs/Operations.md` lists every metric.
struct PipelineMetrics {
    private let dimensions: [(String, String)]
    private let factory: any MetricsFactory
    private let resultsEmitted: Counter
    private let recordsPublished: Counter
    private let lateRecords: Counter
    private let deadLetters: Counter
    private let keysRestored: Counter
    private let keysPassivated: Counter
    private let rebalances: Counter
    private let checkpoints: Counter
    private let checkpointPause: Timer
    private let checkpointKeys: Recorder
    private let checkpointOutbox: Recorder
    private let checkpointAge: Gauge
    private let checkpointTimestamp: Gauge
    private let outboxDepth: Gauge
    private let liveKeys: Gauge
    private let stateStoreBytes: Gauge
    private let windowsOpen: Gauge
    private let brokerErrors: Counter
    private let producerQueueFullWaits: Counter
    private let publishLatency: Timer
    private var previous = PipelineStatus()

    /// Creates the metrics of `pipeline`, made by `factory` (the global `MetricsSystem.factory` by default).
    init(pipeline: String, factory: (any MetricsFactory)? = nil) {
        let dimensions = [("pipeline", pipeline)]
        let factory = factory ?? MetricsSystem.factory
        self.factory = factory
        self.dimensions = dimensions
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
        resultsEmitted = counter("sluice_results_emitted_total")
        recordsPublished = counter("sluice_records_published_total")
        lateRecords = counter("sluice_late_records_total")
        deadLetters = counter("sluice_dead_letters_total")
        keysRestored = counter("sluice_keys_restored_total")
        keysPassivated = counter("sluice_keys_passivated_total")
        rebalances = counter("sluice_rebalances_total")
        checkpoints = counter("sluice_checkpoints_total")
        checkpointPause = Timer(label: "sluice_checkpoint_pause_seconds", dimensions: dimensions, factory: factory)
        checkpointKeys = Recorder(label: "sluice_checkpoint_keys", dimensions: dimensions, factory: factory)
        checkpointOutbox = Recorder(label: "sluice_checkpoint_outbox_records", dimensions: dimensions, factory: factory)
        checkpointAge = Gauge(label: "sluice_last_checkpoint_age_seconds", dimensions: dimensions, factory: factory)
        checkpointTimestamp = Gauge(label: "sluice_last_checkpoint_timestamp_seconds", dimensions: dimensions, factory: factory)
        outboxDepth = Gauge(label: "sluice_outbox_depth", dimensions: dimensions, factory: factory)
        liveKeys = Gauge(label: "sluice_key_actors_live", dimensions: dimensions, factory: factory)
        stateStoreBytes = Gauge(label: "sluice_state_store_bytes", dimensions: dimensions, factory: factory)
        windowsOpen = Gauge(label: "sluice_windows_open", dimensions: dimensions, factory: factory)
        brokerErrors = counter("sluice_broker_errors_total")
        producerQueueFullWaits = counter("sluice_producer_queue_full_waits_total")
        publishLatency = Timer(label: "sluice_publish_latency_seconds", dimensions: dimensions, factory: factory)
    }

    /// A consumer-group rebalance happened.
    func rebalanced() { rebalances.increment() }

    /// A checkpoint committed after pausing processing for `pause`.
    func checkpointed(pause: Duration, keys: Int, outbox: Int) {
        let (seconds, attoseconds) = pause.components
        checkpointPause.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        checkpointKeys.record(keys)
        checkpointOutbox.record(outbox)
    }

    /// Records were confirmed by the broker this long after they were handed to the producer.
    func published(latencies: [Duration]) {
        for latency in latencies {
            let (seconds, attoseconds) = latency.components
            publishLatency.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
    }

    /// Brings counters and gauges up to date with a status snapshot taken at wall-clock `now`.
    mutating func observe(_ status: PipelineStatus, now: EventTime) {
        func grow(_ counter: Counter, _ old: UInt64, _ new: UInt64) {
            if new > old { counter.increment(by: Int64(clamping: new - old)) }
        }
        for (partition, counts) in status.partitionCounts {
            let before = previous.partitionCounts[partition] ?? PartitionCounts()
            let labels = dimensions + [("partition", partition.description)]
            grow(Counter(label: "sluice_records_consumed_total", dimensions: labels, factory: factory), before.recordsConsumed, counts.recordsConsumed)
            grow(Counter(label: "sluice_records_processed_total", dimensions: labels, factory: factory), before.recordsProcessed, counts.recordsProcessed)
        }
        grow(resultsEmitted, previous.router.resultsEmitted, status.router.resultsEmitted)
        grow(lateRecords, previous.router.lateRecords, status.router.lateRecords)
        grow(deadLetters, previous.router.deadLettered, status.router.deadLettered)
        grow(keysRestored, previous.router.keysRestored, status.router.keysRestored)
        grow(keysPassivated, previous.router.passivatedKeys, status.router.passivatedKeys)
        grow(recordsPublished, previous.recordsPublished, status.recordsPublished)
        grow(checkpoints, previous.checkpointsCompleted, status.checkpointsCompleted)
        liveKeys.record(status.liveKeys)
        stateStoreBytes.record(status.stateStoreBytes)
        windowsOpen.record(status.router.windowsOpen)
        grow(brokerErrors, previous.brokerErrors, status.brokerErrors)
        grow(producerQueueFullWaits, previous.producerQueueFullWaits, status.producerQueueFullWaits)
        outboxDepth.record(status.outboxDepth)
        if let last = status.lastCheckpointTime {
            // Alert on `time() - sluice_last_checkpoint_timestamp_seconds`: it keeps growing even if the loop stalls.
            checkpointTimestamp.record(Double(last.millisecondsSinceEpoch) / 1000)
            checkpointAge.record(Double(now.millisecondsSinceEpoch - last.millisecondsSinceEpoch) / 1000)
        }
        for (partition, lag) in status.lag {
            Gauge(label: "sluice_consumer_lag", dimensions: dimensions + [("partition", partition.description)], factory: factory)
                .record(lag)
        }
        for partition in previous.lag.keys where status.lag[partition] == nil {
            // Revoked: this process no longer reads it, so it has no lag here.
            Gauge(label: "sluice_consumer_lag", dimensions: dimensions + [("partition", partition.description)], factory: factory)
                .record(0)
        }
        for partition in previous.watermarks.keys where status.watermarks[partition] == nil {
            // Revoked: its watermark is the new owner's to report; a frozen value here would
            // keep a delay alert firing (or silent) for a partition this process does not read.
            let labels = dimensions + [("partition", partition.description)]
            Gauge(label: "sluice_watermark_seconds", dimensions: labels, factory: factory).destroy()
            Gauge(label: "sluice_watermark_delay_seconds", dimensions: labels, factory: factory).destroy()
        }
        for (partition, watermark) in status.watermarks where watermark < EventTime.distantFuture {
            Gauge(label: "sluice_watermark_seconds", dimensions: dimensions + [("partition", partition.description)], factory: factory)
                .record(Double(watermark.millisecondsSinceEpoch) / 1000)
            // After the end of a bounded input the watermark is the end of time; no delay to report.
            // In floating point: a watermark far in the past (a long out-of-orderness) is further
            // from the clock than an `Int64` of milliseconds holds.
            let delay = (Double(now.millisecondsSinceEpoch) - Double(watermark.millisecondsSinceEpoch)) / 1000
            Gauge(label: "sluice_watermark_delay_seconds", dimensions: dimensions + [("partition", partition.description)], factory: factory)
                .record(delay)
        }
        previous = status
    }
}
