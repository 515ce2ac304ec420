import Synchronization

/// A checkpoint store held in memory: for tests and for pipelines that may lose their state.
///
/// It keeps the same schema as ``LMDBCheckpointStore`` and applies each
/// checkpoint atomically (under one lock), but nothing survives the process.
public final class InMemoryCheckpointStore: CheckpointStore {
    private struct Contents {
        var checkpointID: UInt64?
        var progress: [InputPartition: PartitionProgress] = [:]
        var state: [InputPartition: [[UInt8]: [UInt8]]] = [:]
        var timers: [InputPartition: Set<StoredTimer>] = [:]
        var outbox: [OutboxKey: OutboxEntry] = [:]
        var scanOffsets: [OutputPartition: Int64] = [:]
    }

    private let contents = Mutex(Contents())

    /// The state documents' key names; held in memory like the rest.
    public let stateKeyTable: BinaryStateKeyTable? = BinaryStateKeyTable()

    /// The longest encoded key kept: the same as ``LMDBCheckpointStore``'s with LMDB's usual
    /// build (511-byte keys), so that a test sees the keys a real store would refuse.
    public var maxEncodedKeyBytes: Int? { LMDBCheckpointSchema.maxEncodedKeyBytes(lmdbMaxKeyBytes: 511) }

    /// Creates an empty store.
    public init() {}

    public func lastCheckpointID() throws -> UInt64? { contents.withLock { $0.checkpointID } }

    public func partitions() throws -> [InputPartition] { contents.withLock { $0.progress.keys.sorted() } }

    public func progress(of partition: InputPartition) throws -> PartitionProgress? {
        contents.withLock { $0.progress[partition] }
    }

    public func state(of key: [UInt8], in partition: InputPartition) throws -> [UInt8]? {
        contents.withLock { $0.state[partition]?[key] }
    }

    public func keys(in partition: InputPartition) throws -> [[UInt8]] {
        contents.withLock { ($0.state[partition] ?? [:]).keys.sorted { $0.lexicographicallyPrecedes($1) } }
    }

    public func timers(in partition: InputPartition) throws -> [StoredTimer] {
        contents.withLock { ($0.timers[partition] ?? []).sorted() }
    }

    public func outbox() throws -> [OutboxEntry] {
        contents.withLock { $0.outbox.values.sorted { $0.key < $1.key } }
    }

    public func scanOffsets() throws -> [OutputPartition: Int64] { contents.withLock { $0.scanOffsets } }

    public func commit(_ checkpoint: CheckpointWrite) throws {
        try contents.withLock { contents in
            if let last = contents.checkpointID, checkpoint.id <= last {
                throw SluiceError(.checkpointFailure, "checkpoint id \(checkpoint.id) is not greater than the stored id \(last)")
            }
            var next = contents
            for partition in checkpoint.droppedPartitions {
                next.progress[partition] = nil
                next.state[partition] = nil
                next.timers[partition] = nil
            }
            for (partition, change) in checkpoint.partitions {
                next.progress[partition] = change.progress
                for (key, value) in change.keyUpdates {
                    next.state[partition, default: [:]][key] = value
                }
                for timer in change.timersRemoved { next.timers[partition]?.remove(timer) }
                for timer in change.timersAdded { next.timers[partition, default: []].insert(timer) }
            }
            for entry in checkpoint.outboxAppends { next.outbox[entry.key] = entry }
            for key in checkpoint.outboxRemovals { next.outbox[key] = nil }
            next.scanOffsets.merge(checkpoint.scanOffsets) { $1 }
            next.checkpointID = checkpoint.id
            contents = next
        }
    }
}
