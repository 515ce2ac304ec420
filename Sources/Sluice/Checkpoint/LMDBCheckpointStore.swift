public import Logging
public import SluiceLMDB
import Synchronization

/// A ``CheckpointStore`` kept in an LMDB environment in a state directory.
///
/// Every ``commit(_:)`` is one LMDB write transaction: the checkpoint is on disk
/// completely or not at all, and, with the default ``LMDBConfiguration/isDurable``,
/// on disk when `commit` returns. Commits are incremental: only the keys, timers and
/// outbox entries a checkpoint names are touched. State is read per key on demand.
///
/// Opening the store takes the directory's lock; a second store on the same
/// directory (in any process) is refused until this one is released. Likewise, open at most
/// one store on an environment passed to ``init(environment:)``: the store numbers the state's
/// key names (``stateKeyTable``) and saves them as it goes. The schema is described in
/// `LMDBCheckpointSchema`.
///
/// All methods are synchronous and may block on disk; call them off the cooperative pool.
public final class LMDBCheckpointStore: CheckpointStore {
    /// The checkpoint format version this build writes, and the newest it reads.
    public static var formatVersion: UInt32 { LMDBCheckpointSchema.formatVersion }

    /// The LMDB environment holding the store.
    public let environment: LMDBEnvironment

    private let meta: LMDBDatabase
    private let partitionRecords: LMDBDatabase
    private let state: LMDBDatabase
    private let timerKeys: LMDBDatabase
    private let outboxEntries: LMDBDatabase
    private let scanOffsetRecords: LMDBDatabase
    private let keyNames: LMDBDatabase

    /// The key names of the stored state, loaded when the store opens; names added since are
    /// saved by the next ``commit(_:)``.
    public let stateKeyTable: BinaryStateKeyTable?

    /// LMDB's key limit less the longest prefix the store puts before an encoded key: the
    /// timer key's partition id, kind and time (13 bytes; a state key has 4).
    public var maxEncodedKeyBytes: Int? { LMDBCheckpointSchema.maxEncodedKeyBytes(lmdbMaxKeyBytes: environment.maxKeyBytes) }
    /// How many of ``stateKeyTable``'s names are saved.
    private let savedKeyNames: Mutex<Int>

    /// Opens (creating if needed) the store in `directory`.
    ///
    /// - Parameters:
    ///   - directory: The state directory; created if missing.
    ///   - configuration: How LMDB is opened; the default is durable, starting at 64 MiB and growing to 64 GiB.
    ///   - logger: Receives map growth and stale-reader notices (at `info`).
    /// - Throws: ``LMDBError`` when the directory is in use, is not a Sluice store, or cannot be opened;
    ///   ``LMDBCheckpointStoreError`` when the store has a newer checkpoint format version, or a damaged
    ///   format record or saved key names (`.corruptedRecord`).
    public convenience init(
        directory: String, configuration: LMDBConfiguration = .init(),
        logger: Logger = Logger(label: "sluice.checkpoint")
    ) throws {
        try self.init(environment: LMDBEnvironment(directory: directory, configuration: configuration, logger: logger))
    }

    /// Opens (creating if needed) the store in an environment opened by the caller.
    public init(environment: LMDBEnvironment) throws {
        self.environment = environment
        meta = try environment.database(named: LMDBCheckpointSchema.metaDatabase)
        partitionRecords = try environment.database(named: LMDBCheckpointSchema.partitionsDatabase)
        state = try environment.database(named: LMDBCheckpointSchema.stateDatabase)
        timerKeys = try environment.database(named: LMDBCheckpointSchema.timersDatabase)
        outboxEntries = try environment.database(named: LMDBCheckpointSchema.outboxDatabase)
        scanOffsetRecords = try environment.database(named: LMDBCheckpointSchema.scanOffsetsDatabase)
        try Self.checkOrWriteFormat(environment: environment, meta: meta, timerKeys: timerKeys)
        // Opened (created, in a store of an older format) only once the format is known to be readable.
        keyNames = try environment.database(named: LMDBCheckpointSchema.keyNamesDatabase)
        let names = try Self.loadKeyNames(environment: environment, from: keyNames)
        do {
            stateKeyTable = try BinaryStateKeyTable(names: names)
        } catch let error as SluiceError {
            throw LMDBCheckpointStoreError(
                code: .corruptedRecord,
                message: "The state key names in \(environment.directory) are damaged: \(error.message). Restore the "
                    + "state directory from a backup or rebuild it.")
        }
        savedKeyNames = Mutex(names.count)
    }

