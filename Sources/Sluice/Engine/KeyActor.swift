/// The actor that owns one key's state within one input partition.
///
/// The router sends it the key's records in batches and fires its timers; it
/// applies them to the processor's state and hands back what was emitted.
/// Its state is encoded only when a checkpoint asks for it.
@usableFromInline
actor KeyActor<Processor: KeyedProcessor> {
    /// What the key keeps between events: the processor's state and its pending timers.
    ///
    /// `timers` comes first so that code not specialized for the state's type finds it at a
    /// fixed offset (see ``ProcessorContext``). The binary codec matches fields by name, so states written
    /// with the other order still decode.
    @usableFromInline
    struct Stored: Codable, Sendable {
        @usableFromInline var timers: [ProcessorTimer]
        @usableFromInline var state: Processor.State

        @inlinable
        init(timers: [ProcessorTimer], state: Processor.State) {
            self.timers = timers
            self.state = state
        }

        /// Encodes the timers and the processor's state (written directly by Sluice's state encoder).
        @usableFromInline
        func encode(to encoder: any Encoder) throws {
            if let binary = encoder as? BinaryStateEncoding {
                let writer = try binary.openKeyed()
                ProcessorTimer.write(timers, key: CodingKeys.timers, to: writer)
                try writer.writeMember(state, key: CodingKeys.state)
                return
            }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(timers, forKey: .timers)
            try container.encode(state, forKey: .state)
        }
    }

    /// What one call produced.
    @usableFromInline
    struct Effects: Sendable {
        @usableFromInline var outputs: [Processor.Output] = []
        /// Indexes (into the batch's records) of records the processor declared late.
        @usableFromInline var lateIndexes: [Int] = []
        /// How the number of open windows changed.
        @usableFromInline var openWindowsDelta = 0
        @usableFromInline var timersAdded: [ProcessorTimer] = []
        @usableFromInline var timersRemoved: [ProcessorTimer] = []

        @inlinable init() {}
    }

    @usableFromInline final let key: Processor.Key
    @usableFromInline final let encodedKey: [UInt8]
    /// Shared by all of a router's key actors: one reference per key instead of a copy of
    /// the processor (and its closures) in each of millions of actors.
    @usableFromInline final let shared: SharedProcessor<Processor>
    /// Touched only on the router's executor, never by two overlapping accesses: no run-time
    /// exclusivity check per record.
    @usableFromInline @exclusivity(unchecked) final var stored: Stored
    @usableFromInline final nonisolated let executor: UnownedSerialExecutor

    // The router's bookkeeping for this key, kept here rather than in an object of its own (one
    // allocation and one pointer less per key). Only the router touches it, on the executor it
    // shares with this actor, and no access overlaps another: hence `nonisolated(unsafe)` and no
    // run-time exclusivity checks.

    /// When the router last handed this key a record or a timer.
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) final var lastUsed: EventTime
    /// Whether the key changed since the last checkpoint (it is then in `PartitionRuntime.dirtyKeys`).
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) final var isDirty = false
    /// The router's run that last chained this key's records, and the chain's first and last
    /// record index and length in that run (see `Router.ingest(_:_:links:into:now:)`). A run of
    /// timers (`Router.fire`) uses the stamp and `chainFirst`, the key's place in its grouping.
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) final var runStamp: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) final var chainFirst: Int32 = -1
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) final var chainLast: Int32 = -1
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) final var chainCount: Int32 = 0

    /// A key actor runs on its router's serial executor. The router applies one key's
    /// records at a time anyway, so nothing is lost in concurrency, and the router can
    /// enter the key's isolation synchronously (see `Router.enter(process:…)`) instead of suspending
    /// and switching for every key of every batch.
    @inlinable nonisolated var unownedExecutor: UnownedSerialExecutor { executor }

    @usableFromInline
    init(
        key: Processor.Key, encodedKey: [UInt8], processor: SharedProcessor<Processor>, restored: Stored?,
        executor: UnownedSerialExecutor, lastUsed: EventTime
    ) {
        self.key = key
        self.lastUsed = lastUsed
        self.encodedKey = encodedKey
        self.shared = processor
        self.stored = restored ?? Stored(timers: [], state: processor.processor.initialState(for: key))
        self.executor = executor
    }

    /// Applies this key's events in `batch`, in order: the one at `first`, then each next one in `links`.
    @inlinable
    final func process(
        _ batch: DecodedBatch<Processor>, from first: Int, links: [Int32], watermark: EventTime?, now: EventTime
    ) -> Effects {
        var effects = Effects()
        // Through the shared reference, not a copy of the processor (and a retain of each of
        // its closures) per call, which is per record when every key has about one record per batch.
        let shared = self.shared
        let windowsBefore = shared.processor.openWindowCount(stored.state)
        // One context for the whole call, emptied after each event that used it.
        var context = ProcessorContext<Processor.Key, Processor.Output>(key: key, watermark: watermark, now: now)
        var index = first
        while index >= 0 {
            guard case .event(let input, _, let time) = batch.outcomes[index] else {
                preconditionFailure("the router chains only decoded records")
            }
            shared.processor.process(input, at: time ?? now, state: &stored.state, context: &context)
            if context.hasEffects {
                absorb(&context, into: &effects)
                if context.isLate {
                    effects.lateIndexes.append(index)
                    context.isLate = false
                }
            }
            index = Int(links[index])
        }
        effects.openWindowsDelta = shared.processor.openWindowCount(stored.state) - windowsBefore
        return effects
    }

    /// Fires every registered timer among `due` (others were cancelled and are ignored).
    @inlinable
    final func fire(_ due: [ProcessorTimer], watermark: EventTime?, now: EventTime) -> Effects {
        var effects = Effects()
        let shared = self.shared
        let windowsBefore = shared.processor.openWindowCount(stored.state)
        // Most keys have one due timer: no sorted copy for it.
        for timer in due.count == 1 ? due : due.sorted() {
            guard let position = stored.timers.firstIndex(of: timer) else { continue }
            stored.timers.remove(at: position)
            effects.timersRemoved.append(timer)
            var context = ProcessorContext<Processor.Key, Processor.Output>(key: key, watermark: watermark, now: now)
            shared.processor.onTimer(timer, state: &stored.state, context: &context)
            absorb(&context, into: &effects)
        }
        effects.openWindowsDelta = shared.processor.openWindowCount(stored.state) - windowsBefore
        return effects
    }

    /// How many windows the key holds open.
    @inlinable
    final func openWindowCount() -> Int { shared.processor.openWindowCount(stored.state) }

    /// The state for a checkpoint: a copy, sharing its buffers until the key changes again.
    /// Encoding (and dropping empty state) happens off the pause.
    @inlinable
    final func snapshot() -> Stored { stored }

    /// Applies and empties the timers and outputs a call left in `context` (not its late flag).
    @inlinable
    final func absorb(_ context: inout ProcessorContext<Processor.Key, Processor.Output>, into effects: inout Effects) {
        if !context.timersDeleted.isEmpty {
            for timer in context.timersDeleted {
                if let position = stored.timers.firstIndex(of: timer) {
                    stored.timers.remove(at: position)
                    if let added = effects.timersAdded.firstIndex(of: timer) {
                        // Registered earlier in this call, so not in the store: nothing to remove
                        // there. (The router applies a call's removals before its additions; both
                        // listed, the timer would be stored for good.)
                        effects.timersAdded.remove(at: added)
                    } else {
                        effects.timersRemoved.append(timer)
                    }
                }
            }
            context.timersDeleted.removeAll(keepingCapacity: true)
        }
        if !context.timersAdded.isEmpty {
            for timer in context.timersAdded where !stored.timers.contains(timer) {
                stored.timers.append(timer)
                effects.timersAdded.append(timer)
            }
            context.timersAdded.removeAll(keepingCapacity: true)
        }
        if !context.outputs.isEmpty {
            effects.outputs.append(contentsOf: context.outputs)
            context.outputs.removeAll(keepingCapacity: true)
        }
    }
}

/// A processor held once by a router and referenced by each of its key actors.
@usableFromInline
package final class SharedProcessor<Processor: KeyedProcessor>: Sendable {
    @usableFromInline let processor: Processor

    @usableFromInline
    init(_ processor: Processor) {
        self.processor = processor
    }
}
