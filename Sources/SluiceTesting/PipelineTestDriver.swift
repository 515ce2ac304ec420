public import Sluice
import Foundation

/// Runs a pipeline in-process and deterministically, without Kafka: the
/// counterpart of Kafka Streams' `TopologyTestDriver`.
///
/// Feed records with ``send(_:key:partition:timestamp:)``, move wall-clock time
/// with ``advanceWallClock(by:)``, read results with ``takeOutputs()``, late
/// records with ``lateRecords`` and dead letters with ``deadLetters``. Take a
/// checkpoint with ``checkpoint()`` and simulate a crash with ``restart()``:
/// everything since the last checkpoint is forgotten and the pipeline resumes
/// from the store, so recovery can be tested as easily as processing.
///
/// Outputs are visible as soon as they are computed (as in at-least-once mode).
///
/// Where a test and a run over Kafka can differ:
/// - Each `send` is one poll. A Kafka run applies a poll's records (up to thousands) against
///   the watermark from before the poll, so whether a record is late, and the order of
///   outputs of different keys, depends on where polls begin and end. Send a batch with
///   ``send(_:)-([SourceRecord])`` to model one poll.
/// - ``advanceWallClock(by:)`` is one step of the clock: a processing-time timer that
///   registers itself again fires once per call, where a run advances after every poll.
/// - The clock starts at ``init(_:store:start:inputTopic:maxRecordBytes:)``'s `start`
///   (the epoch by default). Idle timeouts move a watermark to the clock minus the
///   out-of-orderness, so give a `start` near your records' event times to test them.
/// - Idle keys are passivated only when ``passivateIdleKeys(idleFor:)`` is called.
public final class PipelineTestDriver<Processor: KeyedProcessor> {
    /// The wall clock the driver controls.
    public let clock: ManualWallClock
    /// The checkpoint store; survives ``restart()``.
    public let store: any CheckpointStore
    /// The input topic name used for records sent without one.
    public let inputTopic: String

    private let definition: PipelineDefinition<Processor>
    /// The definition's logic, with the driver's record size limit.
    private let logic: PipelineLogic<Processor>
    private var router: Router<Processor>
    private var nextOffsets: [InputPartition: Int64] = [:]
    private var checkpointID: UInt64
    private var outputs: [Processor.Output] = []
    /// Partitions in the store that the current router has not opened yet.
    private var unopened: [InputPartition] = []

    /// Records declared late, in order.
    public private(set) var lateRecords: [SourceRecord] = []
    /// Dead letters, with the reason, in order: records that could not be decoded, were larger
    /// than `maxRecordBytes`, carried an event time outside the supported range, or had a key
    /// longer than the store keeps (``CheckpointStore/maxEncodedKeyBytes``).
    public private(set) var deadLetters: [(record: SourceRecord, reason: String)] = []

    /// Creates a driver for `pipeline`. Its source, sink, late-record and dead-letter outputs
    /// are not used: outputs, late records and dead letters are collected here instead.
    ///
    /// - Parameters:
    ///   - store: where checkpoints go; an ``InMemoryCheckpointStore`` by default, or an
    ///     `LMDBCheckpointStore` to test with the real one.
    ///   - start: the wall-clock time the driver starts at.
    ///   - inputTopic: the topic name of records sent without one.
    ///   - maxRecordBytes: records with a larger value are dead-lettered, as with
    ///     ``PipelineConfiguration/maxRecordBytes`` (whose default this is).
    public init(
        _ pipeline: PipelineDefinition<Processor>, store: any CheckpointStore = InMemoryCheckpointStore(),
        start: EventTime = EventTime(millisecondsSinceEpoch: 0), inputTopic: String = "input",
        maxRecordBytes: Int = PipelineConfiguration.defaultMaxRecordBytes
    ) throws {
        var logic = pipeline.logic
        logic.maxRecordBytes = maxRecordBytes
        self.logic = logic
        self.definition = pipeline
        self.clock = ManualWallClock(start: start)
        self.store = store
        self.inputTopic = inputTopic
        self.checkpointID = try store.lastCheckpointID() ?? 0
        self.router = Router(logic: logic, store: store, clock: clock)
        try loadOffsets()
    }

    /// The next offsets of the store's partitions (a partition checkpointed before it read
    /// anything starts at 0), and the partitions to open.
    private func loadOffsets() throws {
        nextOffsets.removeAll()
        for partition in try store.partitions() {
            if let progress = try store.progress(of: partition) { nextOffsets[partition] = Swift.max(0, progress.nextOffset) }
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
        try await definition.engine.ingest(router, definition.engine.decode(InputBatch(records: records), logic))
        await collect()
    }

    // MARK: Time

    /// Moves wall-clock time forward: idle partitions advance their watermarks and
    /// processing-time timers fire. Every partition counts as caught up.
    public func advanceWallClock(by duration: Duration) async throws {
        // Restored partitions open first, at the time the run started (as the engine opens
        // them at start), so that the time that passes counts toward their idle timeout.
        try await openRestoredPartitions()
        clock.advance(by: duration)
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
        router = Router(logic: logic, store: store, clock: clock)
        try loadOffsets()
    }

    /// The next offset the driver will give a record sent to `partition`.
    public func nextOffset(partition: Int32 = 0) -> Int64 {
        nextOffsets[InputPartition(topic: inputTopic, partition: partition)] ?? 0
    }

    /// Rewinds the offset counter of a partition, to send records again as a consumer that
    /// seeks back would. ``restart()`` already sets it to the checkpointed offset; records sent
    /// below it are skipped, as the engine skips records a checkpoint covers.
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