    private static func loadKeyNames(environment: LMDBEnvironment, from keyNames: LMDBDatabase) throws -> [String] {
        try environment.read { transaction in
            var names: [String] = []
            try transaction.scan(keyNames) { key, value in
                let index = try LMDBCheckpointSchema.decodeKeyNameIndex(key)
                let name = String(validating: value, as: UTF8.self)
                guard index == names.count, let name else {
                    let problem = index != names.count ? "name \(index) follows \(names.count) names" : "name \(index) is not UTF-8"
                    throw LMDBCheckpointStoreError(
                        code: .corruptedRecord,
                        message: "The state key names in \(environment.directory) are damaged (\(problem)). Restore the "
                            + "state directory from a backup or rebuild it.")
                }
                names.append(name)
                return .next
            }
            return names
        }
    }

    /// The bytes of the store's data file in use.
    public var sizeInBytes: Int { environment.usedBytes }

    private static func checkOrWriteFormat(environment: LMDBEnvironment, meta: LMDBDatabase, timerKeys: LMDBDatabase) throws {
        try environment.write { transaction in
            if let record = try transaction.get(LMDBCheckpointSchema.formatKey, in: meta) {
                guard let version = LMDBCheckpointSchema.decodeFormatRecord(record) else {
                    throw LMDBCheckpointStoreError(
                        code: .corruptedRecord,
                        message: "The checkpoint format record in \(environment.directory) is damaged. Restore the "
                            + "state directory from a backup or rebuild it.")
                }
                guard version <= LMDBCheckpointSchema.formatVersion else {
                    throw LMDBCheckpointStoreError(
                        code: .unsupportedFormatVersion,
                        message: "The checkpoints in \(environment.directory) have format version \(version), but "
                            + "this build reads versions up to \(LMDBCheckpointSchema.formatVersion). Run a newer "
                            + "Sluice, or restore a state directory written by this version.")
                }
                if version == 1 { try upgradeTimersFromVersion1(in: transaction, timerKeys: timerKeys) }
                // Formats 1 and 2 differ from 3 only in lacking key names, which start empty.
                if version < LMDBCheckpointSchema.formatVersion {
                    try transaction.put(
                        LMDBCheckpointSchema.formatRecord(version: LMDBCheckpointSchema.formatVersion),
                        forKey: LMDBCheckpointSchema.formatKey, in: meta)
                }
                return
            }
            guard try transaction.get(LMDBCheckpointSchema.checkpointIDKey, in: meta) == nil else {
                throw LMDBCheckpointStoreError(
                    code: .corruptedRecord,
                    message: "The checkpoint store in \(environment.directory) has checkpoints but no format record. "
                        + "Restore the state directory from a backup or rebuild it.")
            }
            try transaction.put(
                LMDBCheckpointSchema.formatRecord(version: LMDBCheckpointSchema.formatVersion),
                forKey: LMDBCheckpointSchema.formatKey, in: meta)
        }
    }

    /// Rewrites format-1 timer keys (time before kind) in the current layout, in the same
    /// transaction as the new format record.
    private static func upgradeTimersFromVersion1(in transaction: LMDBWriteTransaction, timerKeys: LMDBDatabase) throws {
        var timers: [(partitionID: UInt32, timer: StoredTimer)] = []
        try transaction.scan(timerKeys) { key, _ in
            timers.append(try LMDBCheckpointSchema.decodeVersion1TimerKey(key))
            return .next
        }
        try transaction.removeAll(in: timerKeys)
        for (partitionID, timer) in timers {
            try transaction.put([], forKey: LMDBCheckpointSchema.timerKey(partitionID: partitionID, timer: timer), in: timerKeys)
        }
    }

    // MARK: Reading

    /// The id of the last committed checkpoint, or `nil` for an empty store.
    public func lastCheckpointID() throws -> UInt64? {
        try environment.read { transaction in try checkpointID(in: transaction) }
    }

