/// The layout of ``LMDBCheckpointStore`` in LMDB: database names and record encodings.
///
/// | database                   | key                                                 | value |
/// |----------------------------|-----------------------------------------------------|-------|
/// | `checkpoint.meta`          | `format`, `checkpoint_id`, `next_partition_id`      | magic + version; id; counter |
/// | `checkpoint.partitions`    | input partition                                     | partition id + progress |
/// | `checkpoint.state`         | partition id + encoded key                          | encoded state |
/// | `checkpoint.key_names`     | index (4 bytes)                                     | UTF-8 key name of the state encoding |
/// | `checkpoint.timers`        | partition id + kind + fire time + encoded key       | empty |
/// | `checkpoint.outbox`        | writer partition + sequence                         | destination, record key, value, headers |
/// | `checkpoint.scan_offsets`  | output partition                                    | offset |
///
/// A partition is `topic UTF-8, 0x00, partition` so that partitions sort by topic, then
/// number; a partition id is a 4-byte number given to an input partition when it first
/// appears, so that every state and timer key carries a short prefix. Integers in keys are
/// big-endian with the sign bit flipped, so that LMDB's byte order is numeric order.
///
/// Timers are grouped by kind (processing time `0`, event time `1`) before their fire time,
/// so that a restart can load a partition's event-time timers lazily, earliest first, as the
/// watermark reaches them. Format 1 put the fire time before the kind; opening such a store
/// rewrites its timer keys once (``LMDBCheckpointStore``).
///
/// State is encoded with the store's ``BinaryStateKeyTable`` (state format version 2), whose
/// names are kept in `checkpoint.key_names`, numbered from 0 without gaps. Formats 1 and 2 of
/// the store had no key names: their states are self-contained (state format version 1) and
/// still read; opening such a store creates the empty `checkpoint.key_names` and records
/// format 3 (after rewriting format 1's timer keys).
enum LMDBCheckpointSchema {
    /// The checkpoint format this build writes and the newest it reads.
    static let formatVersion: UInt32 = 3
    static let formatMagic: [UInt8] = Array("SLUICECP".utf8)

    static let metaDatabase = "checkpoint.meta"
    static let partitionsDatabase = "checkpoint.partitions"
    static let stateDatabase = "checkpoint.state"
    static let keyNamesDatabase = "checkpoint.key_names"
    static let timersDatabase = "checkpoint.timers"
    static let outboxDatabase = "checkpoint.outbox"
    static let scanOffsetsDatabase = "checkpoint.scan_offsets"

    static let formatKey: [UInt8] = Array("format".utf8)
    static let checkpointIDKey: [UInt8] = Array("checkpoint_id".utf8)
    static let nextPartitionIDKey: [UInt8] = Array("next_partition_id".utf8)

    // MARK: Meta

