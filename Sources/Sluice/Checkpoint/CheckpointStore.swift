#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input partition: the unit of work, of state and of recovery.
///
/// Every piece of state Sluice keeps is scoped by the input partition that
/// produced it, so that a partition and its state can move together between
/// processes (through Kafka consumer-group rebalances).
public struct InputPartition: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The input topic.
    public var topic: String
    /// The partition number within ``topic``.
    public var partition: Int32

    /// Creates a partition reference.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: InputPartition, rhs: InputPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)/\(partition)" }
}

/// One output partition: where an outbox entry is published.
public struct OutputPartition: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The output topic.
    public var topic: String
    /// The partition number within ``topic``.
    public var partition: Int32

    /// Creates a partition reference.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: OutputPartition, rhs: OutputPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)/\(partition)" }
}

/// The progress of one input partition, as of a checkpoint.
public struct PartitionProgress: Sendable, Equatable, Codable {
    /// The offset of the next input record to read after a restart.
    public var nextOffset: Int64
    /// The partition's event-time watermark in milliseconds since the epoch, if one was established.
    public var watermarkMilliseconds: Int64?
    /// The sequence number the next output emitted on behalf of this partition will carry.
    public var nextSequence: UInt64

    /// Creates a progress record.
    public init(nextOffset: Int64, watermarkMilliseconds: Int64?, nextSequence: UInt64) {
        self.nextOffset = nextOffset
        self.watermarkMilliseconds = watermarkMilliseconds
        self.nextSequence = nextSequence
    }

    /// The first sequence number of a partition that starts without stored progress: the
    /// system clock in nanoseconds since 1970.
    ///
    /// A partition's outputs are told apart from earlier ones by their sequence numbers alone
    /// (the recovery scan takes every entry at or below the highest number its writer shows in
    /// the output as published). A partition whose progress is gone (a lost state directory,
    /// state discarded as stale, `missingState` set to rebuild or accept the loss) may find its
    /// earlier life's records in the output topics, so it must not count from 0 again. An
    /// earlier life that started at clock time `t` and emitted `n` records ended at sequence
    /// `t + n`, below the clock when the new life starts unless it emitted more than one record
    /// per nanosecond of its life (or the clock was set back by nearly all of it).
    static func firstSequence() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

/// A header carried by an output record.
public struct OutputHeader: Sendable, Equatable, Codable {
    /// The header name.
    public var name: String
    /// The header value.
    public var value: [UInt8]

    /// Creates a header.
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// Identifies one outbox entry: the input partition that wrote it and its sequence number.
///
/// Sequence numbers grow by one for every output a writer emits, across all
/// output partitions.
public struct OutboxKey: Hashable, Sendable, Comparable, Codable {
    /// The input partition on whose behalf the record was emitted.
    public var writer: InputPartition
    /// The writer's sequence number of this record.
    public var sequence: UInt64

    /// Creates a key.
    public init(writer: InputPartition, sequence: UInt64) {
        self.writer = writer
        self.sequence = sequence
    }

    public static func < (lhs: OutboxKey, rhs: OutboxKey) -> Bool {
        (lhs.writer, lhs.sequence) < (rhs.writer, rhs.sequence)
    }
}

/// An output record that is committed but perhaps not yet published.
///
/// Its output partition is fixed when the entry is created, so a record that
/// is published again after a crash goes where the first attempt went.
public struct OutboxEntry: Sendable, Equatable, Codable {
    /// The writer and sequence number.
    public var key: OutboxKey
    /// Where the record is published.
    public var destination: OutputPartition
    /// The Kafka record key.
    public var recordKey: [UInt8]?
    /// The Kafka record value.
    public var recordValue: [UInt8]
    /// Headers the user asked for (Sluice adds its writer and sequence headers when publishing).
    public var headers: [OutputHeader]

    /// Creates an entry.
    public init(
        key: OutboxKey, destination: OutputPartition, recordKey: [UInt8]?, recordValue: [UInt8],
        headers: [OutputHeader] = []
    ) {
        self.key = key
        self.destination = destination
        self.recordKey = recordKey
        self.recordValue = recordValue
        self.headers = headers
    }
}

/// A pending event-time or processing-time timer of one key.
public struct StoredTimer: Hashable, Sendable, Codable, Comparable {
    /// The time at which the timer fires, milliseconds since the epoch.
    public var fireAtMilliseconds: Int64
    /// The encoded key that owns the timer.
    public var key: [UInt8]
    /// Whether the timer follows event time (the watermark) or processing (wall-clock) time.
    public var isEventTime: Bool

    /// Creates a timer.
    public init(fireAtMilliseconds: Int64, key: [UInt8], isEventTime: Bool) {
        self.fireAtMilliseconds = fireAtMilliseconds
        self.key = key
        self.isEventTime = isEventTime
    }