    /// The input partitions that have state in the store, in order.
    public func partitions() throws -> [InputPartition] {
        try environment.read { transaction in
            var result: [InputPartition] = []
            try transaction.scan(partitionRecords) { key, _ in
                result.append(try LMDBCheckpointSchema.decodeInputPartition(key))
                return .next
            }
            return result
        }
    }

    /// The progress of one input partition as of the last checkpoint.
    public func progress(of partition: InputPartition) throws -> PartitionProgress? {
        try environment.read { transaction in try partitionRecord(partition, in: transaction)?.progress }
    }

    /// The state of one key, read on demand.
    public func state(of key: [UInt8], in partition: InputPartition) throws -> [UInt8]? {
        try environment.read { transaction in
            guard let id = try partitionRecord(partition, in: transaction)?.id else { return nil }
            return try transaction.get(LMDBCheckpointSchema.partitionPrefix(id) + key, in: state)
        }
    }

    /// Every key with state in a partition, in byte order.
    public func keys(in partition: InputPartition) throws -> [[UInt8]] {
        try environment.read { transaction in
            guard let id = try partitionRecord(partition, in: transaction)?.id else { return [] }
            var result: [[UInt8]] = []
            try transaction.scan(state, range: .prefix(LMDBCheckpointSchema.partitionPrefix(id))) { key, _ in
                result.append(Array(UnsafeRawBufferPointer(rebasing: key[4...])))
                return .next
            }
            return result
        }
    }

    /// The pending timers of one partition, earliest first.
    public func timers(in partition: InputPartition) throws -> [StoredTimer] {
        try environment.read { transaction in
            guard let id = try partitionRecord(partition, in: transaction)?.id else { return [] }
            var result: [StoredTimer] = []
            try transaction.scan(timerKeys, range: .prefix(LMDBCheckpointSchema.partitionPrefix(id))) { key, _ in
                result.append(try LMDBCheckpointSchema.decodeTimerKey(key))
                return .next
            }
            // Stored by kind, then time; merged here.
            return result.sorted()
        }
    }

    /// Up to `limit` timers of one partition and kind after `after`, earliest first, read by
    /// seeking to `after` (the key layout orders each kind's timers by time, then key).
    public func timers(in partition: InputPartition, isEventTime: Bool, after: StoredTimer?, limit: Int) throws -> [StoredTimer] {
        guard limit > 0 else { return [] }
        return try environment.read { transaction in
            guard let id = try partitionRecord(partition, in: transaction)?.id else { return [] }
            let prefix = LMDBCheckpointSchema.timerKindPrefix(partitionID: id, isEventTime: isEventTime)
            // The smallest key after `after`'s own key is that key followed by a zero byte.
            let start = after.map { LMDBCheckpointSchema.timerKey(partitionID: id, timer: $0) + [0] }
            var result: [StoredTimer] = []
            try transaction.scan(timerKeys, range: .prefix(prefix, from: start)) { key, _ in
                result.append(try LMDBCheckpointSchema.decodeTimerKey(key))
                return result.count < limit ? .next : .stop
            }
            return result
        }
    }

    /// The outbox in key order (writer, then sequence; topics compare by their UTF-8 bytes).
    public func outbox() throws -> [OutboxEntry] {
        try environment.read { transaction in
            var result: [OutboxEntry] = []
            try transaction.scan(outboxEntries) { key, value in
                result.append(try LMDBCheckpointSchema.decodeOutboxEntry(key: key, value: value))
                return .next
            }
            return result
        }
    }

    /// The offsets from which a restart must scan each output partition.
    public func scanOffsets() throws -> [OutputPartition: Int64] {
        try environment.read { transaction in
            var result: [OutputPartition: Int64] = [:]
            try transaction.scan(scanOffsetRecords) { key, value in
                result[try LMDBCheckpointSchema.decodeOutputPartition(key)] = try LMDBCheckpointSchema
                    .decodeScanOffset(value)
                return .next
            }
            return result
        }
    }

    private func checkpointID(in transaction: LMDBTransaction) throws -> UInt64? {
        try transaction.withValue(forKey: LMDBCheckpointSchema.checkpointIDKey, in: meta) { bytes in
            try bytes.map { try LMDBCheckpointSchema.decodeUInt64Record($0, "checkpoint id") }
        }
    }

