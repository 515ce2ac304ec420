/// The router's per-record and per-checkpoint work, entered through closures made in the
/// application's module.
///
/// The engine is generic over the application's processor, and Swift specializes generic code
/// only where it can see both the code and the concrete types. `ProcessedStage.sink(_:)` is
/// `@inlinable`, so it runs in the application's module with the concrete processor type, and
/// the closures it makes there call specialized copies of the router's inlinable methods.
/// The rest of the engine (the runner, recovery, publishing) stays unspecialized, which is
/// fine: it runs per batch or per checkpoint, not per record. Without this, each record paid
/// for run-time type lookups and indirect calls (about a quarter of the pipeline's CPU in a
/// profile of the IoT benchmark).
@usableFromInline
package struct EngineEntryPoints<Processor: KeyedProcessor>: Sendable {
    /// Decodes polled records (``DecodedBatch/init(input:logic:)``); runs on any thread.
    package let decode: @Sendable (InputBatch, PipelineLogic<Processor>) -> DecodedBatch<Processor>
    /// ``Router/ingest(_:)``.
    package let ingest: @Sendable (Router<Processor>, DecodedBatch<Processor>) async throws -> Void
    /// ``Router/advance(isCaughtUp:)``.
    package let advance: @Sendable (Router<Processor>, @Sendable (InputPartition) -> Bool) async throws -> Void
    /// ``Router/raiseWatermarks(to:partitions:)`` for every partition.
    package let raiseWatermarks: @Sendable (Router<Processor>, EventTime) async throws -> Void
    /// ``Router/prepareCheckpoint()``: the checkpoint's pause.
    package let prepareCheckpoint: @Sendable (Router<Processor>) async -> [InputPartition: Router<Processor>.PreparedPartition]
    /// ``Router/encode(_:processor:keyTable:)``: off the pause, on the checkpoint thread.
    package let encode:
        @Sendable ([InputPartition: Router<Processor>.PreparedPartition], SharedProcessor<Processor>, BinaryStateKeyTable?) throws
            -> [InputPartition: PartitionCheckpoint]

    /// The entry points, specialized for `Processor` when this is inlined into a module that knows it.
    @inlinable
    package static func make() -> Self {
        Self(
            decode: { input, logic in DecodedBatch(input: input, logic: logic) },
            ingest: { router, batch in try await router.ingest(batch) },
            advance: { router, isCaughtUp in try await router.advance(isCaughtUp: isCaughtUp) },
            raiseWatermarks: { router, time in try await router.raiseWatermarks(to: time) },
            prepareCheckpoint: { router in await router.prepareCheckpoint() },
            encode: { prepared, processor, keyTable in
                try Router<Processor>.encode(prepared, processor: processor, keyTable: keyTable)
            })
    }

    @usableFromInline
    init(
        decode: @escaping @Sendable (InputBatch, PipelineLogic<Processor>) -> DecodedBatch<Processor>,
        ingest: @escaping @Sendable (Router<Processor>, DecodedBatch<Processor>) async throws -> Void,
        advance: @escaping @Sendable (Router<Processor>, @Sendable (InputPartition) -> Bool) async throws -> Void,
        raiseWatermarks: @escaping @Sendable (Router<Processor>, EventTime) async throws -> Void,
        prepareCheckpoint: @escaping @Sendable (Router<Processor>) async -> [InputPartition: Router<Processor>.PreparedPartition],
        encode: @escaping @Sendable (
            [InputPartition: Router<Processor>.PreparedPartition], SharedProcessor<Processor>, BinaryStateKeyTable?
        ) throws -> [InputPartition: PartitionCheckpoint]
    ) {
        self.decode = decode
        self.ingest = ingest
        self.advance = advance
        self.raiseWatermarks = raiseWatermarks
        self.prepareCheckpoint = prepareCheckpoint
        self.encode = encode
    }
}
