public import Sluice
import Foundation

/// Runs a pipeline in-process and deterministically, without Kafka: the
/// counterpart of Kafka Streams' `TopologyTestDriver`.
///
/// Feed records with ``send(_:key:partition:timestamp:)``, move wall-clock time
/// with ``advanceWallClock(by:)``, read results with ``takeOutputs()``, late
/// records with ``lateRecords`` and undecodable ones with ``deadLetters``. Take a
/// checkpoint with ``checkpoint()`` and simulate a crash with ``restart()``:
/// everything since the last checkpoint is forgotten and the pipeline resumes
/// from the store, so recovery can be tested as easily as processing.
///
/// Outputs are visible as soon as they are computed (as in at-least-once mode).
public final class PipelineTestDriver<Processor: KeyedProcessor> {
    /// The wall clock the driver controls.
    public let clock: ManualWallClock
    /// The checkpoint store; survives ``restart()``.
    public let store: any CheckpointStore
    /// The input topic name used for records sent without one.
    public let inputTopic: String

    private let definition: PipelineDefinition<Processor>
    private var router: Router<Processor>
    private var nextOffsets: [InputPartition: Int64] = [:]
    private var checkpointID: UInt64
    private var outputs: [Processor.Output] = []
    /// Partitions in the store that the current router has not opened yet.
    private var unopened: [InputPartition] = []

    /// Records declared late, in order.
    public private(set) var lateRecords: [SourceRecord] = []
    /// Records that could not be decoded, with the reason, in order.
    public private(set) var deadLetters: [(record: SourceRecord, reason: String)] = []

    /// Creates a driver for `pipeline` (its source and sink are not used).
    ///
    /// - Parameters:
    ///   - store: where checkpoints go; an ``InMemoryCheckpointStore`` by default, or an
    ///     `LMDBCheckpointStore` to test with the real one.
    ///   - start: the wall-clock time the driver starts at.
    ///   - inputTopic: the topic name of records sent without one.
    public init(
        _ pipeline: PipelineDefinition<Processor>, store: any CheckpointStore = InMemoryCheckpointStore(),
        start: EventTime = EventTime(millisecondsSinceEpoch: 0), inputTopic: String = "input"
    ) throws {
        self.definition = pipeline
        self.clock = ManualWallClock(start: start)
        self.store = store
        self.inputTopic = inputTopic
        self.checkpointID = try store.lastCheckpointID() ?? 0
        self.router = Router(logic: pipeline.logic, store: store, clock: clock)
        for partition in try store.partitions() {
            if let progress = try store.progress(of: partition) { nextOffsets[partition] = progress.nextOffset }
        }
        unopened = try store.partitions()
    }

    /// Opens every partition of the store, as the real runner does at start, so that
    /// their watermarks and timers move even when no new record arrives for them.
    private func openRestoredPartitions() async throws {
        guard !unopened.isEmpty else { return }
        for partition in unopened { try await router.open(partition) }
        unopened.removeAll()
    }

    // MARK: Input

    /// Sends one raw record; its offset is the partition's next.
    public func send(_ value: [UInt8], key: [UInt8]? = nil, partition: Int32 = 0, timestamp: EventTime? = nil) async throws {
        let input = InputPartition(topic: inputTopic, partition: partition)
        let offset = nextOffsets[input] ?? 0
        nextOffsets[input] = offset + 1
        try await send([SourceRecord(partition: input, offset: offset, key: key, value: value, timestamp: timestamp)])
    }

    /// Sends one record whose value is `value` encoded as JSON.
    public func send<Value: Encodable>(json value: Value, key: String? = nil, partition: Int32 = 0, timestamp: EventTime? = nil)
        async throws
    {
        let bytes = try JSONEncoder().encode(value)
        try await send(Array(bytes), key: key.map { Array($0.utf8) }, partition: partition, timestamp: timestamp)
    }