    private func partitionRecord(
        _ partition: InputPartition, in transaction: LMDBTransaction
    ) throws -> (id: UInt32, progress: PartitionProgress)? {
        let key = LMDBCheckpointSchema.partitionKey(topic: partition.topic, partition: partition.partition)
        return try transaction.withValue(forKey: key, in: partitionRecords) { bytes in
            try bytes.map { try LMDBCheckpointSchema.decodePartitionRecord($0) }
        }
    }

    // MARK: Writing

    /// Writes one checkpoint in one durable LMDB transaction.
    ///
    /// Applied in this order: dropped partitions are removed (state, timers and progress;
    /// their outbox entries stay until their publication is confirmed and they are removed
    /// like any other); then per partition its progress, key updates (`nil` deletes),
    /// timers added and then timers removed (a timer in both lists ends up absent); then
    /// outbox appends and then removals; then scan offsets and the checkpoint id.
    ///
    /// - Throws: ``LMDBCheckpointStoreError`` with ``LMDBCheckpointStoreError/Code-swift.struct/checkpointIDNotIncreasing``
    ///   when `checkpoint.id` is not greater than the last committed id, or
    ///   ``LMDBCheckpointStoreError/Code-swift.struct/conflictingChanges`` when a partition is both updated and
    ///   dropped; ``LMDBError`` when LMDB fails (for example ``LMDBError/Code-swift.struct/mapFull``). On any error
    ///   nothing of the checkpoint is stored.
    public func commit(_ checkpoint: CheckpointWrite) throws {
        let conflicts = checkpoint.droppedPartitions.filter { checkpoint.partitions[$0] != nil }
        guard conflicts.isEmpty else {
            throw LMDBCheckpointStoreError(
                code: .conflictingChanges,
                message: "Checkpoint \(checkpoint.id) both updates and drops input partitions "
                    + "\(conflicts.map(\.description).sorted().joined(separator: ", ")).")
        }
        // Sorted once, outside the transaction, which may run more than once when the map grows.
        let partitionUpdates = checkpoint.partitions.sorted { $0.key < $1.key }.map { partition, update in
            (partition, update, LMDBKeyOrder(update.keyUpdates))
        }
        // Every name the checkpoint's states use was added before it was encoded, so before now.
        let savedNames = savedKeyNames.withLock { $0 }
        let newNames = stateKeyTable?.names(from: savedNames) ?? []
        try environment.write { transaction in
            let storedID = try checkpointID(in: transaction)
            if let storedID, checkpoint.id <= storedID {
                throw LMDBCheckpointStoreError(
                    code: .checkpointIDNotIncreasing,
                    message: "Checkpoint \(checkpoint.id) is not newer than the stored checkpoint \(storedID) in "
                        + "\(environment.directory). Checkpoint ids must increase; is another engine writing "
                        + "checkpoints for this state?")
            }
            for partition in checkpoint.droppedPartitions {
                try drop(partition, in: transaction)
            }
            var nextPartitionID: UInt32?
            for (partition, update, keyUpdates) in partitionUpdates {
                let partitionKey = LMDBCheckpointSchema.partitionKey(topic: partition.topic, partition: partition.partition)
                let id: UInt32
                if let existing = try partitionRecord(partition, in: transaction)?.id {
                    id = existing
                } else {
                    id = try nextPartitionID ?? storedNextPartitionID(in: transaction)
                    nextPartitionID = id + 1
                }
                try transaction.put(
                    LMDBCheckpointSchema.partitionRecord(id: id, progress: update.progress), forKey: partitionKey,
                    in: partitionRecords)
                try apply(keyUpdates, partitionID: id, in: transaction)
                for timer in update.timersAdded {
                    try transaction.put([], forKey: LMDBCheckpointSchema.timerKey(partitionID: id, timer: timer), in: timerKeys)
                }
                for timer in update.timersRemoved {
                    try transaction.delete(LMDBCheckpointSchema.timerKey(partitionID: id, timer: timer), in: timerKeys)
                }
            }
            if let nextPartitionID {
                try transaction.put(
                    LMDBCheckpointSchema.uint64Record(UInt64(nextPartitionID)), forKey: LMDBCheckpointSchema.nextPartitionIDKey,
                    in: meta)
            }
            // Through a buffer pointer: each entry is read in place, not copied (a retain and
            // release of each of its arrays). Every key and value is written into the same two
            // buffers instead of two new arrays per entry.
            var key = LMDBRecordWriter(capacity: 64)
            var value = LMDBRecordWriter(capacity: 256)
            try checkpoint.outboxAppends.withUnsafeBufferPointer { entries in
                for index in entries.indices {
                    key.removeAll()
                    value.removeAll()
                    LMDBCheckpointSchema.appendOutboxKey(entries[index].key, to: &key)
                    LMDBCheckpointSchema.appendOutboxValue(entries[index], to: &value)
                    try key.bytes.withUnsafeBytes { key in
                        try value.bytes.withUnsafeBytes { try transaction.put($0, forKey: key, in: outboxEntries) }
                    }
                }
            }
            for removal in checkpoint.outboxRemovals {
                key.removeAll()
                LMDBCheckpointSchema.appendOutboxKey(removal, to: &key)
                _ = try key.bytes.withUnsafeBytes { try transaction.delete($0, in: outboxEntries) }
            }
            for (partition, offset) in checkpoint.scanOffsets {
                try transaction.put(
                    LMDBCheckpointSchema.scanOffsetRecord(offset),
                    forKey: LMDBCheckpointSchema.partitionKey(topic: partition.topic, partition: partition.partition),
                    in: scanOffsetRecords)
            }
            for (index, name) in zip(newNames.indices, newNames) {
                try transaction.put(Array(name.utf8), forKey: LMDBCheckpointSchema.keyNameKey(index), in: keyNames)
            }
            try transaction.put(
                LMDBCheckpointSchema.uint64Record(checkpoint.id), forKey: LMDBCheckpointSchema.checkpointIDKey, in: meta)
        }
        savedKeyNames.withLock { $0 = max($0, newNames.endIndex) }
    }

