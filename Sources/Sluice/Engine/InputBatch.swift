import SluiceKafka

/// Polled records as the engine keeps them between the poll and the router: one plain entry per
/// record (offset, timestamp, partition and where its key and value are) and shared byte buffers.
///
/// A ``SourceRecord`` per record would hold two references (its partition's topic name and its
/// buffer): retained when the record is made, released one by one when the batch is freed. The
/// entries hold none, so a batch of them is made and freed in bulk; a ``SourceRecord`` is made
/// only where one is handed out (dead letters, late records, a pipeline decoding whole records).
@usableFromInline
package struct InputBatch: Sendable {
    /// One record.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline let offset: Int64
        /// Milliseconds since the epoch; `Int64.min` for none (Kafka timestamps are never
        /// negative; a `SourceRecord` handed in with exactly that timestamp reads as none).
        @usableFromInline let timestamp: Int64
        /// Index into `partitions`.
        @usableFromInline let partition: Int32
        /// Index into `buffers`.
        @usableFromInline let buffer: Int32
        /// The key's bytes; a count of -1 for a record without a key.
        @usableFromInline let key: RecordBytes.Span
        @usableFromInline let value: RecordBytes.Span
    }

    @usableFromInline let entries: [Entry]
    @usableFromInline let partitions: [InputPartition]
    /// The buffers, kept alive by the batch...
    @usableFromInline let buffers: [RecordBytes.Storage]
    /// ...and their addresses, read per record without retaining a buffer. Unchecked for
    /// sending: the bytes are only read once the batch exists, and `buffers` keeps them alive.
    @usableFromInline nonisolated(unsafe) let bases: [UnsafeRawPointer]

    /// The number of records.
    @inlinable package var count: Int { entries.count }
    @inlinable package var isEmpty: Bool { entries.isEmpty }

    /// Calls `body` with each record's index and value bytes, in order.
    @inlinable
    func forEachValue(_ body: (Int, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try entries.withUnsafeBufferPointer { entries in
            try bases.withUnsafeBufferPointer { bases in
                for index in entries.indices {
                    let entry = entries[index]
                    try body(index, UnsafeRawBufferPointer(start: bases[Int(entry.buffer)] + Int(entry.value.start), count: Int(entry.value.count)))
                }
            }
        }
    }

    /// The timestamp of record `index`, if it has one.
    @inlinable
    func timestamp(at index: Int) -> EventTime? {
        let milliseconds = entries[index].timestamp
        return milliseconds == .min ? nil : EventTime(millisecondsSinceEpoch: milliseconds)
    }

    /// Record `index` as a ``SourceRecord`` sharing the batch's buffer.
    @usableFromInline
    func record(at index: Int) -> SourceRecord {
        let entry = entries[index]
        return SourceRecord(
            partition: partitions[Int(entry.partition)], offset: entry.offset, timestamp: timestamp(at: index),
            bytes: RecordBytes(storage: buffers[Int(entry.buffer)], key: entry.key.count < 0 ? nil : entry.key, value: entry.value))
    }

    /// The same records (sharing their buffers), in order.
    package init(records: [SourceRecord]) {
        var partitions: [InputPartition] = []
        var buffers: [RecordBytes.Storage] = []
        var entries: [Entry] = []
        entries.reserveCapacity(records.count)
        for record in records {
            if partitions.last != record.partition {
                partitions.append(record.partition)
            }
            if buffers.last !== record.bytes.storage {
                buffers.append(record.bytes.storage)
            }
            entries.append(
                Entry(
                    offset: record.offset, timestamp: record.timestamp?.millisecondsSinceEpoch ?? .min,
                    partition: Int32(partitions.count - 1), buffer: Int32(buffers.count - 1),
                    key: record.bytes.key ?? RecordBytes.Span(start: 0, count: -1), value: record.bytes.value))
        }
        self.init(entries: entries, partitions: partitions, buffers: buffers)
    }

    init(entries: [Entry], partitions: [InputPartition], buffers: [RecordBytes.Storage]) {
        self.entries = entries
        self.partitions = partitions
        self.buffers = buffers
        self.bases = buffers.map { UnsafeRawPointer($0.base) }
    }

    /// Copies the records in `range` of a polled `batch` out of librdkafka, in one pass.
    init(copying batch: KafkaBatch, range: Range<Int>) {
        var builder = Builder(expectedRecords: range.count)
        batch.forEachRecord(in: range) { topic, partition, offset, timestamp, key, value in
            builder.append(topic: topic, partition: partition, offset: offset, timestamp: timestamp, key: key, value: value)
        }
        self = builder.finish()
    }

    /// Copies records into a batch, their keys and values into buffers of at most
    /// `maximumBuffer` bytes (spans are 32-bit offsets). A buffer starts at 64 bytes per
    /// expected record and doubles when it fills; a record never straddles two buffers.
    /// Call ``finish()`` once at the end: the builder owns the buffer being filled until then
    /// (do not copy it).
    struct Builder {
        let maximumBuffer: Int
        private var partitions: [InputPartition] = []
        private var buffers: [RecordBytes.Storage] = []
        private var entries: [Entry] = []
        private var base: UnsafeMutableRawPointer
        private var capacity: Int
        private var used = 0
        private var lastTopic = ""
        private var lastPartition: Int32 = -1

        init(expectedRecords: Int, maximumBuffer: Int = 1 << 30) {
            self.maximumBuffer = maximumBuffer
            entries.reserveCapacity(expectedRecords)
            capacity = Swift.min(Swift.max(expectedRecords * 64, 64), maximumBuffer)
            base = .allocate(byteCount: capacity, alignment: 16)
        }

        /// Copies one record in.
        mutating func append(
            topic: String, partition: Int32, offset: Int64, timestamp: Int64?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer
        ) {
            // Polls return runs of one partition: one InputPartition per run.
            if partitions.isEmpty || partition != lastPartition || topic != lastTopic {
                lastTopic = topic
                lastPartition = partition
                partitions.append(InputPartition(topic: topic, partition: partition))
            }
            let size = (key?.count ?? 0) + value.count
            precondition(size <= maximumBuffer, "a record of \(size) bytes is larger than the \(maximumBuffer)-byte limit")
            if used + size > capacity { makeRoom(for: size) }
            let keySpan = key.map { copy($0) } ?? RecordBytes.Span(start: 0, count: -1)
            let valueSpan = copy(value)
            entries.append(
                Entry(
                    offset: offset, timestamp: timestamp ?? .min, partition: Int32(partitions.count - 1),
                    buffer: Int32(buffers.count), key: keySpan, value: valueSpan))
        }

        /// The batch; the builder is spent.
        mutating func finish() -> InputBatch {
            buffers.append(RecordBytes.Storage(base: base))
            return InputBatch(entries: entries, partitions: partitions, buffers: buffers)
        }

        private mutating func makeRoom(for size: Int) {
            if used + size <= maximumBuffer && capacity < maximumBuffer {
                // Grow: spans are offsets, so moving the bytes leaves them valid.
                let grown = Swift.min(Swift.max(capacity * 2, used + size), maximumBuffer)
                let next = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
                next.copyMemory(from: base, byteCount: used)
                base.deallocate()
                base = next
                capacity = grown
            } else {
                // Full: this buffer is done, the next record starts another.
                buffers.append(RecordBytes.Storage(base: base))
                capacity = Swift.min(Swift.max(capacity, size, 64), maximumBuffer)
                base = .allocate(byteCount: capacity, alignment: 16)
                used = 0
            }
        }

        private mutating func copy(_ bytes: UnsafeRawBufferPointer) -> RecordBytes.Span {
            if let source = bytes.baseAddress, !bytes.isEmpty {
                (base + used).copyMemory(from: source, byteCount: bytes.count)
            }
            let span = RecordBytes.Span(start: Int32(used), count: Int32(bytes.count))
            used += bytes.count
            return span
        }
    }
}