    public static func < (lhs: StoredTimer, rhs: StoredTimer) -> Bool {
        if lhs.fireAtMilliseconds != rhs.fireAtMilliseconds { return lhs.fireAtMilliseconds < rhs.fireAtMilliseconds }
        if lhs.isEventTime != rhs.isEventTime { return !lhs.isEventTime }
        return lhs.key.lexicographicallyPrecedes(rhs.key)
    }
}

extension CheckpointStore {
    /// Filters ``timers(in:)``; stores that can seek should do better.
    public func timers(in partition: InputPartition, isEventTime: Bool, after: StoredTimer?, limit: Int) throws -> [StoredTimer] {
        Array(
            try timers(in: partition).lazy
                .filter { timer in timer.isEventTime == isEventTime && (after.map { $0 < timer } ?? true) }
                .prefix(limit))
    }
}

/// Everything one input partition changes in one checkpoint.
public struct PartitionCheckpoint: Sendable, Equatable {
    /// Progress as of this checkpoint.
    public var progress: PartitionProgress
    /// Key state written since the last checkpoint: encoded key to encoded state, `nil` meaning delete.
    public var keyUpdates: [[UInt8]: [UInt8]?]
    /// Timers created since the last checkpoint.
    public var timersAdded: [StoredTimer]
    /// Timers fired or cancelled since the last checkpoint.
    public var timersRemoved: [StoredTimer]

    /// Creates a partition checkpoint.
    public init(
        progress: PartitionProgress, keyUpdates: [[UInt8]: [UInt8]?] = [:],
        timersAdded: [StoredTimer] = [], timersRemoved: [StoredTimer] = []
    ) {
        self.progress = progress
        self.keyUpdates = keyUpdates
        self.timersAdded = timersAdded
        self.timersRemoved = timersRemoved
    }
}

/// One checkpoint: written in a single all-or-nothing transaction.
public struct CheckpointWrite: Sendable, Equatable {
    /// The id of this checkpoint; strictly greater than the previous one.
    public var id: UInt64
    /// Per input partition: its progress, key state and timers.
    public var partitions: [InputPartition: PartitionCheckpoint]
    /// Outputs emitted since the last checkpoint, to append to the outbox.
    public var outboxAppends: [OutboxEntry]
    /// Outbox entries whose publication was confirmed; they are removed.
    public var outboxRemovals: [OutboxKey]
    /// Per output partition, the new offset from which a restart must scan for published records.
    public var scanOffsets: [OutputPartition: Int64]
    /// Input partitions whose state, timers and progress are removed (for example when they
    /// turned out stale). Their outbox entries stay until ``outboxRemovals`` names them.
    public var droppedPartitions: [InputPartition]

    /// Creates a checkpoint.
    public init(
        id: UInt64, partitions: [InputPartition: PartitionCheckpoint] = [:], outboxAppends: [OutboxEntry] = [],
        outboxRemovals: [OutboxKey] = [], scanOffsets: [OutputPartition: Int64] = [:],
        droppedPartitions: [InputPartition] = []
    ) {
        self.id = id
        self.partitions = partitions
        self.outboxAppends = outboxAppends
        self.outboxRemovals = outboxRemovals
        self.scanOffsets = scanOffsets
        self.droppedPartitions = droppedPartitions
    }
}

/// Durable storage of checkpoints.
///
/// A checkpoint is on disk completely or not at all. Implementations are
/// synchronous; the engine calls ``commit(_:)`` off the cooperative thread pool
/// because a durable commit blocks on `fsync`.
public protocol CheckpointStore: Sendable {
    /// The id of the last committed checkpoint, or `nil` for an empty store.
    func lastCheckpointID() throws -> UInt64?
    /// The input partitions that have state in the store.
    func partitions() throws -> [InputPartition]
    /// The progress of one input partition as of the last checkpoint.
    func progress(of partition: InputPartition) throws -> PartitionProgress?
    /// The state of one key, read on demand.
    func state(of key: [UInt8], in partition: InputPartition) throws -> [UInt8]?
    /// Every key with state in a partition (for tests and for eager tools; the engine loads lazily).
    func keys(in partition: InputPartition) throws -> [[UInt8]]
    /// The pending timers of one partition, earliest first.
    func timers(in partition: InputPartition) throws -> [StoredTimer]
    /// Up to `limit` pending timers of one partition and time domain that come after `after`
    /// (all when `nil`), earliest first, in ``StoredTimer`` order. The engine reads event-time
    /// timers this way, a chunk at a time as the watermark reaches them, instead of all at once.
    func timers(in partition: InputPartition, isEventTime: Bool, after: StoredTimer?, limit: Int) throws -> [StoredTimer]
    /// The outbox, in key order.
    func outbox() throws -> [OutboxEntry]
    /// The offsets from which a restart must scan each output partition.
    func scanOffsets() throws -> [OutputPartition: Int64]
    /// Writes one checkpoint atomically and durably.
    func commit(_ checkpoint: CheckpointWrite) throws
    /// The key names the engine's state documents refer to, or `nil` for self-contained documents.
    ///
    /// A store that offers a table must keep it with the state: every ``commit(_:)`` saves the
    /// names added since the last commit in the same transaction, and opening the store loads
    /// them, so every document it returns from ``state(of:in:)`` finds its names. The engine
    /// encodes state with the table (``BinaryStateEncoder/init(keyTable:)``) before it commits.
    /// A store that wraps another must pass its table on: with the default, `nil`, state the
    /// inner store wrote with its table cannot be read.
    var stateKeyTable: BinaryStateKeyTable? { get }
    /// The longest encoded key (``BinaryStateEncoder`` of a processor's key) the store keeps
    /// state and timers for, or `nil` for no limit. The engine dead-letters records whose key
    /// is longer instead of failing every checkpoint on them.
    var maxEncodedKeyBytes: Int? { get }
}

extension CheckpointStore {
    /// No shared table: the engine writes self-contained state documents.
    public var stateKeyTable: BinaryStateKeyTable? { nil }

    /// No limit on the length of encoded keys.
    public var maxEncodedKeyBytes: Int? { nil }
}