    /// Writes key updates in key order, reusing one key buffer.
    private func apply(_ keyUpdates: LMDBKeyOrder, partitionID: UInt32, in transaction: LMDBWriteTransaction) throws {
        var keyBuffer = LMDBCheckpointSchema.partitionPrefix(partitionID)
        keyBuffer.reserveCapacity(64)
        try keyUpdates.forEachInKeyOrder { key, value in
            keyBuffer.removeSubrange(4...)
            keyBuffer.append(contentsOf: key)
            try keyBuffer.withUnsafeBytes { keyBytes in
                if let value {
                    try value.withUnsafeBytes { valueBytes in
                        try transaction.put(valueBytes, forKey: keyBytes, in: state)
                    }
                } else {
                    try transaction.delete(keyBytes, in: state)
                }
            }
        }
    }

    private func storedNextPartitionID(in transaction: LMDBTransaction) throws -> UInt32 {
        try transaction.withValue(forKey: LMDBCheckpointSchema.nextPartitionIDKey, in: meta) { bytes in
            guard let bytes else { return 1 }
            let value = try LMDBCheckpointSchema.decodeUInt64Record(bytes, "partition id counter")
            guard value < UInt64(UInt32.max) else {
                throw LMDBCheckpointStoreError(
                    code: .corruptedRecord,
                    message: "The partition id counter in \(environment.directory) is exhausted (\(value)).")
            }
            return UInt32(value)
        }
    }

    /// Removes the state, timers and progress of `partition`. Its outbox entries stay: they
    /// are results already computed and committed, which exist nowhere else until their
    /// publication is confirmed (a partition is dropped when its state turned out stale, at
    /// start just after the outbox was handed to the producer, or on an assignment while an
    /// earlier checkpoint's outbox is still being published).
    private func drop(_ partition: InputPartition, in transaction: LMDBWriteTransaction) throws {
        let partitionKey = LMDBCheckpointSchema.partitionKey(topic: partition.topic, partition: partition.partition)
        if let id = try partitionRecord(partition, in: transaction)?.id {
            let prefix = LMDBCheckpointSchema.partitionPrefix(id)
            try transaction.deleteAll(in: state, range: .prefix(prefix))
            try transaction.deleteAll(in: timerKeys, range: .prefix(prefix))
            try transaction.delete(partitionKey, in: partitionRecords)
        }
    }
}
