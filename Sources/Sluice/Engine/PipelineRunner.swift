import Logging
import SluiceKafka
import SluiceLMDB
import Synchronization

/// Runs one pipeline: the poll–process–checkpoint–publish loop and recovery.
///
/// The runner is the control plane: it owns the consumer, the producer-backed
/// outbox publisher and the checkpoint store, and drives the ``Router``. The
/// commit point of exactly-once processing is the LMDB transaction in
/// ``checkpoint()``; see `Docs/ExactlyOnce.md`.
actor PipelineRunner<Processor: KeyedProcessor> {
    private let definition: PipelineDefinition<Processor>
    private let configuration: PipelineConfiguration
    private let logger: Logger
    private let clock: any WallClock
    private let worker = BlockingExecutor(label: "sluice.checkpoint")
    private let control: RunControl

    private var store: LMDBCheckpointStore!
    private var router: Router<Processor>!
    /// The pipeline's logic with this run's limits; decodes records on the read-ahead task.
    private var logic: PipelineLogic<Processor>
    private var publisher: OutboxPublisher?
    private var consumer: KafkaConsumer?
    private var memoryInput: AsyncRecordIterator?
    private var memoryInputFinished = false
    private var metrics: PipelineMetrics

    private var checkpointID: UInt64 = 0
    private var pendingOutbox: [OutboxEntry] = []
    private var pendingHandlers: [@Sendable () -> Void] = []
    private var positions: [InputPartition: Int64] = [:]
    private var knownHigh: [InputPartition: Int64] = [:]
    private var endOffsets: [InputPartition: Int64] = [:]
    /// Each partition's end when this run first got it; kept when it is revoked (see `resolveStartOffsets`).
    private var firstEndOffsets: [InputPartition: Int64] = [:]
    /// Whether the group's latest assignment left this member without any partition: a bounded
    /// run then has nothing to read, and finishes rather than waiting for a partition to come.
    private var holdsNoAssignedPartition = false
    private var nextCheckpointAt: ContinuousClock.Instant = .now
    private var isFirstCheckpointPending = true
    /// When idle keys were last looked for (see ``PipelineConfiguration/keyIdleTimeout``).
    private var lastPassivation: ContinuousClock.Instant?
    /// Publishing of committed checkpoints' outboxes, in checkpoint order, off the loop (see
    /// `completeInFlightCheckpoint`), and the first error it met.
    private var publishing: Task<Void, Never>?
    /// Raised when the pipeline begins to finish by itself (the end of a bounded input): the
    /// shutdown deadline runs from then, as from a stop request.
    private let finishing = StopSignal()
    private let publishFailure = PublishFailure()
    /// The batch copied and decoded while the router applies the previous one (see `pollRecords`).
    private var nextPoll: Task<PolledRecords, any Error>?

    init(
        definition: PipelineDefinition<Processor>, configuration: PipelineConfiguration, logger: Logger,
        clock: any WallClock, control: RunControl
    ) {
        self.definition = definition
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "sluice.pipeline"] = "\(definition.name)"
        self.logger = logger
        self.clock = clock
        self.control = control
        self.metrics = PipelineMetrics(pipeline: definition.name, factory: configuration.metricsFactory)
        var logic = definition.logic
        logic.maxRecordBytes = configuration.maxRecordBytes
        self.logic = logic
    }

    // MARK: Run

    func run() async throws {
        try configuration.validate()
        // Each run reports its own progress: the metrics count this run's increments from a
        // fresh status, and an earlier run's failure or counts must not carry over.
        control.status.withLock { $0 = PipelineStatus() }
        do {
            try await start()
        } catch {
            control.status.withLock { $0.failure = "\(error)" }
            await closeClients()
            throw error
        }
        defer { control.status.withLock { $0.isRunning = false } }
        do {
            // The shutdown deadline runs from the stop request (or the end of a bounded input),
            // also while the loop still waits for the producer. When it passes (or the task
            // running the pipeline is cancelled), the producer is closed: a send waiting for
            // room in librdkafka's queue, or a flush, then gives up, and what it did not hand
            // over stays in the outbox (or is computed again) for the next start.
            let finishing = finishing
            let publisher = publisher
            try await withDeadline(configuration.shutdownTimeout, startingAt: [control.stop, finishing]) {
                try await withTaskCancellationHandler {
                    try await self.loop()
                    finishing.raise()
                    try await self.finish()
                } onCancel: {
                    guard let publisher else { return }
                    Task { await publisher.close() }
                }
            }
        } catch {
            // The counters as they ended (the loop updates them only as it goes).
            await updateStatus(force: true)
            control.status.withLock { $0.failure = "\(error)" }
            await closeClients()
            throw error
        }
        await closeClients()
    }

    private var usesKafka: Bool {
        definition.source is KafkaSource || definition.sink is KafkaSink<Processor.Output> || needsSideTopics
    }

    private var needsSideTopics: Bool {
        if case .topic = definition.late { return true }
        if case .topic = definition.deadLetters { return true }
        return false
    }

    private func start() async throws {
        let started = ContinuousClock.now
        let store: LMDBCheckpointStore
        do {
            var storeLogger = logger
            storeLogger[metadataKey: "sluice.state_directory"] = "\(configuration.stateDirectory)"
            let directory = configuration.stateDirectory
            // On the checkpoint thread: opening syncs and may wait out a lock (LMDBLockFile).
            let openingLogger = storeLogger
            let maximumBytes = configuration.stateStoreMaximumBytes
            let lmdb = LMDBConfiguration(initialMapSize: Swift.min(64 << 20, maximumBytes), maximumMapSize: maximumBytes)
            store = try await worker.run { try LMDBCheckpointStore(directory: directory, configuration: lmdb, logger: openingLogger) }
        } catch let error as LMDBError where error.code == .directoryInUse {
            throw SluiceError(.stateDirectoryInUse, error.message, underlying: error)
        }
        self.store = store
        checkpointID = try store.lastCheckpointID() ?? 0
        router = Router(logic: logic, store: store, clock: clock)

        if usesKafka {
            guard let kafka = configuration.kafka else {
                throw SluiceError(
                    .invalidConfiguration,
                    "the pipeline uses Kafka (a Kafka source, sink, or a topic for late records or dead letters) but PipelineConfiguration.kafka is nil: give the bootstrap servers, or route late records and dead letters to handlers")
            }
            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: kafka.bootstrapServers)
            producerConfiguration.common = kafka
            // A record that fails for good must not be followed by delivered records of the same
            // partition: recovery takes every entry at or below the highest sequence it finds of a
            // writer as published. librdkafka then stops the producer with a fatal error instead.
            if producerConfiguration.common.properties["enable.gapless.guarantee"] == nil {
                producerConfiguration.common.properties["enable.gapless.guarantee"] = "true"
            }
            publisher = try OutboxPublisher(applicationID: definition.name, configuration: producerConfiguration, logger: logger)
            try await recoverOutbox(kafka: kafka)
        }

        if let source = definition.source as? KafkaSource {
            try await startKafkaInput(source)
        } else if let source = definition.source as? MemorySource {
            memoryInput = source.makeIterator()
            for partition in try store.partitions() { try await router.open(partition) }
        } else {
            throw SluiceError(.invalidConfiguration, "unsupported source \(type(of: definition.source)); use KafkaSource or MemorySource")
        }
        nextCheckpointAt = .now + configuration.checkpointInterval
        control.status.withLock {
            $0.isRunning = true
            $0.lastCheckpointID = checkpointID
        }
        if configuration.releasesFreeMemory && !FreeMemoryRelease.isAvailable {
            logger.debug("releasesFreeMemory has no effect: this C library has no malloc_trim")
        }
        let owned = await router.ownedPartitions.map(\.description)
        logger.info(
            "Recovered from checkpoint",
            metadata: [
                "sluice.checkpoint": "\(checkpointID)",
                "sluice.recovery_ms": "\((ContinuousClock.now - started).wholeMilliseconds)",
                "sluice.partitions": "\(owned)",
            ])
    }

    private func recoverOutbox(kafka: KafkaConfiguration) async throws {
        guard let publisher else { return }
        let outbox = try store.outbox()
        guard !outbox.isEmpty else { return }
        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: kafka.bootstrapServers)
        consumerConfiguration.common = kafka
        let scanner = OutputScanner(applicationID: definition.name, configuration: consumerConfiguration, logger: logger)
        let found = try await scanner.scan(outbox: outbox, from: try store.scanOffsets())
        let published = Set(found.alreadyPublished)
        publisher.markPublished(found.alreadyPublished, scanOffsets: found.scanOffsets)
        let remaining = outbox.filter { !published.contains($0.key) }
        logger.info(
            "Republishing outbox",
            metadata: ["sluice.already_published": "\(published.count)", "sluice.republish": "\(remaining.count)"])
        try await publisher.publish(remaining, crashPoints: configuration.crashPoints)
    }

    private func startKafkaInput(_ source: KafkaSource) async throws {
        guard let kafka = configuration.kafka else { return }
        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: kafka.bootstrapServers, groupID: definition.name)
        consumerConfiguration.common = kafka
        consumerConfiguration.sessionTimeout = configuration.sessionTimeout
        // Tells a partition at its end from one whose last offsets are transaction markers.
        consumerConfiguration.reportsPartitionEnds = true
        if case .consumerGroup(let strategy) = source.assignment { consumerConfiguration.rebalanceStrategy = strategy }
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        self.consumer = consumer
        switch source.assignment {
        case .allPartitions:
            var partitions: [InputPartition] = []
            for topic in source.topics {
                let count = try await consumer.partitionCount(topic: topic, timeout: .seconds(30))
                partitions += (0..<count).map { InputPartition(topic: topic, partition: Int32($0)) }
            }
            let offsets = try await resolveStartOffsets(for: partitions)
            try await consumer.assign(Self.kafkaOffsets(offsets))
        case .consumerGroup:
            try await consumer.subscribe(topics: source.topics)
        }
    }

    /// Opens partitions in the router and decides where each starts reading.
    private func resolveStartOffsets(for partitions: [InputPartition]) async throws -> [InputPartition: Int64] {
        guard let consumer else { return [:] }
        var offsets: [InputPartition: Int64] = [:]
        var withoutState: [InputPartition] = []
        let committed = try await consumer.committedOffsets(for: partitions.map(Self.topicPartition), timeout: .seconds(30))
        for partition in partitions {
            if let next = try store.progress(of: partition)?.nextOffset, next >= 0 {
                if let groupOffset = committed[Self.topicPartition(partition)], groupOffset > next {
                    // Another member processed this partition after our last checkpoint of it:
                    // the local state is stale and would produce duplicates.
                    logger.warning(
                        "Local state of a partition is older than the group's progress; discarding it",
                        metadata: ["sluice.partition": "\(partition)", "sluice.local_offset": "\(next)", "sluice.group_offset": "\(groupOffset)"])
                    checkpointID += 1
                    let drop = CheckpointWrite(id: checkpointID, droppedPartitions: [partition])
                    let store = self.store!
                    try await worker.run { try store.commit(drop) }
                    withoutState.append(partition)
                    continue
                }
                try await router.open(partition)
                offsets[partition] = next
            } else {
                withoutState.append(partition)
            }
        }
        if !withoutState.isEmpty {
            let orphaned = withoutState.filter { committed[Self.topicPartition($0)] != nil }
            if !orphaned.isEmpty {
                switch configuration.missingState {
                case .fail:
                    throw SluiceError(
                        .missingState,
                        "consumer group '\(definition.name)' has committed offsets for \(orphaned.map(\.description).joined(separator: ", ")) but the state directory \(configuration.stateDirectory) has no state for them. Restore the state directory, or start with missingState = .rebuildFromEarliest to reprocess from the earliest offset, or .acceptLoss to continue from the committed offset without the lost state."
                    )
                case .rebuildFromEarliest:
                    logger.warning("Rebuilding lost state from the earliest offsets", metadata: ["sluice.partitions": "\(orphaned.map(\.description))"])
                case .acceptLoss:
                    logger.warning("Continuing without lost state from committed offsets", metadata: ["sluice.partitions": "\(orphaned.map(\.description))"])
                    for partition in orphaned { offsets[partition] = committed[Self.topicPartition(partition)]! }
                }
            }
        }
        for partition in withoutState { try await router.open(partition) }
        for partition in partitions {
            let marks = try await consumer.watermarks(for: Self.topicPartition(partition), timeout: .seconds(30))
            if offsets[partition] == nil { offsets[partition] = marks.low }
            if offsets[partition]! < marks.low {
                // The consumer starts at the earliest retained record (auto.offset.reset); the
                // position must too, or a partition retention emptied would never be caught up.
                logger.warning(
                    "Records of a partition were deleted by retention before they were processed; continuing from the earliest retained",
                    metadata: [
                        "sluice.partition": "\(partition)", "sluice.offset": "\(offsets[partition]!)", "sluice.earliest": "\(marks.low)",
                    ])
            }
            knownHigh[partition] = marks.high
            // The end a bounded run stops at is the one the partition had when this run first
            // got it: an eager rebalance takes every partition away and gives it back, and the
            // end must not move with it.
            let end = firstEndOffsets[partition] ?? marks.high
            firstEndOffsets[partition] = end
            endOffsets[partition] = end
            positions[partition] = Swift.max(offsets[partition]!, marks.low)
        }
        return offsets
    }

    // MARK: The loop

    private func loop() async throws {
        while !control.isStopRequested {
            if let failure = publisher?.failure { throw OutboxPublisher.sinkFailure(failure) }
            try publishFailure.raise()
            let (batch, rebalance, partitionEnds) = try await pollRecords()
            if !batch.input.isEmpty {
                try await definition.engine.ingest(router, batch)
                for (partition, offset) in await router.nextOffsets() where offset >= 0 {
                    positions[partition] = Swift.max(positions[partition] ?? offset, offset)
                }
            }
            // The consumer reached these partitions' ends after the records just applied. Its
            // fetch position is past transaction markers, which take offsets but are never
            // delivered: without it, a partition ending in one is never caught up.
            for (topicPartition, end) in partitionEnds {
                let partition = InputPartition(topic: topicPartition.topic, partition: topicPartition.partition)
                if let position = positions[partition] { positions[partition] = Swift.max(position, end) }
            }
            // After the records that came with it: a revocation checkpoints and gives up
            // partitions, so their records must be applied first (afterwards, applying them
            // would reopen a partition this member no longer owns).
            if let rebalance, let consumer { try await handle(rebalance, consumer: consumer) }
            let caughtUp = caughtUpPartitions()
            try await definition.engine.advance(router, { caughtUp.contains($0) })
            try await collectEmitted()
            if configuration.stopsAtEndOfInput && reachedEndOfInput() {
                finishing.raise()
                // Report the watermarks of the data before they jump to the end of time.
                await updateStatus(force: true)
                logger.info("Reached the end of the input; closing every window")
                try await definition.engine.raiseWatermarks(router, .distantFuture)
                try await collectEmitted()
                return
            }
            if isInFlightCheckpointCommitted {
                try await completeInFlightCheckpoint()
            }
            if ContinuousClock.now >= nextCheckpointAt || (isFirstCheckpointPending && !pendingOutbox.isEmpty) {
                // After a restart the first results are published as soon as they exist.
                isFirstCheckpointPending = false
                try await checkpoint()
            }
            await updateStatus()
        }
    }

    /// The next batch, the rebalance that followed its records (for the loop to handle once
    /// they are applied), and the partition ends the consumer reached after them.
    private func pollRecords() async throws -> (DecodedBatch<Processor>, KafkaRebalanceEvent?, [KafkaTopicPartition: Int64]) {
        if let consumer {
            let polled: PolledRecords
            if let next = nextPoll {
                nextPoll = nil
                polled = try await next.value
            } else {
                let fetched = try await consumer.poll(maxRecords: configuration.maxPollRecords, timeout: configuration.pollTimeout)
                polled = Self.decode(fetched, next: nil, logic: logic, decode: definition.engine.decode)
            }
            if polled.rebalance == nil && !control.isStopRequested {
                // Read ahead in two steps: the poll after next is already fetching from librdkafka
                // (started as soon as the one before it returned) while the next batch is copied and
                // decoded, and both while the router applies this one. Not across a rebalance,
                // which changes what is read.
                let maxRecords = configuration.maxPollRecords
                let timeout = configuration.pollTimeout
                let startPoll = { @Sendable in Task { try await consumer.poll(maxRecords: maxRecords, timeout: timeout) } }
                let fetching = polled.following ?? startPoll()
                let logic = self.logic
                let decode = definition.engine.decode
                let control = self.control
                nextPoll = Task {
                    let fetched = try await fetching.value
                    let following: Task<KafkaPollResult, any Error>? =
                        fetched.rebalance == nil && !control.isStopRequested ? startPoll() : nil
                    return Self.decode(fetched, next: following, logic: logic, decode: decode)
                }
            }
            return (polled.batch, polled.rebalance, polled.partitionEnds)
        }
        if let memoryInput, !memoryInputFinished {
            if let record = try await memoryInput.next() {
                return (definition.engine.decode(InputBatch(records: [record]), logic), nil, [:])
            }
            memoryInputFinished = true
        }
        return (definition.engine.decode(InputBatch(records: []), logic), nil, [:])
    }

    /// One poll's records, copied out of librdkafka and decoded, the rebalance that followed
    /// them, and the poll after it if one was started.
    private struct PolledRecords: Sendable {
        var batch: DecodedBatch<Processor>
        var rebalance: KafkaRebalanceEvent?
        var partitionEnds: [KafkaTopicPartition: Int64]
        var following: Task<KafkaPollResult, any Error>?
    }

    /// Copies and decodes a poll's records (on the read-ahead task, off this actor, except for
    /// the first poll and the first after a rebalance).
    private nonisolated static func decode(
        _ fetched: KafkaPollResult, next following: Task<KafkaPollResult, any Error>?, logic: PipelineLogic<Processor>,
        decode: @Sendable (InputBatch, PipelineLogic<Processor>) -> DecodedBatch<Processor>
    ) -> PolledRecords {
        let input = InputBatch(copying: fetched.records, range: 0..<fetched.records.count)
        return PolledRecords(
            batch: decode(input, logic), rebalance: fetched.rebalance, partitionEnds: fetched.partitionEnds, following: following)
    }

    private func handle(_ event: KafkaRebalanceEvent, consumer: KafkaConsumer) async throws {
        switch event {
        case .assigned(let partitions):
            let inputs = partitions.map { InputPartition(topic: $0.topic, partition: $0.partition) }
            logger.info("Partitions assigned", metadata: ["sluice.partitions": "\(inputs.map(\.description))"])
            let offsets = try await resolveStartOffsets(for: inputs)
            try await consumer.acknowledge(
                event, startOffsets: Self.kafkaOffsets(offsets))
            holdsNoAssignedPartition = endOffsets.isEmpty
            metrics.rebalanced()
        case .revoked(let partitions):
            let inputs = partitions.map { InputPartition(topic: $0.topic, partition: $0.partition) }
            logger.info("Partitions revoked; checkpointing before giving them up", metadata: ["sluice.partitions": "\(inputs.map(\.description))"])
            try await checkpoint()
            try await completeInFlightCheckpoint()
            // The checkpoint committed its offsets asynchronously; the next owner reads them
            // as soon as the partitions are given up, so they are committed and awaited here
            // (as Kafka Streams commits synchronously before it gives up partitions). A member
            // that gets a partition back compares its local state with the group's offset:
            // one that had not landed yet made it take stale state for current and publish
            // again what the other member had published.
            do {
                try await commitAppliedOffsets(of: Set(inputs), to: consumer, timeout: Self.groupCommitTimeout)
            } catch {
                // The checkpoint holds them all the same; the next owner then sees the group's
                // older offsets.
                logger.error(
                    "Could not commit the offsets of revoked partitions to the group: \(error). A member that held them before and still has older state for them may process and publish again what this one published",
                    metadata: ["sluice.partitions": "\(inputs.map(\.description))"])
            }
            for partition in inputs {
                await router.release(partition)
                positions[partition] = nil
                knownHigh[partition] = nil
                endOffsets[partition] = nil
            }
            try await consumer.acknowledge(event, startOffsets: [:])
            metrics.rebalanced()
        }
    }

    private func caughtUpPartitions() -> Set<InputPartition> {
        var result = Set<InputPartition>()
        for (partition, position) in positions {
            var high = knownHigh[partition] ?? 0
            if let cached = consumer?.cachedWatermarks(for: Self.topicPartition(partition)) {
                high = Swift.max(high, cached.high)
                knownHigh[partition] = high
            }
            if position >= high { result.insert(partition) }
        }
        if consumer == nil && memoryInputFinished {
            // A finished in-memory source has nothing more to read anywhere.
            return Set(positions.keys)
        }
        return result
    }

    private func reachedEndOfInput() -> Bool {
        if memoryInput != nil { return memoryInputFinished }
        // In a consumer group, a member the latest assignment gave nothing is done. (Before the
        // first assignment, or between an eager revocation and the assignment after it, it is not.)
        guard !endOffsets.isEmpty else { return holdsNoAssignedPartition }
        return endOffsets.allSatisfy { partition, end in (positions[partition] ?? 0) >= end }
    }

    /// Turns what the router emitted into outbox entries or handler calls.
    private func collectEmitted() async throws {
        let emitted = await router.takeEmitted()
        guard !emitted.isEmpty else { return }
        var immediate: [OutboxEntry] = []
        // Once per call, not per result (this code is not specialized for the output type, so
        // each cast costs a run-time type lookup): the sink, and for a Kafka sink the number of
        // partitions of its topic.
        let kafkaSink = definition.sink as? KafkaSink<Processor.Output>
        let memorySink = kafkaSink == nil ? definition.sink as? MemorySink<Processor.Output> : nil
        var resultPartitionCount: Int?
        for item in emitted {
            switch item.payload {
            case .result(let output):
                if let kafkaSink {
                    let record = try encode(output, with: kafkaSink)
                    let partitionCount: Int
                    if let known = resultPartitionCount {
                        partitionCount = known
                    } else {
                        partitionCount = try await self.partitionCount(of: kafkaSink.topic)
                        resultPartitionCount = partitionCount
                    }
                    let entry = Self.outboxEntry(
                        key: item.key, topic: kafkaSink.topic, partitionCount: partitionCount, recordKey: record.key,
                        value: record.value, headers: record.headers)
                    try checkSize(ofResult: entry)
                    enqueue(entry, immediate: &immediate)
                } else if let memorySink {
                    let handler = memorySink.handler
                    deliver { handler(output) }
                }
            case .late(let record):
                try await sideOutput(definition.late, record: record, reason: "late", key: item.key, immediate: &immediate)
            case .deadLetter(let record, let reason):
                logger.debug("Dead-lettered a record", metadata: ["sluice.partition": "\(record.partition)", "sluice.offset": "\(record.offset)"])
                try await sideOutput(definition.deadLetters, record: record, reason: reason, key: item.key, immediate: &immediate)
            }
        }
        if !immediate.isEmpty, let publisher {
            try await publisher.publish(immediate, crashPoints: configuration.crashPoints)
        }
    }

    /// Exactly-once: the entry waits for the next checkpoint's commit. At-least-once: it goes out with this step.
    /// The entry is moved in, not copied.
    private func enqueue(_ entry: consuming OutboxEntry, immediate: inout [OutboxEntry]) {
        if configuration.guarantee == .exactlyOnce { pendingOutbox.append(entry) } else { immediate.append(entry) }
    }

    /// Exactly-once: the handler call waits for the next checkpoint's commit. At-least-once: it runs now.
    private func deliver(_ call: @escaping @Sendable () -> Void) {
        if configuration.guarantee == .exactlyOnce { pendingHandlers.append(call) } else { call() }
    }

    private func encode(_ output: Processor.Output, with sink: KafkaSink<Processor.Output>) throws -> SinkRecord {
        let record: SinkRecord
        do {
            record = try sink.encode(output)
        } catch {
            throw SluiceError(.encoding, "the sink for topic '\(sink.topic)' could not encode a result: \(error)")
        }
        // Recovery reads the first header of each name, and the sink's come before Sluice's own.
        for header in record.headers where OutboxPublisher.isReserved(header.name) {
            throw SluiceError(
                .encoding,
                "the sink for topic '\(sink.topic)' set the header '\(header.name)', which Sluice writes itself to find "
                    + "published results after a crash: give the header another name")
        }
        return record
    }

    private func sideOutput(
        _ output: SideOutput, record: SourceRecord, reason: String, key: OutboxKey, immediate: inout [OutboxEntry]
    ) async throws {
        switch output {
        case .handler(let handler):
            deliver { handler(record, reason) }
        case .topic(let topic):
            let headers = [
                // At most 4 KiB: a reason that quotes a large record must not take the room the
                // record needs (the value is cut to fit, the headers are not).
                OutputHeader(name: "sluice.error", value: Self.reasonBytes(reason, limit: 4_096)),
                OutputHeader(name: "sluice.source", value: Array("\(record.partition.topic)/\(record.partition.partition)@\(record.offset)".utf8)),
            ]
            let entry = try await outboxEntry(key: key, topic: topic, recordKey: record.key, value: record.value, headers: headers)
            enqueue(fitted(entry), immediate: &immediate)
        }
    }

    /// `reason` in UTF-8, cut at a character boundary to at most `limit` bytes, ending in "…" if cut.
    static func reasonBytes(_ reason: String, limit: Int) -> [UInt8] {
        guard reason.utf8.count > limit else { return Array(reason.utf8) }
        var kept = 0
        var end = reason.startIndex
        for character in reason {
            let count = character.utf8.count
            guard kept + count <= limit - 3 else { break }
            kept += count
            end = reason.index(after: end)
        }
        return Array(reason[..<end].utf8) + Array("…".utf8)
    }

    /// Refuses a result the producer would refuse for its size, before it reaches the outbox:
    /// once checkpointed, every restart would try to publish it again and fail the same way.
    private func checkSize(ofResult entry: OutboxEntry) throws {
        guard let publisher, publisher.exceedsLimit(entry) else { return }
        let size = publisher.countedSize(of: entry)
        throw SluiceError(
            .encoding,
            "the sink for topic '\(entry.destination.topic)' made a record of \(size) bytes (key \(entry.recordKey?.count ?? 0), "
                + "value \(entry.recordValue.count), headers included), more than the \(publisher.maxRecordBytes) the producer "
                + "takes: make results smaller, or raise 'message.max.bytes' in the Kafka properties (and 'max.message.bytes' "
                + "of the topic on the brokers)")
    }

    /// `entry`, a dead letter or late record, cut to what the producer takes: the value is
    /// shortened (and the key dropped only if it alone is too long), and a `sluice.truncated`
    /// header gives the value's original length. The whole record stays in its input topic at
    /// the place the `sluice.source` header names. Unchanged when it fits.
    private func fitted(_ entry: consuming OutboxEntry) -> OutboxEntry {
        guard let publisher else { return entry }
        guard publisher.exceedsLimit(entry) else { return entry }
        let limit = publisher.maxRecordBytes
        let originalCount = entry.recordValue.count
        entry.headers.append(OutputHeader(name: "sluice.truncated", value: Array(String(originalCount).utf8)))
        var room = limit - (publisher.countedSize(of: entry) - originalCount)
        if room < 0 {
            entry.recordKey = nil
            room = limit - (publisher.countedSize(of: entry) - originalCount)
        }
        entry.recordValue = Array(entry.recordValue.prefix(Swift.max(0, room)))
        logger.warning(
            "A record for topic '\(entry.destination.topic)' was larger than the producer takes; published its first \(entry.recordValue.count) of \(originalCount) value bytes",
            metadata: ["sluice.limit": "\(limit)", "sluice.source": "\(entry.headers.first { $0.name == "sluice.source" }.map { String(decoding: $0.value, as: UTF8.self) } ?? "")"])
        return entry
    }

    private func outboxEntry(key: OutboxKey, topic: String, recordKey: [UInt8]?, value: [UInt8], headers: [OutputHeader]) async throws -> OutboxEntry {
        Self.outboxEntry(
            key: key, topic: topic, partitionCount: try await partitionCount(of: topic), recordKey: recordKey, value: value,
            headers: headers)
    }

    /// The entry for a record to `topic`, which has `partitionCount` partitions: its output
    /// partition is fixed now (murmur2 of the record key, or spread by sequence without one).
    private static func outboxEntry(
        key: OutboxKey, topic: String, partitionCount: Int, recordKey: [UInt8]?, value: [UInt8], headers: [OutputHeader]
    ) -> OutboxEntry {
        let partition = OutboxPublisher.partition(forKey: recordKey, partitionCount: partitionCount, fallback: Int64(key.sequence))
        return OutboxEntry(
            key: key, destination: OutputPartition(topic: topic, partition: partition), recordKey: recordKey,
            recordValue: value, headers: headers)
    }

    /// The number of partitions of output topic `topic` (cached by the publisher; this actor
    /// is left only to ask the broker the first time).
    private func partitionCount(of topic: String) async throws -> Int {
        guard let publisher else {
            throw SluiceError(.invalidConfiguration, "records for topic '\(topic)' need a Kafka configuration")
        }
        if let known = publisher.cachedPartitionCount(of: topic) { return known }
        return try await publisher.partitionCount(of: topic)
    }

    // MARK: Checkpoints

    /// A checkpoint whose LMDB transaction is being committed on the checkpoint thread
    /// while processing goes on. Its outputs are published only once the commit is done.
    private struct InFlightCheckpoint {
        var id: UInt64
        var commit: Task<Void, any Error>
        var isCommitted: CommitFlag
        var outbox: [OutboxEntry]
        var handlers: [@Sendable () -> Void]
        var offsets: [InputPartition: Int64]
        var pause: Duration
        var keys: Int
    }

    private var inFlight: InFlightCheckpoint?

    /// Takes one checkpoint: the barrier and the snapshot of every change (the pause),
    /// then one LMDB transaction on the checkpoint thread while processing continues.
    /// Publishing and offset commits follow once the transaction is durable
    /// (``completeInFlightCheckpoint()``); at most one checkpoint is in flight.
    func checkpoint() async throws {
        try await completeInFlightCheckpoint()
        // Not while the previous checkpoint's outbox is being handed to the producer: on two
        // cores that work (allocations, librdkafka's queue) competes with the pause, which
        // copies every changed key's state. It is usually long done, since the commit it
        // followed completed in the loop.
        await publishing?.value
        let started = ContinuousClock.now
        try await collectEmitted()
        if configuration.guarantee == .atLeastOnce, let publisher {
            // Nothing may be checkpointed as done before its outputs are confirmed.
            try await publisher.waitUntilConfirmed(timeout: configuration.shutdownTimeout)
        }
        let prepared = await definition.engine.prepareCheckpoint(router)
        let confirmed = publisher?.drainConfirmed() ?? (removals: [], scanOffsets: [:])
        checkpointID += 1
        let id = checkpointID
        let outbox = pendingOutbox
        let crashPoints = configuration.crashPoints
        if !confirmed.removals.isEmpty { crashPoints.reach(.beforeOutboxTrim) }
        let store = self.store!
        let worker = self.worker
        let processor = router.processor
        let encode = definition.engine.encode
        let flag = CommitFlag()
        let releasesFreeMemory = configuration.releasesFreeMemory
        // The pause ends here: key state is encoded and committed on the checkpoint thread.
        let commit = Task {
            try await worker.run {
                let write = CheckpointWrite(
                    id: id, partitions: try encode(prepared, processor, store.stateKeyTable), outboxAppends: outbox,
                    outboxRemovals: confirmed.removals, scanOffsets: confirmed.scanOffsets)
                crashPoints.reach(.beforeCheckpointCommit)
                try store.commit(write)
                // Part of this task, which the next checkpoint awaits before its pause: the release
                // (18–31 ms at 100,000 keys) holds the allocator's locks and must not overlap a pause.
                // Before the flag, so that the loop, which completes a checkpoint once it sees the
                // flag, does not stop to wait for it.
                if releasesFreeMemory { FreeMemoryRelease.runIfDue(every: .seconds(1)) }
                flag.set()
            }
        }
        inFlight = InFlightCheckpoint(
            id: id, commit: commit, isCommitted: flag, outbox: pendingOutbox, handlers: pendingHandlers,
            offsets: Self.appliedOffsets(prepared.mapValues(\.progress.nextOffset)), pause: ContinuousClock.now - started,
            keys: prepared.values.reduce(0) { $0 + $1.keys.count })
        pendingOutbox.removeAll(keepingCapacity: true)
        pendingHandlers.removeAll()
        nextCheckpointAt = .now + configuration.checkpointInterval
    }

    /// Whether the in-flight checkpoint's transaction has committed (without waiting).
    private var isInFlightCheckpointCommitted: Bool { inFlight?.isCommitted.isSet ?? false }

    /// Waits for the in-flight checkpoint's transaction, then publishes its outbox, hands
    /// its results to memory sinks, commits input offsets to the group and passivates idle keys.
    private func completeInFlightCheckpoint() async throws {
        guard let checkpoint = inFlight else { return }
        inFlight = nil
        do {
            try await checkpoint.commit.value
        } catch let error as LMDBError where error.code == .mapFull {
            throw SluiceError(
                .checkpointFailure,
                "checkpoint \(checkpoint.id) could not be written to \(configuration.stateDirectory): the state store would grow past "
                    + "PipelineConfiguration.stateStoreMaximumBytes (\(configuration.stateStoreMaximumBytes) bytes). Raise it and "
                    + "restart; the last checkpoint is intact. (\(error.message))",
                underlying: error)
        } catch {
            throw SluiceError(
                .checkpointFailure, "checkpoint \(checkpoint.id) could not be written to \(configuration.stateDirectory): \(error)",
                underlying: error)
        }
        configuration.crashPoints.reach(.afterCommitBeforePublish)
        if let publisher, !checkpoint.outbox.isEmpty {
            // Handing the records to the producer (building them, librdkafka's queue) takes
            // about a tenth of a second per checkpoint at 50,000 results: the loop goes on
            // meanwhile. Publishes stay in checkpoint order.
            // At most one at a time: when the producer cannot keep up (its queue full, the
            // broker slow or down), the loop waits here, as it did when it published itself,
            // instead of queuing outboxes without bound.
            await publishing?.value
            try publishFailure.raise()
            let outbox = checkpoint.outbox
            let crashPoints = configuration.crashPoints
            let failure = publishFailure
            publishing = Task {
                // Not after a failed delivery: a later record of the same writer and output
                // partition, delivered, would make recovery take the failed one as published.
                guard !failure.isSet, publisher.failure == nil else { return }
                do {
                    try await publisher.publish(outbox, crashPoints: crashPoints)
                } catch {
                    failure.set(error)
                }
            }
        }
        for handler in checkpoint.handlers { handler() }
        if let consumer, !checkpoint.offsets.isEmpty {
            configuration.crashPoints.reach(.beforeOffsetCommit)
            try? consumer.commitAsync(
                Self.kafkaOffsets(checkpoint.offsets))
        }
        // Keys clean since this checkpoint's barrier now have their latest state on disk.
        // Looking for idle keys visits every key in memory (about 25 ms at 100,000 keys, on the
        // router): not after every checkpoint, but every quarter of the idle timeout.
        if let idle = configuration.keyIdleTimeout, lastPassivation.map({ ContinuousClock.now - $0 >= idle / 4 }) ?? true {
            lastPassivation = ContinuousClock.now
            await router.passivate(idleFor: idle)
        }
        metrics.checkpointed(pause: checkpoint.pause, keys: checkpoint.keys, outbox: checkpoint.outbox.count)
        control.status.withLock {
            $0.checkpointsCompleted += 1
            $0.lastCheckpointID = checkpoint.id
            $0.lastCheckpointPause = checkpoint.pause
            $0.lastCheckpointTime = clock.now()
        }
    }

    /// Final checkpoint, publish everything, trim the outbox.
    private func finish() async throws {
        try await checkpoint()
        try await completeInFlightCheckpoint()
        if let publisher {
            try await finishPublishing()
            try await publisher.waitUntilConfirmed(timeout: configuration.shutdownTimeout)
            // Trim what was just confirmed, so a restart has nothing to scan.
            try await checkpoint()
            try await completeInFlightCheckpoint()
            // That checkpoint's outbox is empty (nothing runs between the two); should it ever
            // not be, it is handed over here rather than cut short by closing the producer.
            try await finishPublishing()
        }
        if let consumer {
            // Bounded, so that a stop keeps to its deadline while the coordinator is away;
            // the group then lags behind the checkpoint, which a start tolerates.
            try? await commitAppliedOffsets(to: consumer, timeout: Swift.min(configuration.shutdownTimeout, Self.groupCommitTimeout))
        }
        await updateStatus(force: true)
        logger.info("Pipeline stopped cleanly", metadata: ["sluice.checkpoint": "\(checkpointID)"])
    }

    /// Waits until every committed checkpoint's outbox is handed to the producer; throws what
    /// publishing met.
    private func finishPublishing() async throws {
        await publishing?.value
        publishing = nil
        try publishFailure.raise()
    }

    private func closeClients() async {
        // After a failure a checkpoint may still be committing on the checkpoint thread, with the
        // store open: `run()` returns once it is done, so that a restart in the same process
        // finds the state directory free and the commit's outcome settled.
        if let checkpoint = inFlight {
            inFlight = nil
            _ = try? await checkpoint.commit.value
        }
        // After a failure a publish may be blocked on a full producer queue: closing the
        // producer stops it (its records stay in the outbox, for the next start to publish).
        let lastPublish = publishing
        publishing = nil
        // Up to two read-ahead polls may still run on the consumer; their records were never applied.
        if let next = nextPoll, let polled = try? await next.value {
            _ = try? await polled.following?.value
        }
        nextPoll = nil
        await consumer?.close()
        consumer = nil
        await publisher?.close()
        publisher = nil
        await lastPublish?.value
    }

    private var lastStatusUpdate: ContinuousClock.Instant = .now - .seconds(1)

    private func updateStatus(force: Bool = false) async {
        guard force || ContinuousClock.now - lastStatusUpdate >= .milliseconds(200) else { return }
        lastStatusUpdate = .now
        let outboxDepth = publisher?.inFlightCount ?? 0
        let published = publisher?.publishedCount ?? 0
        let statistics = await router.statistics
        let watermarks = await router.watermarks()
        let liveKeys = await router.liveKeyCount
        let partitionCounts = await router.partitionCounts
        let stateStoreBytes = store?.sizeInBytes ?? 0
        let brokerErrors = (publisher?.brokerErrorCount ?? 0) + (consumer?.brokerErrorCount ?? 0)
        let queueFullWaits = publisher?.queueFullWaitCount ?? 0
        metrics.published(latencies: publisher?.drainLatencies() ?? [])
        let positions = positions
        let knownHigh = knownHigh
        let lag = positions.reduce(into: [InputPartition: Int64]()) { lag, entry in
            lag[entry.key] = Swift.max(0, (knownHigh[entry.key] ?? entry.value) - entry.value)
        }
        let snapshot = control.status.withLock { status in
            status.router = statistics
            status.recordsPublished = published
            status.outboxDepth = outboxDepth
            status.positions = positions
            status.lag = lag
            status.watermarks = watermarks.compactMapValues { $0 }
            status.liveKeys = liveKeys
            status.partitionCounts = partitionCounts
            status.stateStoreBytes = stateStoreBytes
            status.brokerErrors = Swift.max(status.brokerErrors, brokerErrors)
            status.producerQueueFullWaits = Swift.max(status.producerQueueFullWaits, queueFullWaits)
            return status
        }
        metrics.observe(snapshot, now: clock.now())
    }

    /// The offsets to commit to the group: only partitions with a record applied. A partition
    /// read from its start with nothing applied yet has no progress in the store (next offset
    /// -1); committing its start offset made a restart take it for a partition whose state was
    /// lost (`missingState`), seen after a failure that came before its first record.
    /// Commits the offsets after every applied record (of `partitions` only, when given) to the
    /// consumer group, waiting at most `timeout` for the coordinator.
    private func commitAppliedOffsets(
        of partitions: Set<InputPartition>? = nil, to consumer: KafkaConsumer, timeout: Duration
    ) async throws {
        var offsets = Self.appliedOffsets(await router.nextOffsets())
        if let partitions { offsets = offsets.filter { partitions.contains($0.key) } }
        try await consumer.commit(Self.kafkaOffsets(offsets), timeout: timeout)
    }

    /// How long a commit of offsets to the consumer group may wait for the coordinator (on
    /// revocation and at the end); librdkafka's own waits without limit while none is reachable.
    static var groupCommitTimeout: Duration { .seconds(5) }

    static func appliedOffsets(_ nextOffsets: [InputPartition: Int64]) -> [InputPartition: Int64] {
        nextOffsets.filter { $0.value >= 0 }
    }

    private static func topicPartition(_ partition: InputPartition) -> KafkaTopicPartition {
        KafkaTopicPartition(topic: partition.topic, partition: partition.partition)
    }

    private static func kafkaOffsets(_ offsets: [InputPartition: Int64]) -> [KafkaTopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: offsets.map { (topicPartition($0.key), $0.value) })
    }
}

