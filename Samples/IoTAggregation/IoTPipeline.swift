import Sluice

/// The sample's pipeline: each sensor's readings summed per tumbling event-time window.
enum IoTPipeline {
    /// The processor type of the pipeline: windows of readings keyed by sensor id.
    typealias Processor = WindowAggregator<Int, Reading, SumCount>

    /// What the pipeline reads, writes and how it windows.
    struct Settings: Sendable {
        /// The application id: consumer group, output headers.
        var applicationID: String
        /// The topic of readings.
        var input: String
        /// The topic of window sums.
        var output: String
        /// The topic for late readings; `nil` for Sluice's default `<application id>-late`.
        var late: String?
        /// The topic for malformed readings; `nil` for Sluice's default `<application id>-dead-letters`.
        var deadLetters: String?
        /// The tumbling window size.
        var window: Duration
        /// How far behind the newest reading the watermark stays.
        var outOfOrderness: Duration
        /// After how long without records a partition stops holding the watermark back.
        var idleTimeout: Duration
        /// How long after its end a window still accepts readings.
        var allowedLateness: Duration
        /// How this process gets its input partitions.
        var assignment: KafkaSource.Assignment = .allPartitions
    }

    /// The pipeline definition for `settings`.
    static func definition(_ settings: Settings) -> PipelineDefinition<Processor> {
        var stage = Pipeline(settings.applicationID)
            .source(KafkaSource(topic: settings.input, assignment: settings.assignment), decoding: Reading.self)
            .eventTime { $0.time }
            .watermarks(outOfOrderness: settings.outOfOrderness, idleTimeout: settings.idleTimeout)
            .key { $0.id }
            .window(.tumbling(settings.window), allowedLateness: settings.allowedLateness)
            .aggregate(into: SumCount()) { accumulator, reading in accumulator.add(reading) }
        if let late = settings.late { stage = stage.lateRecords(to: .topic(late)) }
        if let deadLetters = settings.deadLetters { stage = stage.deadLetters(to: .topic(deadLetters)) }
        return stage.sink(
            KafkaSink(topic: settings.output) { result in
                let sum = WindowSum(result)
                return SinkRecord(key: sum.key, value: sum.json)
            })
    }
}