    static func formatRecord(version: UInt32) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 12)
        writer.append(contentsOf: formatMagic)
        writer.append(bigEndian: version)
        return writer.bytes
    }

    /// The version in a format record, or `nil` if the record is not one.
    static func decodeFormatRecord(_ bytes: [UInt8]) -> UInt32? {
        guard bytes.count == formatMagic.count + 4, bytes.starts(with: formatMagic) else { return nil }
        return bytes[formatMagic.count...].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func uint64Record(_ value: UInt64) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 8)
        writer.append(bigEndian: value)
        return writer.bytes
    }

    static func decodeUInt64Record(_ bytes: UnsafeRawBufferPointer, _ what: String) throws -> UInt64 {
        var reader = LMDBRecordReader(bytes, decoding: what)
        let value = try reader.readUInt64()
        try reader.expectEnd()
        return value
    }

    // MARK: Partitions

    static func partitionKey(topic: String, partition: Int32) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: topic.utf8.count + 5)
        appendPartition(topic: topic, partition: partition, to: &writer)
        return writer.bytes
    }

    static func appendPartition(topic: String, partition: Int32, to writer: inout LMDBRecordWriter) {
        writer.append(contentsOf: topic.utf8)
        writer.append(0)
        writer.append(ordered: partition)
    }

    static func decodePartition(_ reader: inout LMDBRecordReader, length: Int) throws -> (String, Int32) {
        guard length >= 5 else { throw reader.corrupted("partition key of \(length) bytes") }
        let topic = try reader.readBytes(count: length - 5)
        guard try reader.readByte() == 0 else { throw reader.corrupted("partition key without separator") }
        return (String(decoding: topic, as: UTF8.self), try reader.readOrderedInt32())
    }

    static func decodeInputPartition(_ bytes: UnsafeRawBufferPointer) throws -> InputPartition {
        var reader = LMDBRecordReader(bytes, decoding: "input partition")
        let (topic, partition) = try decodePartition(&reader, length: bytes.count)
        return InputPartition(topic: topic, partition: partition)
    }

    static func decodeOutputPartition(_ bytes: UnsafeRawBufferPointer) throws -> OutputPartition {
        var reader = LMDBRecordReader(bytes, decoding: "output partition")
        let (topic, partition) = try decodePartition(&reader, length: bytes.count)
        return OutputPartition(topic: topic, partition: partition)
    }

    static func partitionRecord(id: UInt32, progress: PartitionProgress) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 29)
        writer.append(bigEndian: id)
        writer.append(ordered: progress.nextOffset)
        if let watermark = progress.watermarkMilliseconds {
            writer.append(1)
            writer.append(ordered: watermark)
        } else {
            writer.append(0)
        }
        writer.append(bigEndian: progress.nextSequence)
        return writer.bytes
    }

    static func decodePartitionRecord(_ bytes: UnsafeRawBufferPointer) throws -> (id: UInt32, progress: PartitionProgress) {
        var reader = LMDBRecordReader(bytes, decoding: "partition progress record")
        let id = try reader.readUInt32()
        let nextOffset = try reader.readOrderedInt64()
        let watermark: Int64?
        switch try reader.readByte() {
        case 0: watermark = nil
        case 1: watermark = try reader.readOrderedInt64()
        case let flag: throw reader.corrupted("watermark flag \(flag)")
        }
        let nextSequence = try reader.readUInt64()
        try reader.expectEnd()
        return (id, PartitionProgress(nextOffset: nextOffset, watermarkMilliseconds: watermark, nextSequence: nextSequence))
    }

    /// The 4-byte prefix of every state and timer key of a partition.
    static func partitionPrefix(_ id: UInt32) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 4)
        writer.append(bigEndian: id)
        return writer.bytes
    }

    // MARK: Key names

    static func keyNameKey(_ index: Int) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 4)
        writer.append(bigEndian: UInt32(index))
        return writer.bytes
    }

    static func decodeKeyNameIndex(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var reader = LMDBRecordReader(bytes, decoding: "key name index")
        let index = try reader.readUInt32()
        try reader.expectEnd()
        return Int(index)
    }

    // MARK: Timers

    /// What a timer key puts before the encoded state key: partition id, kind and time. The
    /// longest prefix of any key the store writes, so LMDB's key limit less this is the
    /// longest encoded state key it keeps.
    static let timerKeyPrefixBytes = 4 + 1 + 8

    /// The longest encoded state key a store whose LMDB keeps keys of `maxKeyBytes` keeps.
    static func maxEncodedKeyBytes(lmdbMaxKeyBytes maxKeyBytes: Int) -> Int { maxKeyBytes - timerKeyPrefixBytes }

    static func timerKey(partitionID: UInt32, timer: StoredTimer) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: timerKeyPrefixBytes + timer.key.count)
        writer.append(bigEndian: partitionID)
        writer.append(timer.isEventTime ? 1 : 0)
        writer.append(ordered: timer.fireAtMilliseconds)
        writer.append(contentsOf: timer.key)
        return writer.bytes
    }

    /// The first possible timer key of a partition's timers of one kind firing at or after `time`.
    static func timerKeyStart(partitionID: UInt32, isEventTime: Bool, time: Int64) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: timerKeyPrefixBytes)
        writer.append(bigEndian: partitionID)
        writer.append(isEventTime ? 1 : 0)
        writer.append(ordered: time)
        return writer.bytes
    }

    /// The prefix shared by a partition's timers of one kind.
    static func timerKindPrefix(partitionID: UInt32, isEventTime: Bool) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 5)
        writer.append(bigEndian: partitionID)
        writer.append(isEventTime ? 1 : 0)
        return writer.bytes
    }

    static func decodeTimerKey(_ bytes: UnsafeRawBufferPointer) throws -> StoredTimer {
        var reader = LMDBRecordReader(bytes, decoding: "timer")
        _ = try reader.readUInt32()
        let isEventTime = try readTimerKind(&reader)
        let fireAt = try reader.readOrderedInt64()
        return StoredTimer(fireAtMilliseconds: fireAt, key: reader.readRest(), isEventTime: isEventTime)
    }

    /// Decodes a timer key of format 1 (partition id, fire time, kind, encoded key).
    static func decodeVersion1TimerKey(_ bytes: UnsafeRawBufferPointer) throws -> (partitionID: UInt32, timer: StoredTimer) {
        var reader = LMDBRecordReader(bytes, decoding: "timer of format 1")
        let partitionID = try reader.readUInt32()
        let fireAt = try reader.readOrderedInt64()
        let isEventTime = try readTimerKind(&reader)
        return (partitionID, StoredTimer(fireAtMilliseconds: fireAt, key: reader.readRest(), isEventTime: isEventTime))
    }

    private static func readTimerKind(_ reader: inout LMDBRecordReader) throws -> Bool {
        switch try reader.readByte() {
        case 0: return false
        case 1: return true
        case let kind: throw reader.corrupted("timer kind \(kind)")
        }
    }

    // MARK: Outbox

    static func outboxKey(_ key: OutboxKey) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: key.writer.topic.utf8.count + 13)
        appendOutboxKey(key, to: &writer)
        return writer.bytes
    }

    /// Appends an outbox key to `writer` (a commit writes many through one reused buffer).
    static func appendOutboxKey(_ key: OutboxKey, to writer: inout LMDBRecordWriter) {
        appendPartition(topic: key.writer.topic, partition: key.writer.partition, to: &writer)
        writer.append(bigEndian: key.sequence)
    }

    static func decodeOutboxKey(_ bytes: UnsafeRawBufferPointer) throws -> OutboxKey {
        var reader = LMDBRecordReader(bytes, decoding: "outbox key")
        let (topic, partition) = try decodePartition(&reader, length: bytes.count - 8)
        let sequence = try reader.readUInt64()
        return OutboxKey(writer: InputPartition(topic: topic, partition: partition), sequence: sequence)
    }

    static func outboxValue(_ entry: OutboxEntry) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 16 + entry.recordValue.count + (entry.recordKey?.count ?? 0))
        appendOutboxValue(entry, to: &writer)
        return writer.bytes
    }

    /// Appends an outbox entry's value to `writer` (a commit writes many through one reused buffer).
    static func appendOutboxValue(_ entry: borrowing OutboxEntry, to writer: inout LMDBRecordWriter) {
        writer.append(string: entry.destination.topic)
        writer.append(ordered: entry.destination.partition)
        if let recordKey = entry.recordKey {
            writer.append(1)
            writer.append(lengthPrefixed: recordKey)
        } else {
            writer.append(0)
        }
        writer.append(lengthPrefixed: entry.recordValue)
        writer.append(varint: UInt64(entry.headers.count))
        for header in entry.headers {
            writer.append(string: header.name)
            writer.append(lengthPrefixed: header.value)
        }
    }

    static func decodeOutboxEntry(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> OutboxEntry {
        let outboxKey = try decodeOutboxKey(key)
        var reader = LMDBRecordReader(value, decoding: "outbox entry")
        let topic = try reader.readString()
        let partition = try reader.readOrderedInt32()
        let recordKey: [UInt8]?
        switch try reader.readByte() {
        case 0: recordKey = nil
        case 1: recordKey = try reader.readLengthPrefixed()
        case let flag: throw reader.corrupted("record key flag \(flag)")
        }
        let recordValue = try reader.readLengthPrefixed()
        let headerCount = try reader.readVarint()
        guard headerCount <= UInt64(reader.remaining) else { throw reader.corrupted("\(headerCount) headers") }
        var headers: [OutputHeader] = []
        headers.reserveCapacity(Int(headerCount))
        for _ in 0 ..< headerCount {
            let name = try reader.readString()
            headers.append(OutputHeader(name: name, value: try reader.readLengthPrefixed()))
        }
        try reader.expectEnd()
        return OutboxEntry(
            key: outboxKey, destination: OutputPartition(topic: topic, partition: partition), recordKey: recordKey,
            recordValue: recordValue, headers: headers)
    }

    // MARK: Scan offsets

    static func decodeScanOffset(_ bytes: UnsafeRawBufferPointer) throws -> Int64 {
        var reader = LMDBRecordReader(bytes, decoding: "scan offset")
        let offset = try reader.readOrderedInt64()
        try reader.expectEnd()
        return offset
    }

    static func scanOffsetRecord(_ offset: Int64) -> [UInt8] {
        var writer = LMDBRecordWriter(capacity: 8)
        writer.append(ordered: offset)
        return writer.bytes
    }
}
