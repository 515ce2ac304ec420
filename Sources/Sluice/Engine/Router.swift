/// The router actor: hands each record to the actor of its (input partition, key).
///
/// It decodes records, tracks per-partition offsets and watermarks, creates
/// key actors on first use (loading their state from the checkpoint store on
/// demand), fires timers as watermarks and the wall clock advance, and collects
/// what the key actors emit. Key actors run on the router's executor and the
/// router enters them one at a time, so once a call returns every key actor has
/// applied everything before it: that is the checkpoint barrier. Its mutable state skips
/// run-time exclusivity checks (`@exclusivity(unchecked)`): only the router's executor
/// touches it, and no access to a property overlaps another access to it.
@usableFromInline
package actor Router<Processor: KeyedProcessor> {
    @usableFromInline final let logic: PipelineLogic<Processor>
    @usableFromInline final let sharedProcessor: SharedProcessor<Processor>
    @usableFromInline final let store: (any CheckpointStore)?
    @usableFromInline final let clock: any WallClock
    @usableFromInline @exclusivity(unchecked) final var partitions: [InputPartition: PartitionRuntime<Processor>] = [:]
    @usableFromInline @exclusivity(unchecked) final var emitted: [Emitted<Processor.Output>] = []
    /// Encodes keys: self-contained documents, since a key's bytes find its stored state, and
    /// equal keys as equal bytes (``BinaryStateEncoder/keyEncoder``).
    @usableFromInline final let encoder = BinaryStateEncoder.keyEncoder
    /// Decodes keys and key state, whose documents refer to the store's key table.
    @usableFromInline final let decoder: BinaryStateDecoder
    @usableFromInline @exclusivity(unchecked) final package internal(set) var statistics = RouterStatistics()
    /// Records consumed and processed per input partition.
    @usableFromInline @exclusivity(unchecked) final package internal(set) var partitionCounts: [InputPartition: PartitionCounts] = [:]
    /// Numbers the runs ``ingest(_:_:links:into:now:)`` applies and the groups of timers
    /// ``fire(_:domain:in:now:)`` fires, to tell which key actors a run or group already holds.
    @usableFromInline @exclusivity(unchecked) final var runStamp: UInt64 = 0

    package init(logic: PipelineLogic<Processor>, store: (any CheckpointStore)?, clock: any WallClock) {
        self.logic = logic
        self.sharedProcessor = SharedProcessor(logic.processor)
        self.store = store
        self.clock = clock
        self.decoder = BinaryStateDecoder(keyTable: store?.stateKeyTable)
    }

    // MARK: Partitions

    /// The partitions this router currently owns.
    package var ownedPartitions: [InputPartition] { partitions.keys.sorted() }

    /// Takes ownership of a partition, restoring its progress and timers from the store.
    /// Returns the offset to resume from, or `nil` when the store has nothing for it.
    @discardableResult
    @usableFromInline
    package func open(_ partition: InputPartition) throws -> Int64? {
        if let existing = partitions[partition] { return existing.nextOffset }
        let progress = try store?.progress(of: partition)
        let restoredWatermark = progress?.watermarkMilliseconds.map(EventTime.init(millisecondsSinceEpoch:))
        let runtime = PartitionRuntime<Processor>(
            partition: partition,
            watermark: PartitionWatermark(policy: logic.watermarks, restored: restoredWatermark, now: clock.now()),
            nextOffset: progress?.nextOffset ?? -1,
            nextSequence: progress?.nextSequence ?? PartitionProgress.firstSequence())
        if let store {
            for timer in try store.timers(in: partition, isEventTime: false, after: nil, limit: .max) {
                runtime.processingTimers.insert(time: timer.fireAtMilliseconds, key: try decoder.decode(Processor.Key.self, from: timer.key))
            }
            // Event-time timers load as the watermark reaches them: a restart with millions
            // of open windows reads only the chunk each partition needs now.
            runtime.mayHaveUnloadedEventTimers = true
            try loadEventTimers(in: runtime, through: restoredWatermark?.millisecondsSinceEpoch ?? .min)
        }
        partitions[partition] = runtime
        return progress?.nextOffset
    }

    /// Gives up a partition and its key actors. Call after a checkpoint that included it.
    package func release(_ partition: InputPartition) {
        guard let runtime = partitions[partition] else { return }
        // Their windows are no longer open here (a key restored later counts its own again).
        for keyActor in runtime.keys.values {
            statistics.windowsOpen -= Int64(openWindowCount(of: keyActor))
        }
        partitions[partition] = nil
    }

    /// The next offset to read of every owned partition (`-1` when nothing was read yet).
    package func nextOffsets() -> [InputPartition: Int64] {
        partitions.mapValues(\.nextOffset)
    }

    /// The watermark of every owned partition.
    package func watermarks() -> [InputPartition: EventTime?] {
        partitions.mapValues(\.watermark.current)
    }

    /// The number of key actors in memory.
    package var liveKeyCount: Int { partitions.values.reduce(0) { $0 + $1.keys.count } }

    // MARK: Processing

    /// Processes a batch of decoded records, possibly from several partitions, in order within each partition.
    @inlinable
    final package func ingest(_ batch: DecodedBatch<Processor>) async throws {
        let input = batch.input
        guard !input.isEmpty else { return }
        let now = clock.now()
        // Each key's records in this batch, as a chain through `links` (record index to the
        // key's next record index, or -1): one array for the batch instead of one per key.
        var links = [Int32](repeating: -1, count: input.count)
        // A poll returns runs of records from one partition; take each run as it comes,
        // which keeps every partition's order without regrouping (and copying) the batch.
        var touched: [(runtime: PartitionRuntime<Processor>, maxTime: EventTime?)] = []
        var start = 0
        while start < input.count {
            let partitionIndex = input.entries[start].partition
            let partition = input.partitions[Int(partitionIndex)]
            var end = start + 1
            while end < input.count && input.entries[end].partition == partitionIndex { end += 1 }
            if partitions[partition] == nil { try open(partition) }
            let runtime = partitions[partition]!
            let maxTime = try ingest(batch, start..<end, links: &links, into: runtime, now: now)
            if let position = touched.firstIndex(where: { $0.runtime === runtime }) {
                touched[position].maxTime = [touched[position].maxTime, maxTime].compactMap { $0 }.max()
            } else {
                touched.append((runtime, maxTime))
            }
            start = end
        }
        // Watermarks move once per batch: every record of the batch was judged against the
        // watermark from before it.
        for (runtime, maxTime) in touched {
            if let maxTime { _ = runtime.watermark.observe(maxTime, now: now) }
            // Timers registered at or before the watermark are due too, even if it did not move.
            try await fireEventTimers(in: runtime, now: now)
        }
    }

    /// Applies one run of a partition's records; returns the highest event time among them.
    ///
    /// Two passes: the first finds each record's key actor and chains the key's records in
    /// `links` (the chain's ends are kept in the key actor, so a run needs no table of its own);
    /// the second hands each key its chain, keys in the order they first appear.
    @inlinable
    final func ingest(
        _ batch: DecodedBatch<Processor>, _ run: Range<Int>, links: inout [Int32], into runtime: PartitionRuntime<Processor>,
        now: EventTime
    ) throws -> EventTime? {
        runStamp &+= 1
        let stamp = runStamp
        var order: [KeyActor<Processor>] = []
        var maxTime: EventTime?
        var consumed: UInt64 = 0
        for index in run {
            let offset = batch.input.entries[index].offset
            // Already applied before the checkpoint this partition was restored from.
            if offset < runtime.nextOffset { continue }
            runtime.nextOffset = offset + 1
            statistics.recordsConsumed += 1
            consumed += 1
            switch batch.outcomes[index] {
            case .rejected(let reason):
                statistics.deadLettered += 1
                emit(.deadLetter(batch.input.record(at: index).detached(), reason: batch.rejectionReasons[reason]), in: runtime)
            case .event(_, let key, let time):
                let keyActor: KeyActor<Processor>
                do {
                    keyActor = try liveActor(for: key, in: runtime, now: now)
                } catch let error as OversizedKey {
                    statistics.deadLettered += 1
                    emit(.deadLetter(batch.input.record(at: index).detached(), reason: error.reason), in: runtime)
                    continue
                }
                let time = time ?? now
                if maxTime.map({ time > $0 }) ?? true { maxTime = time }
                let position = Int32(truncatingIfNeeded: index)
                if keyActor.runStamp == stamp {
                    links[Int(keyActor.chainLast)] = position
                    keyActor.chainCount += 1
                } else {
                    keyActor.runStamp = stamp
                    keyActor.chainFirst = position
                    keyActor.chainCount = 1
                    order.append(keyActor)
                }
                keyActor.chainLast = position
            }
        }
        var processed: UInt64 = 0
        defer {
            partitionCounts[runtime.partition, default: PartitionCounts()].recordsConsumed += consumed
            partitionCounts[runtime.partition, default: PartitionCounts()].recordsProcessed += processed
        }
        let watermark = runtime.watermark.current
        for keyActor in order {
            // The key actor shares this router's executor: enter its isolation without a hop.
            let effects = enter(process: batch, from: Int(keyActor.chainFirst), links: links, on: keyActor, watermark: watermark, now: now)
            statistics.recordsProcessed += UInt64(keyActor.chainCount)
            processed += UInt64(keyActor.chainCount)
            for late in effects.lateIndexes {
                statistics.lateRecords += 1
                emit(.late(batch.input.record(at: late).detached()), in: runtime)
            }
            apply(effects, of: keyActor.key, keyActor: keyActor, in: runtime)
        }
        return maxTime
    }

    /// Advances idle partitions' watermarks with the wall clock and fires due timers.
    /// `isCaughtUp` tells whether a partition has nothing unread below its high watermark.
    @inlinable
    final package func advance(isCaughtUp: @Sendable (InputPartition) -> Bool) async throws {
        let now = clock.now()
        for runtime in partitions.values {
            // Event-time timers the watermark has reached fire first, so that a processing-time
            // timer sees every event-time timer up to the watermark fired, as after a batch.
            _ = runtime.watermark.advanceIfIdle(now: now, isCaughtUp: isCaughtUp(runtime.partition))
            try await fireEventTimers(in: runtime, now: now)
            try await fireProcessingTimers(in: runtime, now: now)
            // Again after the processing-time timers, which may register event-time timers at
            // or below the watermark: these fire now rather than with the partition's next
            // record (which may never come). Nothing due costs a look at the heap's top.
            try await fireEventTimers(in: runtime, now: now)
        }
    }

    /// Raises the watermark of the given partitions (all when `nil`) to `time`, firing timers.
    /// Raising to ``EventTime/distantFuture`` closes every window: the end of a bounded input.
    @inlinable
    final package func raiseWatermarks(to time: EventTime, partitions selected: [InputPartition]? = nil) async throws {
        let now = clock.now()
        for runtime in partitions.values where selected?.contains(runtime.partition) ?? true {
            if runtime.watermark.raise(to: time) {
                try await fireEventTimers(in: runtime, now: now)
            }
        }
    }

    /// Hands over everything emitted since the last call, in emission order.
    @inlinable
    final package func takeEmitted() -> [Emitted<Processor.Output>] {
        defer { emitted.removeAll(keepingCapacity: true) }
        return emitted
    }

    // MARK: Checkpoints

    /// Everything one partition changed since the last checkpoint, with key state not yet encoded.
    @usableFromInline
    package struct PreparedPartition: Sendable {
        @usableFromInline var progress: PartitionProgress
        /// Encoded keys of the keys changed, and their state, in the same order.
        @usableFromInline var keys: [[UInt8]]
        @usableFromInline var states: [KeyActor<Processor>.Stored]
        /// Timer changes, `true` added and `false` removed; split by ``encode(_:processor:keyTable:)``, off the pause.
        @usableFromInline var timerChanges: [StoredTimer: Bool]

        @inlinable
        init(progress: PartitionProgress, keys: [[UInt8]], states: [KeyActor<Processor>.Stored], timerChanges: [StoredTimer: Bool]) {
            self.progress = progress
            self.keys = keys
            self.states = states
            self.timerChanges = timerChanges
        }
    }

    /// The processor, for ``encode(_:processor:keyTable:)``.
    package nonisolated var processor: SharedProcessor<Processor> { sharedProcessor }

    /// Collects every change since the last checkpoint, per partition, and starts a new interval.
    /// This is the checkpoint's pause; encode the result with ``encode(_:processor:keyTable:)`` outside it.
    ///
    /// Call ``takeEmitted()`` first: the sequence numbers in the returned progress count everything emitted.
    @inlinable
    final package func prepareCheckpoint() async -> [InputPartition: PreparedPartition] {
        var result: [InputPartition: PreparedPartition] = [:]
        for runtime in partitions.values {
            // Per key only a reference and a copy of its state (which shares its buffers) are
            // taken here; whether a state is empty is decided by `encode`, off the pause.
            var keys: [[UInt8]] = []
            var states: [KeyActor<Processor>.Stored] = []
            keys.reserveCapacity(runtime.dirtyKeys.count)
            states.reserveCapacity(runtime.dirtyKeys.count)
            for keyActor in runtime.dirtyKeys {
                keys.append(keyActor.encodedKey)
                states.append(snapshot(of: keyActor))
                keyActor.isDirty = false
            }
            runtime.dirtyKeys.removeAll(keepingCapacity: true)
            // Moved, not copied or emptied in place: the old table is read and freed off the pause.
            let timerChanges = runtime.timerChanges
            runtime.timerChanges = [:]
            result[runtime.partition] = PreparedPartition(
                progress: runtime.progress, keys: keys, states: states, timerChanges: timerChanges)
        }
        return result
    }

    /// Encodes prepared key state into the partitions of a checkpoint, with the store's key
    /// table (``CheckpointStore/stateKeyTable``). Runs on any thread.
    @inlinable
    package nonisolated static func encode(
        _ prepared: [InputPartition: PreparedPartition], processor: SharedProcessor<Processor>, keyTable: BinaryStateKeyTable?
    ) throws -> [InputPartition: PartitionCheckpoint] {
        let encoder = BinaryStateBatchEncoder(keyTable: keyTable)
        var result: [InputPartition: PartitionCheckpoint] = [:]
        for (partition, change) in prepared {
            var updates: [[UInt8]: [UInt8]?] = [:]
            updates.reserveCapacity(change.keys.count)
            for (key, stored) in zip(change.keys, change.states) {
                // Nothing worth keeping: the key's entry is deleted.
                let isEmpty = stored.timers.isEmpty && processor.processor.isEmpty(stored.state)
                updates[key] = .some(isEmpty ? nil : try encoder.encode(stored))
            }
            var added: [StoredTimer] = []
            var removed: [StoredTimer] = []
            for (timer, isPresent) in change.timerChanges {
                if isPresent { added.append(timer) } else { removed.append(timer) }
            }
            result[partition] = PartitionCheckpoint(
                progress: change.progress, keyUpdates: updates, timersAdded: added, timersRemoved: removed)
        }
        return result
    }

    /// Releases key actors that are clean and unused for `idleFor`; their state stays in the store.
    /// Returns how many were released. Only call after the last checkpoint was committed.
    @discardableResult
    package func passivate(idleFor: Duration) -> Int {
        guard store != nil else { return 0 }
        let cutoff = clock.now() - idleFor
        var released = 0
        for runtime in partitions.values {
            var idle: [(key: Processor.Key, keyActor: KeyActor<Processor>)] = []
            for (key, keyActor) in runtime.keys where !keyActor.isDirty && keyActor.lastUsed <= cutoff {
                idle.append((key, keyActor))
            }
            for (key, keyActor) in idle {
                statistics.windowsOpen -= Int64(openWindowCount(of: keyActor))
                runtime.keys[key] = nil
                released += 1
            }
        }
        statistics.passivatedKeys += UInt64(released)
        return released
    }

    // MARK: Internals

    /// The key's actor, brought into memory if it is not; marks it used `now`.
    @inlinable
    final func liveActor(
        for key: Processor.Key, in runtime: PartitionRuntime<Processor>, now: EventTime
    ) throws -> KeyActor<Processor> {
        if let keyActor = runtime.keys[key] {
            keyActor.lastUsed = now
            return keyActor
        }
        return try makeKeyActor(for: key, in: runtime, now: now)
    }

    /// Brings a key into memory: its actor, with its state read from the store if it has any.
    /// Not inlined: it runs once per key, not per record.
    @usableFromInline
    func makeKeyActor(
        for key: Processor.Key, in runtime: PartitionRuntime<Processor>, now: EventTime
    ) throws -> KeyActor<Processor> {
        let encodedKey = try encodedKey(key)
        if let limit = store?.maxEncodedKeyBytes, encodedKey.count > limit {
            throw OversizedKey(count: encodedKey.count, limit: limit)
        }
        var restored: KeyActor<Processor>.Stored?
        if let store, let bytes = try store.state(of: encodedKey, in: runtime.partition) {
            restored = try decoder.decode(KeyActor<Processor>.Stored.self, from: bytes)
            statistics.keysRestored += 1
        }
        let actor = KeyActor(
            key: key, encodedKey: encodedKey, processor: sharedProcessor, restored: restored, executor: unownedExecutor,
            lastUsed: now)
        if let restored { statistics.windowsOpen += Int64(logic.processor.openWindowCount(restored.state)) }
        runtime.keys[key] = actor
        return actor
    }

    /// The encoded form of `key` (deterministic, so it finds the key's stored state). Not
    /// memoized: the key's actor keeps it for as long as the key is in memory.
    @usableFromInline func encodedKey(_ key: Processor.Key) throws -> [UInt8] {
        try encoder.encode(key)
    }

    @inlinable
    final func apply(
        _ effects: KeyActor<Processor>.Effects, of key: Processor.Key, keyActor: KeyActor<Processor>,
        in runtime: PartitionRuntime<Processor>
    ) {
        runtime.markDirty(keyActor)
        statistics.windowsOpen += Int64(effects.openWindowsDelta)
        for output in effects.outputs {
            statistics.resultsEmitted += 1
            emit(.result(output), in: runtime)
        }
        guard !effects.timersAdded.isEmpty || !effects.timersRemoved.isEmpty else { return }
        let encodedKey = keyActor.encodedKey
        for timer in effects.timersRemoved {
            runtime.timerChanges[StoredTimer(timer, key: encodedKey)] = false
        }
        for timer in effects.timersAdded {
            runtime.timerChanges[StoredTimer(timer, key: encodedKey)] = true
            switch timer.domain {
            case .eventTime: runtime.eventTimers.insert(time: timer.time.millisecondsSinceEpoch, key: key)
            case .processingTime: runtime.processingTimers.insert(time: timer.time.millisecondsSinceEpoch, key: key)
            }
        }
    }

    /// How many stored event-time timers one read brings into memory.
    @usableFromInline static var timerChunk: Int { 1_024 }

    /// Reads the store's event-time timers that fire at or before `time` (and the rest of
    /// their chunk) into memory. Timers registered in this run are in memory already; one
    /// also read back from the store after a checkpoint fires twice, and the key actor
    /// ignores the second (it is no longer registered), as it does a timer cancelled in
    /// this run but still in the store.
    @usableFromInline func loadEventTimers(in runtime: PartitionRuntime<Processor>, through time: Int64) throws {
        guard let store else { return }
        while runtime.mayHaveUnloadedEventTimers {
            if let last = runtime.lastLoadedEventTimer, last.fireAtMilliseconds > time { return }
            let chunk = try store.timers(
                in: runtime.partition, isEventTime: true, after: runtime.lastLoadedEventTimer, limit: Self.timerChunk)
            for timer in chunk {
                runtime.eventTimers.insert(time: timer.fireAtMilliseconds, key: try decoder.decode(Processor.Key.self, from: timer.key))
            }
            runtime.lastLoadedEventTimer = chunk.last ?? runtime.lastLoadedEventTimer
            runtime.mayHaveUnloadedEventTimers = chunk.count == Self.timerChunk
        }
    }

    @inlinable
    final func fireEventTimers(in runtime: PartitionRuntime<Processor>, now: EventTime) async throws {
        guard let watermark = runtime.watermark.current else { return }
        try loadEventTimers(in: runtime, through: watermark.millisecondsSinceEpoch)
        // Timers may register further timers that are already due; loop until none are.
        while true {
            let due = runtime.eventTimers.popDue(atOrBefore: watermark.millisecondsSinceEpoch)
            if due.isEmpty { return }
            try await fire(due, domain: .eventTime, in: runtime, now: now)
        }
    }

    @inlinable
    final func fireProcessingTimers(in runtime: PartitionRuntime<Processor>, now: EventTime) async throws {
        while true {
            let due = runtime.processingTimers.popDue(atOrBefore: now.millisecondsSinceEpoch)
            if due.isEmpty { return }
            try await fire(due, domain: .processingTime, in: runtime, now: now)
        }
    }

    @inlinable
    final func fire(
        _ due: [TimerHeap<Processor.Key>.Entry], domain: ProcessorTimer.Domain, in runtime: PartitionRuntime<Processor>,
        now: EventTime
    ) async throws {
        // Each key's due timers, keys in the order they first appear. The key actors are found
        // (or brought into memory) first and stamped, as `ingest` does, rather than grouped in a
        // table keyed by key: most keys have one due timer, and a window's close is one per result.
        runStamp &+= 1
        let stamp = runStamp
        var order: [KeyActor<Processor>] = []
        var timers: [[ProcessorTimer]] = []
        order.reserveCapacity(due.count)
        timers.reserveCapacity(due.count)
        for entry in due {
            let keyActor = try liveActor(for: entry.key, in: runtime, now: now)
            let timer = ProcessorTimer(time: EventTime(millisecondsSinceEpoch: entry.time), domain: domain)
            if keyActor.runStamp == stamp {
                timers[Int(keyActor.chainFirst)].append(timer)
            } else {
                keyActor.runStamp = stamp
                keyActor.chainFirst = Int32(truncatingIfNeeded: order.count)
                order.append(keyActor)
                timers.append([timer])
            }
        }
        let watermark = runtime.watermark.current
        for (keyActor, due) in zip(order, timers) {
            let effects = enter(fire: due, on: keyActor, watermark: watermark, now: now)
            // Every timer was cancelled (its heap entry stayed, as a session's do each time it
            // grows): nothing changed, and the key must not be written again or kept from passivating.
            guard !effects.timersRemoved.isEmpty else { continue }
            apply(effects, of: keyActor.key, keyActor: keyActor, in: runtime)
        }
    }

    // Synchronous entries into a key actor's isolation. Key actors run on the router's
    // executor, so while the router runs, so may they. `assumeIsolated` would check that at run
    // time, but it takes its work as a closure it must treat as escaping: two heap allocations
    // (the closure's context and a reabstraction thunk's) and an escape check per call, which
    // is per record when every key has about one record per batch, and per changed key in a
    // checkpoint's pause. These entries call a non-capturing closure whose key actor parameter
    // is `isolated`, cast to the same function without it, as `assumeIsolated` itself does
    // after its check. They are the router's own (isolated) methods, so the compiler proves the
    // caller runs on the router's executor; that the key actor shares it is set once, in
    // `makeKeyActor`, and checked in debug builds.

    @inlinable
    final func enter(
        process batch: DecodedBatch<Processor>, from first: Int, links: [Int32], on actor: KeyActor<Processor>,
        watermark: EventTime?, now: EventTime
    ) -> KeyActor<Processor>.Effects {
        typealias Isolated = (isolated KeyActor<Processor>, DecodedBatch<Processor>, Int, [Int32], EventTime?, EventTime)
            -> KeyActor<Processor>.Effects
        typealias Entered = (KeyActor<Processor>, DecodedBatch<Processor>, Int, [Int32], EventTime?, EventTime)
            -> KeyActor<Processor>.Effects
        let body: Isolated = { $0.process($1, from: $2, links: $3, watermark: $4, now: $5) }
        Self.checkSharesExecutor(actor)
        return unsafeBitCast(body, to: Entered.self)(actor, batch, first, links, watermark, now)
    }

    @inlinable
    final func enter(
        fire due: [ProcessorTimer], on actor: KeyActor<Processor>, watermark: EventTime?, now: EventTime
    ) -> KeyActor<Processor>.Effects {
        typealias Isolated = (isolated KeyActor<Processor>, [ProcessorTimer], EventTime?, EventTime) -> KeyActor<Processor>.Effects
        typealias Entered = (KeyActor<Processor>, [ProcessorTimer], EventTime?, EventTime) -> KeyActor<Processor>.Effects
        let body: Isolated = { $0.fire($1, watermark: $2, now: $3) }
        Self.checkSharesExecutor(actor)
        return unsafeBitCast(body, to: Entered.self)(actor, due, watermark, now)
    }

    @usableFromInline
    final func openWindowCount(of actor: KeyActor<Processor>) -> Int {
        let body: (isolated KeyActor<Processor>) -> Int = { $0.openWindowCount() }
        Self.checkSharesExecutor(actor)
        return unsafeBitCast(body, to: ((KeyActor<Processor>) -> Int).self)(actor)
    }

    @inlinable
    final func snapshot(of actor: KeyActor<Processor>) -> KeyActor<Processor>.Stored {
        let body: (isolated KeyActor<Processor>) -> KeyActor<Processor>.Stored = { $0.snapshot() }
        Self.checkSharesExecutor(actor)
        return unsafeBitCast(body, to: ((KeyActor<Processor>) -> KeyActor<Processor>.Stored).self)(actor)
    }

    /// In debug builds, stops unless the caller runs on `actor`'s executor (the router's).
    @inlinable @inline(__always)
    nonisolated static func checkSharesExecutor(_ actor: KeyActor<Processor>) {
        #if DEBUG
        actor.preconditionIsolated("a key actor was entered off its router's executor")
        #endif
    }

    @inlinable
    final func emit(_ payload: Emitted<Processor.Output>.Payload, in runtime: PartitionRuntime<Processor>) {
        emitted.append(Emitted(key: OutboxKey(writer: runtime.partition, sequence: runtime.nextSequence), payload: payload))
        runtime.nextSequence += 1
    }
}

