/// The in-memory state the router keeps for one input partition.
///
/// Owned and touched only by its ``Router``, on the router's executor: its mutable stored
/// properties (and those of ``KeySlot``) skip run-time exclusivity checks
/// (`@exclusivity(unchecked)`), which took about a quarter of the router's time in a profile; no
/// access to one overlaps another access to it.
@usableFromInline
final class PartitionRuntime<Processor: KeyedProcessor> {
    /// A key actor in memory, with the router's bookkeeping for it.
    @usableFromInline
    final class KeySlot {
        @usableFromInline let actor: KeyActor<Processor>
        @usableFromInline @exclusivity(unchecked) var lastUsed: EventTime
        /// Whether the key changed since the last checkpoint (it is then in ``dirtySlots``).
        @usableFromInline @exclusivity(unchecked) var isDirty = false
        /// The router's run that last chained this key's records, and the chain's first and last
        /// record index and length in that run (see `Router.ingest(_:_:links:into:now:)`).
        @usableFromInline @exclusivity(unchecked) var runStamp: UInt64 = 0
        @usableFromInline @exclusivity(unchecked) var chainFirst: Int32 = -1
        @usableFromInline @exclusivity(unchecked) var chainLast: Int32 = -1
        @usableFromInline @exclusivity(unchecked) var chainCount: Int32 = 0

        @usableFromInline
        init(actor: KeyActor<Processor>, lastUsed: EventTime) {
            self.actor = actor
            self.lastUsed = lastUsed
        }
    }

    @usableFromInline let partition: InputPartition
    @usableFromInline @exclusivity(unchecked) var watermark: PartitionWatermark
    @usableFromInline @exclusivity(unchecked) var nextOffset: Int64
    @usableFromInline @exclusivity(unchecked) var nextSequence: UInt64
    @usableFromInline @exclusivity(unchecked) var keys: [Processor.Key: KeySlot] = [:]
    /// Keys whose state changed since the last checkpoint, in the order they first changed.
    @usableFromInline @exclusivity(unchecked) var dirtySlots: [KeySlot] = []
    @usableFromInline @exclusivity(unchecked) var eventTimers = TimerHeap<Processor.Key>()
    @usableFromInline @exclusivity(unchecked) var processingTimers = TimerHeap<Processor.Key>()
    /// The last event-time timer read from the store into ``eventTimers``; the store's
    /// event-time timers are read lazily, earliest first, as the watermark reaches them.
    @usableFromInline @exclusivity(unchecked) var lastLoadedEventTimer: StoredTimer?
    /// Whether the store may hold event-time timers after ``lastLoadedEventTimer``.
    @usableFromInline @exclusivity(unchecked) var mayHaveUnloadedEventTimers = false
    /// Timer changes since the last checkpoint: `true` added, `false` removed (last change wins).
    @usableFromInline @exclusivity(unchecked) var timerChanges: [StoredTimer: Bool] = [:]

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