/// The first error of publishing a checkpoint's outbox off the loop; the loop raises it.
final class PublishFailure: Sendable {
    private let error = Mutex<(any Error)?>(nil)

    var isSet: Bool { error.withLock { $0 != nil } }

    func set(_ failure: any Error) { error.withLock { if $0 == nil { $0 = failure } } }

    /// Throws the error, if there is one, as a ``SluiceError`` (`.sinkFailure` unless it is one already).
    func raise() throws {
        guard let failure = error.withLock({ $0 }) else { return }
        if let failure = failure as? SluiceError { throw failure }
        if let failure = failure as? KafkaError { throw OutboxPublisher.sinkFailure(failure) }
        throw SluiceError(.sinkFailure, "publishing a checkpoint's outputs failed: \(failure)", underlying: failure)
    }
}

/// Set by the checkpoint thread once a transaction committed; read by the loop without waiting.
final class CommitFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}

/// Runs `body`, failing with ``SluiceError/Code/shutdownTimeout`` if it has not finished
/// `limit` after the first of `signals` was raised. `body` is then cancelled, and this waits for
/// it to end: work it waits for must give way to cancellation (the runner closes its producer).
func withDeadline<T: Sendable>(
    _ limit: Duration, startingAt signals: [StopSignal], _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            await withTaskGroup(of: Void.self) { first in
                for signal in signals { first.addTask { await signal.raised() } }
                await first.next()
                first.cancelAll()
            }
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw SluiceError(
                .shutdownTimeout,
                "the final checkpoint and publishing did not finish within \(limit) of the stop; outputs not yet confirmed will be published after a restart")
        }
        return value
    }
}