    /// Sends a batch of records as one poll would deliver them (offsets as given).
    public func send(_ records: [SourceRecord]) async throws {
        for record in records {
            nextOffsets[record.partition] = Swift.max(nextOffsets[record.partition] ?? 0, record.offset + 1)
        }
        try await openRestoredPartitions()
        try await definition.engine.ingest(router, definition.engine.decode(InputBatch(records: records), definition.logic))
        await collect()
    }

    // MARK: Time

    /// Moves wall-clock time forward: idle partitions advance their watermarks and
    /// processing-time timers fire. Every partition counts as caught up.
    public func advanceWallClock(by duration: Duration) async throws {
        clock.advance(by: duration)
        try await openRestoredPartitions()
        try await definition.engine.advance(router, { _ in true })
        await collect()
    }

    /// Declares the input finished: every partition's watermark jumps to the end of time, closing every window.
    public func endOfInput() async throws {
        try await openRestoredPartitions()
        try await definition.engine.raiseWatermarks(router, .distantFuture)
        await collect()
    }

    /// The current watermark of a partition.
    public func watermark(partition: Int32 = 0) async -> EventTime? {
        try? await openRestoredPartitions()
        return await router.watermarks()[InputPartition(topic: inputTopic, partition: partition)] ?? nil
    }

    // MARK: Output

    /// Returns and forgets the results emitted so far.
    public func takeOutputs() -> [Processor.Output] {
        defer { outputs.removeAll() }
        return outputs
    }

    /// Counters of the engine.
    public func statistics() async -> RouterStatistics { await router.statistics }

    /// The number of key actors in memory.
    public func liveKeyCount() async -> Int { await router.liveKeyCount }

    // MARK: Checkpoints

    /// Takes a checkpoint into ``store``; returns its id.
    @discardableResult
    public func checkpoint() async throws -> UInt64 {
        await collect()
        try await openRestoredPartitions()
        let partitions = try definition.engine.encode(await definition.engine.prepareCheckpoint(router), router.processor, store.stateKeyTable)
        checkpointID += 1
        try store.commit(CheckpointWrite(id: checkpointID, partitions: partitions))
        return checkpointID
    }

    /// Releases key actors unused for `idleFor` (after a checkpoint); returns how many.
    @discardableResult
    public func passivateIdleKeys(idleFor: Duration = .zero) async -> Int {
        await router.passivate(idleFor: idleFor)
    }

    /// Simulates a crash and restart: drops all in-memory state and resumes from the
    /// last checkpoint in ``store``. Records sent again with offsets below the
    /// checkpointed ones are skipped, as a Kafka consumer seeking there would.
    ///
    /// Outputs, late records and dead letters already produced stay where they are, as in
    /// at-least-once mode (see the type's documentation): those since the last checkpoint
    /// are computed again when their records are sent again. To model exactly-once, where
    /// they would never have been published, take them (``takeOutputs()``) before restarting
    /// and drop those since the last checkpoint.
    public func restart() throws {
        router = Router(logic: definition.logic, store: store, clock: clock)
        nextOffsets.removeAll()
        for partition in try store.partitions() {
            if let progress = try store.progress(of: partition) { nextOffsets[partition] = progress.nextOffset }
        }
        unopened = try store.partitions()
    }

    /// The next offset the driver will give a record sent to `partition`.
    public func nextOffset(partition: Int32 = 0) -> Int64 {
        nextOffsets[InputPartition(topic: inputTopic, partition: partition)] ?? 0
    }

    /// Rewinds the offset counter of a partition, to replay records after ``restart()``.
    public func rewind(partition: Int32 = 0, to offset: Int64) {
        nextOffsets[InputPartition(topic: inputTopic, partition: partition)] = offset
    }

    private func collect() async {
        for item in await router.takeEmitted() {
            switch item.payload {
            case .result(let output): outputs.append(output)
            case .late(let record): lateRecords.append(record)
            case .deadLetter(let record, let reason): deadLetters.append((record, reason))
            }
        }
    }
}
