/// The in-memory state the router keeps for one input partition.
///
/// Owned and touched only by its ``Router``, on the router's executor: its mutable stored
/// properties (and the router's bookkeeping in ``KeyActor``) skip run-time exclusivity checks
/// (`@exclusivity(unchecked)`), which took about a quarter of the router's time in a profile; no
/// access to one overlaps another access to it.
@usableFromInline
final class PartitionRuntime<Processor: KeyedProcessor> {
    @usableFromInline let partition: InputPartition
    @usableFromInline @exclusivity(unchecked) var watermark: PartitionWatermark
    @usableFromInline @exclusivity(unchecked) var nextOffset: Int64
    @usableFromInline @exclusivity(unchecked) var nextSequence: UInt64
    /// The key actors in memory; each also holds the router's bookkeeping for its key.
    @usableFromInline @exclusivity(unchecked) var keys: [Processor.Key: KeyActor<Processor>] = [:]
    /// Keys whose state changed since the last checkpoint, in the order they first changed.
    @usableFromInline @exclusivity(unchecked) var dirtyKeys: [KeyActor<Processor>] = []
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
    func markDirty(_ keyActor: KeyActor<Processor>) {
        if keyActor.isDirty { return }
        keyActor.isDirty = true
        dirtyKeys.append(keyActor)
    }

    @usableFromInline var progress: PartitionProgress {
        PartitionProgress(
            nextOffset: nextOffset, watermarkMilliseconds: watermark.current?.millisecondsSinceEpoch,
            nextSequence: nextSequence)
    }
}
