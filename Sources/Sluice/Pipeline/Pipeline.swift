/// The start of a pipeline definition.
///
/// A pipeline reads like a sentence, one step per line:
///
/// ```swift
/// let job = Pipeline("iot-sums")
///     .source(KafkaSource(topic: "sensors"), decoding: Reading.self)
///     .eventTime { $0.time }
///     .watermarks(outOfOrderness: .seconds(1), idleTimeout: .seconds(5))
///     .key(by: \.id)
///     .window(.tumbling(.seconds(10)), allowedLateness: .seconds(2))
///     .aggregate(into: 0) { sum, reading in sum += reading.value }
///     .sink(KafkaSink(topic: "sensor-sums"))
/// ```
public struct Pipeline: Sendable {
    /// The pipeline's name: its application id, used for the consumer group, output headers and default side topics.
    public let name: String

    /// Starts a pipeline definition.
    public init(_ name: String) {
        precondition(!name.isEmpty, "a pipeline needs a name")
        self.name = name
    }

    /// Reads records from `source` and decodes each value as JSON into `Input`.
    ///
    /// Records that do not decode go to the dead-letter output with the reason.
    public func source<Input: Decodable & Sendable>(_ source: any PipelineSource, decoding type: Input.Type) -> SourceStage<Input> {
        let decoder = FastJSONDecoder()
        return SourceStage(name: name, source: source, decode: .value { try decoder.decode(Input.self, from: $0) })
    }

    /// Reads records from `source` whose values are JSON objects, and makes each `Input` from the
    /// object's fields with `read`, without `Codable` (see ``JSONObjectFields``).
    ///
    /// Records that are not JSON objects, or for which `read` throws, go to the dead-letter output
    /// with the reason.
    public func source<Input: Sendable>(
        _ source: any PipelineSource, readingJSONObject read: @escaping @Sendable (JSONObjectFields) throws -> Input
    ) -> SourceStage<Input> {
        let decoder = FastJSONDecoder()
        return SourceStage(name: name, source: source, decode: .value { try decoder.withObject(in: $0, read) })
    }

    /// Reads records from `source` and decodes each with `decode`.
    public func source<Input: Sendable>(
        _ source: any PipelineSource, decode: @escaping @Sendable (SourceRecord) throws -> Input
    ) -> SourceStage<Input> {
        SourceStage(name: name, source: source, decode: .record(decode))
    }
}

/// A pipeline with a source: choose event time and watermarks, then a key.
public struct SourceStage<Input: Sendable>: Sendable {
    let name: String
    let source: any PipelineSource
    let decode: RecordDecoding<Input>
    var eventTime: EventTimeSource<Input> = .recordTimestamp
    var watermarks = WatermarkPolicy()

    init(name: String, source: any PipelineSource, decode: RecordDecoding<Input>) {
        self.name = name
        self.source = source
        self.decode = decode
    }

    /// Takes each record's event time from the decoded input.
    public func eventTime(_ extract: @escaping @Sendable (Input) -> EventTime) -> Self {
        var copy = self
        copy.eventTime = .extract(extract)
        return copy
    }

    /// Takes each record's event time from the decoded input, in seconds since the epoch.
    public func eventTime(_ seconds: @escaping @Sendable (Input) -> Double) -> Self {
        var copy = self
        copy.eventTime = .extract { EventTime(secondsSinceEpoch: seconds($0)) }
        return copy
    }

    /// Uses the Kafka record timestamp as event time (the default).
    public func eventTimeFromRecordTimestamp() -> Self {
        var copy = self
        copy.eventTime = .recordTimestamp
        return copy
    }

    /// Uses the wall-clock time of processing as event time.
    public func processingTime() -> Self {
        var copy = self
        copy.eventTime = .processingTime
        return copy
    }

    /// Sets how watermarks follow event time; see ``WatermarkPolicy``.
    public func watermarks(outOfOrderness: Duration, idleTimeout: Duration? = .seconds(5)) -> Self {
        var copy = self
        copy.watermarks = WatermarkPolicy(outOfOrderness: outOfOrderness, idleTimeout: idleTimeout)
        return copy
    }

    /// Groups records by key; each key gets its own actor and state.
    public func key<Key: Hashable & Sendable & Codable>(by key: @escaping @Sendable (Input) -> Key) -> KeyedStage<Key, Input> {
        KeyedStage(upstream: self, key: key)
    }
}

/// A keyed pipeline: window and aggregate, or run a general per-key processor.
public struct KeyedStage<Key: Hashable & Sendable & Codable, Input: Sendable>: Sendable {
    let upstream: SourceStage<Input>
    let key: @Sendable (Input) -> Key