/// A key whose encoded form is longer than the checkpoint store keeps
/// (``CheckpointStore/maxEncodedKeyBytes``): its records are dead-lettered.
@usableFromInline
struct OversizedKey: Error {
    @usableFromInline let count: Int
    @usableFromInline let limit: Int

    @usableFromInline
    init(count: Int, limit: Int) {
        self.count = count
        self.limit = limit
    }

    @usableFromInline
    var reason: String {
        "the record's key is \(count) bytes encoded, longer than the \(limit) the checkpoint store keeps state for"
    }
}

extension StoredTimer {
    @inlinable
    init(_ timer: ProcessorTimer, key: [UInt8]) {
        self.init(fireAtMilliseconds: timer.time.millisecondsSinceEpoch, key: key, isEventTime: timer.domain == .eventTime)
    }
}

/// Records consumed and processed by one input partition.
public struct PartitionCounts: Sendable, Equatable {
    /// Records read from the partition (including undecodable ones).
    public var recordsConsumed: UInt64 = 0
    /// Records decoded and applied to a key.
    public var recordsProcessed: UInt64 = 0

    /// Creates zero counts.
    public init() {}
}

/// Counters the router keeps; read by the runner for metrics and the demo's display.
public struct RouterStatistics: Sendable, Equatable {
    /// Records read from the source.
    public var recordsConsumed: UInt64 = 0
    /// Records decoded and applied to a key.
    public var recordsProcessed: UInt64 = 0
    /// Records that arrived after all their windows had closed.
    public var lateRecords: UInt64 = 0
    /// Records that could not be decoded.
    public var deadLettered: UInt64 = 0
    /// Results emitted by key actors.
    public var resultsEmitted: UInt64 = 0
    /// Key actors whose state was loaded from the store.
    public var keysRestored: UInt64 = 0
    /// Key actors released from memory while idle.
    public var passivatedKeys: UInt64 = 0
    /// Windows open in the key actors in memory.
    public var windowsOpen: Int64 = 0
}
