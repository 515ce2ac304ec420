import Testing

@testable import Sluice

@Suite("Source records and their shared buffers")
struct SourceRecordTests {
    /// A batch built the way the runner copies a poll.
    static func poll(
        _ items: [(partition: Int32, key: [UInt8]?, value: [UInt8])], expectedRecords: Int, maximumBuffer: Int
    ) -> InputBatch {
        var builder = InputBatch.Builder(expectedRecords: expectedRecords, maximumBuffer: maximumBuffer)
        for (offset, item) in items.enumerated() {
            item.value.withUnsafeBytes { value in
                if let key = item.key {
                    key.withUnsafeBytes { key in
                        builder.append(topic: "t", partition: item.partition, offset: Int64(offset), timestamp: Int64(offset) * 10, key: key, value: value)
                    }
                } else {
                    builder.append(topic: "t", partition: item.partition, offset: Int64(offset), timestamp: nil, key: nil, value: value)
                }
            }
        }
        return builder.finish()
    }

    static let items: [(partition: Int32, key: [UInt8]?, value: [UInt8])] = (0..<40).map { i in
        (Int32(i / 10), i % 3 == 0 ? nil : Array("k\(i)".utf8), Array(repeating: UInt8(i), count: i % 17))
    }

    static func expectRecords(_ batch: InputBatch) {
        #expect(batch.count == items.count)
        for (index, item) in items.enumerated() {
            let record = batch.record(at: index)
            #expect(record.key == item.key)
            #expect(record.value == item.value)
            #expect(record.offset == Int64(index))
            #expect(record.partition == InputPartition(topic: "t", partition: item.partition))
            #expect(record.timestamp == (item.key == nil ? nil : EventTime(millisecondsSinceEpoch: Int64(index) * 10)))
        }
        // The decoder's path to the values reads the same bytes, in order.
        var values: [[UInt8]] = []
        batch.forEachValue { index, bytes in
            #expect(index == values.count)
            values.append(Array(bytes))
        }
        #expect(values == items.map(\.value))
        // One partition entry per run of records from one partition.
        #expect(batch.partitions.map(\.partition) == [0, 1, 2, 3])
    }

    @Test("a poll larger than one buffer is split between records, never inside one")
    func buffers() {
        let batch = Self.poll(Self.items, expectedRecords: Self.items.count, maximumBuffer: 24)
        Self.expectRecords(batch)
        #expect(batch.buffers.count > 1)
        let buffers = Set((0..<batch.count).map { ObjectIdentifier(batch.record(at: $0).bytes.storage) })
        #expect(buffers.count == batch.buffers.count)
    }

    @Test("a buffer sized for fewer records grows, and the records made before keep their bytes")
    func growth() {
        let batch = Self.poll(Self.items, expectedRecords: 1, maximumBuffer: 1 << 20)
        Self.expectRecords(batch)
        #expect(batch.buffers.count == 1)
    }

    @Test("a buffer that grew and then reached its limit starts another; records of every shape keep their bytes")
    func growthThenSplit() {
        let batch = Self.poll(Self.items, expectedRecords: 1, maximumBuffer: 100)
        Self.expectRecords(batch)
        #expect(batch.buffers.count > 1)
        var builder = InputBatch.Builder(expectedRecords: 3, maximumBuffer: 8)
        let empty: [UInt8] = []
        let full = [UInt8](repeating: 7, count: 8)
        empty.withUnsafeBytes { none in
            builder.append(topic: "t", partition: 0, offset: 0, timestamp: 0, key: none, value: none)
            full.withUnsafeBytes { builder.append(topic: "t", partition: 1, offset: 1, timestamp: nil, key: nil, value: $0) }
            builder.append(topic: "t", partition: 0, offset: 2, timestamp: nil, key: nil, value: none)
        }
        let shapes = builder.finish()
        // A present empty key is not a missing one; a record of exactly the limit fits; a
        // partition in two runs gets an entry per run.
        #expect(shapes.record(at: 0).key == [] && shapes.record(at: 0).value == [])
        #expect(shapes.record(at: 0).timestamp == EventTime(millisecondsSinceEpoch: 0))
        #expect(shapes.record(at: 1).key == nil && shapes.record(at: 1).value == full && shapes.record(at: 1).timestamp == nil)
        #expect(shapes.record(at: 2).value == [] && shapes.record(at: 2).partition.partition == 0)
        #expect(shapes.partitions.map(\.partition) == [0, 1, 0])
        var none = InputBatch.Builder(expectedRecords: 0)
        #expect(none.finish().isEmpty)
    }

    @Test("records handed in as SourceRecords keep their bytes, partitions and buffers")
    func fromRecords() {
        let made = Self.poll(Self.items, expectedRecords: Self.items.count, maximumBuffer: 24)
        let again = InputBatch(records: (0..<made.count).map { made.record(at: $0) })
        Self.expectRecords(again)
        #expect(again.buffers.count == made.buffers.count)
        #expect(InputBatch(records: []).isEmpty)
    }

    @Test("late records and dead letters are detached from their poll's buffer, unchanged")
    func detached() {
        let batch = Self.poll([(0, Array("a".utf8), Array("one".utf8)), (0, nil, Array("two".utf8))], expectedRecords: 2, maximumBuffer: 1 << 20)
        let records = [batch.record(at: 0), batch.record(at: 1)]
        #expect(records[0].bytes.storage === records[1].bytes.storage)
        for record in records {
            let copy = record.detached()
            #expect(copy == record)
            #expect(copy.bytes.storage !== record.bytes.storage)
        }
    }

    @Test("equality compares keys (present or not), values and position")
    func equality() {
        let partition = InputPartition(topic: "t", partition: 3)
        let a = SourceRecord(partition: partition, offset: 1, key: nil, value: [1, 2])
        #expect(a == SourceRecord(partition: partition, offset: 1, key: nil, value: [1, 2]))
        #expect(a != SourceRecord(partition: partition, offset: 1, key: [], value: [1, 2]))
        #expect(a != SourceRecord(partition: partition, offset: 1, key: nil, value: [1, 3]))
        #expect(a != SourceRecord(partition: partition, offset: 2, key: nil, value: [1, 2]))
        var changed = a
        changed.key = [9]
        #expect(changed.key == [9] && changed.value == [1, 2])
        #expect(changed.withUnsafeKey { $0.map(Array.init) } == [9])
        #expect(a.withUnsafeKey { $0 == nil })
        #expect(SourceRecord(partition: partition, offset: 0, key: [], value: []).key == [])
    }
}
