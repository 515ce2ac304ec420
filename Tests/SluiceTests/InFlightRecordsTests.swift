import Testing

@testable import Sluice

/// The publisher's table of records handed to the producer and not yet confirmed.
@Suite("In-flight outbox records")
struct InFlightRecordsTests {
    static func keys(_ partition: Int32, _ sequences: Range<UInt64>) -> [OutboxKey] {
        sequences.map { OutboxKey(writer: InputPartition(topic: "in", partition: partition), sequence: $0) }
    }

    @Test("reports in any order find their record once; unknown and repeated ids find nothing")
    func takeInAnyOrder() {
        var records = InFlightRecords()
        let earlier = ContinuousClock.now
        let later = earlier + .seconds(1)
        // Two sends whose ids were reserved in one order and registered in the other.
        records.register(first: 110, keys: Self.keys(1, 0..<5), sentAt: later)
        records.register(first: 100, keys: Self.keys(0, 0..<10), sentAt: earlier)
        #expect(records.count == 15)

        #expect(records.take(99) == nil)
        #expect(records.take(115) == nil)
        let first = records.take(104)
        #expect(first?.key == OutboxKey(writer: InputPartition(topic: "in", partition: 0), sequence: 4))
        #expect(first?.sentAt == earlier)
        #expect(records.take(104) == nil, "a second report for the same record")
        #expect(records.take(112)?.key == OutboxKey(writer: InputPartition(topic: "in", partition: 1), sequence: 2))
        #expect(records.count == 13)

        var found: [OutboxKey] = []
        for id in (100..<115).reversed() where id != 104 && id != 112 {
            if let record = records.take(UInt64(id)) { found.append(record.key) }
        }
        #expect(found.count == 13)
        #expect(Set(found).count == 13)
        #expect(records.count == 0)
        #expect(records.take(100) == nil, "a finished send is forgotten")
    }

    @Test("many sends still unconfirmed: each report finds its own record")
    func manyRunsStayInFlight() {
        var records = InFlightRecords()
        let now = ContinuousClock.now
        // 200 sends of 5 records, registered in a shuffled order; the first record of each
        // stays unconfirmed (its partition's leader away) while the others are confirmed.
        var order = Array(0..<200)
        var generator = SystemRandomNumberGenerator()
        order.shuffle(using: &generator)
        for send in order {
            records.register(first: UInt64(send * 5), keys: Self.keys(Int32(send), 0..<5), sentAt: now)
        }
        for send in (0..<200).reversed() {
            for offset in 1..<5 {
                #expect(records.take(UInt64(send * 5 + offset))?.key == Self.keys(Int32(send), 0..<5)[offset])
            }
        }
        #expect(records.count == 200)
        for send in 0..<200 { #expect(records.take(UInt64(send * 5))?.key.writer.partition == Int32(send)) }
        #expect(records.count == 0)
        #expect(records.take(0) == nil)
    }
}
