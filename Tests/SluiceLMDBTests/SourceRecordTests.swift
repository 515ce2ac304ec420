import Testing

@testable import Sluice

@Suite("Source records and their shared buffers")
struct SourceRecordTests {
    static let partition = InputPartition(topic: "t", partition: 3)

    /// Records built the way the runner builds a poll: announced sizes, one builder.
    static func poll(_ items: [(key: [UInt8]?, value: [UInt8])], maximumChunk: Int) -> [SourceRecord] {
        var builder = RecordBytes.Builder(
            totalBytes: items.reduce(0) { $0 + ($1.key?.count ?? 0) + $1.value.count }, maximumChunk: maximumChunk)
        return items.enumerated().map { offset, item in
            builder.startRecord(byteCount: (item.key?.count ?? 0) + item.value.count)
            let key = item.key.map { key in key.withUnsafeBytes { builder.append($0) } }
            let value = item.value.withUnsafeBytes { builder.append($0) }
            return SourceRecord(
                partition: partition, offset: Int64(offset), timestamp: nil,
                bytes: RecordBytes(storage: builder.storage, key: key, value: value))
        }
    }

    @Test("a poll larger than one buffer is split between records, never inside one")
    func chunks() {
        let items: [(key: [UInt8]?, value: [UInt8])] = (0..<40).map { i in
            (i % 3 == 0 ? nil : Array("k\(i)".utf8), Array(repeating: UInt8(i), count: i % 17))
        }
        let records = Self.poll(items, maximumChunk: 24)
        for (record, item) in zip(records, items) {
            #expect(record.key == item.key)
            #expect(record.value == item.value)
        }
        let buffers = Set(records.map { ObjectIdentifier($0.bytes.storage) })
        #expect(buffers.count > 1)
    }

    @Test("late records and dead letters are detached from their poll's buffer, unchanged")
    func detached() {
        let records = Self.poll([(Array("a".utf8), Array("one".utf8)), (nil, Array("two".utf8))], maximumChunk: 1 << 20)
        #expect(records[0].bytes.storage === records[1].bytes.storage)
        for record in records {
            let copy = record.detached()
            #expect(copy == record)
            #expect(copy.bytes.storage !== record.bytes.storage)
        }
    }

    @Test("equality compares keys (present or not), values and position")
    func equality() {
        let a = SourceRecord(partition: Self.partition, offset: 1, key: nil, value: [1, 2])
        #expect(a == SourceRecord(partition: Self.partition, offset: 1, key: nil, value: [1, 2]))
        #expect(a != SourceRecord(partition: Self.partition, offset: 1, key: [], value: [1, 2]))
        #expect(a != SourceRecord(partition: Self.partition, offset: 1, key: nil, value: [1, 3]))
        #expect(a != SourceRecord(partition: Self.partition, offset: 2, key: nil, value: [1, 2]))
        var changed = a
        changed.key = [9]
        #expect(changed.key == [9] && changed.value == [1, 2])
        #expect(changed.withUnsafeKey { $0.map(Array.init) } == [9])
        #expect(a.withUnsafeKey { $0 == nil })
    }
}
