/// The in-memory state the router keeps for one input partition.
///
/// Owned and touched only by its ``Router``.
@usableFromInline
final class PartitionRuntime<Processor: KeyedProcessor> {
    /// A key actor in memory, with the router's bookkeeping for it.
    @usableFromInline
    final class KeySlot {
        @usableFromInline let actor: KeyActor<Processor>
        @usableFromInline var lastUsed: EventTime
        /// Whether the key changed since the last checkpoint (it is then in ``dirtySlots``).
        @usableFromInline var isDirty = false
        /// The router's run that last chained this key's records, and the chain's first and last
        /// record index and length in that run (see `Router.ingest(_:_:links:into:now:)`).
        @usableFromInline var runStamp: UInt64 = 0
        @usableFromInline var chainFirst: Int32 = -1
        @usableFromInline var chainLast: Int32 = -1
        @usableFromInline var chainCount: Int32 = 0

        @usableFromInline
        init(actor: KeyActor<Processor>, lastUsed: EventTime) {
            self.actor = actor
            self.lastUsed = lastUsed
        }
    }

    @usableFromInline let partition: InputPartition
    @usableFromInline var watermark: PartitionWatermark
    @usableFromInline var nextOffset: Int64
    @usableFromInline var nextSequence: UInt64
    @usableFromInline var keys: [Processor.Key: KeySlot] = [:]
    /// Keys whose state changed since the last checkpoint, in the order they first changed.
    @usableFromInline var dirtySlots: [KeySlot] = []
    @usableFromInline var eventTimers = TimerHeap<Processor.Key>()
    @usableFromInline var processingTimers = TimerHeap<Processor.Key>()
    /// The last event-time timer read from the store into ``eventTimers``; the store's
    /// event-time timers are read lazily, earliest first, as the watermark reaches them.
    @usableFromInline var lastLoadedEventTimer: StoredTimer?
    /// Whether the store may hold event-time timers after ``lastLoadedEventTimer``.
    @usableFromInline var mayHaveUnloadedEventTimers = false
    /// Timer changes since the last checkpoint: `true` added, `false` removed (last change wins).
    @usableFromInline var timerChanges: [StoredTimer: Bool] = [:]

    @usableFromInline
    init(partition: InputPartition, watermark: PartitionWatermark, nextOffset: Int64, nextSequence: UInt64) {
        self.partition = partition
        self.watermark = watermark
        self.nextOffset = nextOffset
        self.nextSequence = nextSequence
    }

    @inlinable
    func markDirty(_ slot: KeySlot) {
        if slot.isDirty { return }
        slot.isDirty = true
        dirtySlots.append(slot)
    }

    @usableFromInline var progress: PartitionProgress {
        PartitionProgress(
            nextOffset: nextOffset, watermarkMilliseconds: watermark.current?.millisecondsSinceEpoch,
            nextSequence: nextSequence)
    }
}
