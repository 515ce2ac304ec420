/// Where records that cannot be processed normally go: late records and dead letters.
public enum SideOutput: Sendable {
    /// Published to a topic of the sink's cluster (exactly once, through the outbox), with the original
    /// key and value and headers naming the reason, source partition and offset.
    case topic(String)
    /// Handed to a closure (in-memory pipelines and tests), with the reason.
    case handler(@Sendable (SourceRecord, String) -> Void)
}

/// A processed pipeline: choose side outputs, then the sink.
public struct ProcessedStage<Processor: KeyedProcessor>: Sendable {
    let name: String
    let source: any PipelineSource
    let logic: PipelineLogic<Processor>
    var late: SideOutput?
    var deadLetters: SideOutput?

    init(name: String, source: any PipelineSource, logic: PipelineLogic<Processor>) {
        self.name = name
        self.source = source
        self.logic = logic
    }

    /// Sends records that arrive after all their windows closed to `output`.
    /// By default they go to the topic `<pipeline name>-late`.
    public func lateRecords(to output: SideOutput) -> Self {
        var copy = self
        copy.late = output
        return copy
    }

    /// Sends records that cannot be decoded to `output`.
    /// By default they go to the topic `<pipeline name>-dead-letters`.
    public func deadLetters(to output: SideOutput) -> Self {
        var copy = self
        copy.deadLetters = output
        return copy
    }

    /// Completes the pipeline with its sink.
    ///
    /// Inlined into the caller, so that the engine's per-record code is specialized for the
    /// pipeline's types in the caller's module (see `EngineEntryPoints`).
    @inlinable
    public func sink<Sink: PipelineSink>(_ sink: Sink) -> PipelineDefinition<Processor> where Sink.Output == Processor.Output {
        definition(sink: sink, engine: .make())
    }

    @usableFromInline
    func definition(sink: any PipelineSink<Processor.Output>, engine: EngineEntryPoints<Processor>) -> PipelineDefinition<Processor> {
        PipelineDefinition(
            name: name, source: source, logic: logic, engine: engine, sink: sink,
            late: late ?? .topic("\(name)-late"), deadLetters: deadLetters ?? .topic("\(name)-dead-letters"))
    }
}

/// A complete pipeline: source, processing, sink and side outputs. Run it with ``PipelineService``
/// or, in tests, with `PipelineTestDriver` from SluiceTesting.
public struct PipelineDefinition<Processor: KeyedProcessor>: Sendable {
    /// The pipeline's name (its application id).
    public let name: String
    /// Where records come from.
    public let source: any PipelineSource
    package let logic: PipelineLogic<Processor>
    /// The router's hot paths, specialized where the definition was made.
    package let engine: EngineEntryPoints<Processor>
    /// Where results go.
    public let sink: any PipelineSink<Processor.Output>
    /// Where late records go.
    public let late: SideOutput
    /// Where undecodable records go.
    public let deadLetters: SideOutput

    init(
        name: String, source: any PipelineSource, logic: PipelineLogic<Processor>, engine: EngineEntryPoints<Processor>,
        sink: any PipelineSink<Processor.Output>, late: SideOutput, deadLetters: SideOutput
    ) {
        self.name = name
        self.source = source
        self.logic = logic
        self.engine = engine
        self.sink = sink
        self.late = late
        self.deadLetters = deadLetters
    }

    /// The watermark policy.
    public var watermarks: WatermarkPolicy { logic.watermarks }
}
