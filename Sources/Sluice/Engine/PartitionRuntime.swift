/// The in-memory state the router keeps for one input partition.
///
/// Owned and touched only by its ``Router``.
final class PartitionRuntime<Processor: KeyedProcessor> {
    struct KeyEntry {
        var actor: KeyActor<Processor>
        var lastUsed: EventTime
    }

    let partition: InputPartition
    var watermark: PartitionWatermark
    var nextOffset: Int64
    var nextSequence: UInt64
    var keys: [Processor.Key: KeyEntry] = [:]
    /// Keys whose state changed since the last checkpoint.
    var dirty: Set<Processor.Key> = []
    var eventTimers = TimerHeap<Processor.Key>()
    var processingTimers = TimerHeap<Processor.Key>()
    /// Timer changes since the last checkpoint: `true` added, `false` removed (last change wins).
    var timerChanges: [StoredTimer: Bool] = [:]
    /// Encoded keys, memoized.
    var encodedKeys: [Processor.Key: [UInt8]] = [:]

    init(partition: InputPartition, watermark: PartitionWatermark, nextOffset: Int64, nextSequence: UInt64) {
        self.partition = partition
        self.watermark = watermark
        self.nextOffset = nextOffset
        self.nextSequence = nextSequence
    }

    var progress: PartitionProgress {
        PartitionProgress(
            nextOffset: nextOffset, watermarkMilliseconds: watermark.current?.millisecondsSinceEpoch,
            nextSequence: nextSequence)
    }
}