    /// Groups each key's records into event-time windows.
    ///
    /// A window emits once, when the watermark passes its end plus `allowedLateness`.
    /// A lateness longer than ``EventTime/maximumSpanMilliseconds`` (about 36 million years;
    /// `.seconds(.max)` for "forever") counts as that: such windows close only at the end of
    /// a bounded input.
    public func window(_ kind: WindowKind, allowedLateness: Duration = .zero) -> WindowedStage<Key, Input> {
        WindowedStage(keyed: self, kind: kind, allowedLateness: allowedLateness)
    }

    /// Runs a general per-key stateful processor (for event-sourced entities and custom logic).
    public func process<Processor: KeyedProcessor>(_ processor: Processor) -> ProcessedStage<Processor>
    where Processor.Key == Key, Processor.Input == Input {
        ProcessedStage(
            name: upstream.name, source: upstream.source,
            logic: PipelineLogic(
                decode: upstream.decode, eventTime: upstream.eventTime, key: key, processor: processor,
                watermarks: upstream.watermarks))
    }
}

/// A windowed pipeline: choose an aggregation.
public struct WindowedStage<Key: Hashable & Sendable & Codable, Input: Sendable>: Sendable {
    let keyed: KeyedStage<Key, Input>
    let kind: WindowKind
    let allowedLateness: Duration

    /// Folds each window's records into an accumulator that starts at `initial`.
    ///
    /// Session windows merge; use ``aggregate(into:_:merge:)`` for them.
    public func aggregate<Accumulator: Sendable & Codable>(
        into initial: Accumulator, _ fold: @escaping @Sendable (inout Accumulator, Input) -> Void
    ) -> ProcessedStage<WindowAggregator<Key, Input, Accumulator>> {
        if case .session = kind {
            preconditionFailure("session windows merge: use aggregate(into:_:merge:) to say how two accumulators combine")
        }
        return keyed.process(WindowAggregator(kind: kind, allowedLateness: allowedLateness, initial: initial, fold: fold))
    }

    /// Folds each window's records into an accumulator; `merge` combines two sessions that grow together.
    public func aggregate<Accumulator: Sendable & Codable>(
        into initial: Accumulator, _ fold: @escaping @Sendable (inout Accumulator, Input) -> Void,
        merge: @escaping @Sendable (inout Accumulator, Accumulator) -> Void
    ) -> ProcessedStage<WindowAggregator<Key, Input, Accumulator>> {
        keyed.process(WindowAggregator(kind: kind, allowedLateness: allowedLateness, initial: initial, fold: fold, merge: merge))
    }

    /// The sum of `value` over each window.
    public func sum<Value: AdditiveArithmetic & Sendable & Codable>(
        _ value: @escaping @Sendable (Input) -> Value
    ) -> ProcessedStage<WindowAggregator<Key, Input, Value>> {
        aggregate(into: .zero, { $0 += value($1) }, merge: { $0 += $1 })
    }

    /// The number of records in each window.
    public func count() -> ProcessedStage<WindowAggregator<Key, Input, Int>> {
        aggregate(into: 0, { count, _ in count += 1 }, merge: { $0 += $1 })
    }

    /// The smallest `value` in each window.
    public func min<Value: Comparable & Sendable & Codable>(
        _ value: @escaping @Sendable (Input) -> Value
    ) -> ProcessedStage<WindowAggregator<Key, Input, Value?>> {
        aggregate(
            into: nil, { current, input in let v = value(input); current = current.map { Swift.min($0, v) } ?? v },
            merge: { current, other in if let other { current = current.map { Swift.min($0, other) } ?? other } })
    }

    /// The largest `value` in each window.
    public func max<Value: Comparable & Sendable & Codable>(
        _ value: @escaping @Sendable (Input) -> Value
    ) -> ProcessedStage<WindowAggregator<Key, Input, Value?>> {
        aggregate(
            into: nil, { current, input in let v = value(input); current = current.map { Swift.max($0, v) } ?? v },
            merge: { current, other in if let other { current = current.map { Swift.max($0, other) } ?? other } })
    }

    /// The arithmetic mean of `value` in each window.
    public func mean(_ value: @escaping @Sendable (Input) -> Double) -> ProcessedStage<WindowAggregator<Key, Input, Mean>> {
        aggregate(into: Mean(), { $0.add(value($1)) }, merge: { $0.merge($1) })
    }
}

/// A running mean: sum and count.
public struct Mean: Sendable, Codable, Equatable {
    /// The sum of the values.
    public var sum: Double = 0
    /// How many values were added.
    public var count: Int = 0
    /// The mean, or `nil` when empty.
    public var value: Double? { count == 0 ? nil : sum / Double(count) }

    /// Creates an empty mean.
    public init() {}
    /// Adds a value.
    public mutating func add(_ value: Double) {
        sum += value
        count += 1
    }
    /// Adds another mean's values.
    public mutating func merge(_ other: Mean) {
        sum += other.sum
        count += other.count
    }
}
