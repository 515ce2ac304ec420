/// The in-memory state the router keeps for one input partition.
///
/// Owned and touched only by its ``Router``.
final class PartitionRuntime<Processor: KeyedProcessor> {
    /// A key actor in memory, with the router's bookkeeping for it.
    final class KeySlot {
        let actor: KeyActor<Processor>
        var lastUsed: EventTime
        /// Whether the key changed since the last checkpoint (it is then in ``dirtySlots``).
        var isDirty = false

        init(actor: KeyActor<Processor>, lastUsed: EventTime) {
            self.actor = actor
            self.lastUsed = lastUsed
        }
    }

    let partition: InputPartition
    var watermark: PartitionWatermark
    var nextOffset: Int64
    var nextSequence: UInt64
    var keys: [Processor.Key: KeySlot] = [:]
    /// Keys whose state changed since the last checkpoint, in the order they first changed.
    var dirtySlots: [KeySlot] = []
    var eventTimers = TimerHeap<Processor.Key>()
    var processingTimers = TimerHeap<Processor.Key>()
    /// The last event-time timer read from the store into ``eventTimers``; the store's
    /// event-time timers are read lazily, earliest first, as the watermark reaches them.
    var lastLoadedEventTimer: StoredTimer?
    /// Whether the store may hold event-time timers after ``lastLoadedEventTimer``.
    var mayHaveUnloadedEventTimers = false
    /// Timer changes since the last checkpoint: `true` added, `false` removed (last change wins).
    var timerChanges: [StoredTimer: Bool] = [:]

    init(partition: InputPartition, watermark: PartitionWatermark, nextOffset: Int64, nextSequence: UInt64) {
        self.partition = partition
        self.watermark = watermark
        self.nextOffset = nextOffset
        self.nextSequence = nextSequence
    }

    func markDirty(_ slot: KeySlot) {
        if slot.isDirty { return }
        slot.isDirty = true
        dirtySlots.append(slot)
    }

    var progress: PartitionProgress {
        PartitionProgress(
            nextOffset: nextOffset, watermarkMilliseconds: watermark.current?.millisecondsSinceEpoch,
            nextSequence: nextSequence)
    }
}
