import SluiceKafka
import Testing

@Suite("Offsets, pause and resume")
struct OffsetAndFlowTests {
    @Test("committed offsets read back, and a new member of the group starts there")
    func commitAndReadBack() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("ledger", partitions: 2)
        let producer = try testProducer(for: cluster)
        _ = try await producer.send(
            contentsOf: (0..<20).map { KafkaOutgoingRecord(topic: "ledger", partition: Int32($0 % 2), value: [UInt8($0)]) })
        try await producer.flush(timeout: .seconds(10))

        let p0 = KafkaTopicPartition(topic: "ledger", partition: 0)
        let p1 = KafkaTopicPartition(topic: "ledger", partition: 1)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster, group: "book"), logger: testLogger)
        #expect(try await consumer.committedOffsets(for: [p0, p1], timeout: .seconds(10)).isEmpty)
        try await consumer.commit([p0: 5, p1: 7])
        #expect(try await consumer.committedOffsets(for: [p0, p1], timeout: .seconds(10)) == [p0: 5, p1: 7])
        try consumer.commitAsync([p0: 6])
        #expect(try await eventually { try await consumer.committedOffsets(for: [p0], timeout: .seconds(5))[p0] == 6 })
        await consumer.close()

        let successor = try KafkaConsumer(configuration: consumerConfiguration(cluster, group: "book"), logger: testLogger)
        #expect(try await successor.committedOffsets(for: [p0, p1], timeout: .seconds(10)) == [p0: 6, p1: 7])
        try await successor.assign([p0: KafkaOffset.committed, p1: KafkaOffset.committed])
        let received = try await consume(successor, count: 7)
        #expect(received.filter { $0.partition == 0 }.map(\.offset).first == 6)
        #expect(received.filter { $0.partition == 1 }.map(\.offset).first == 7)
        await successor.close()
        await producer.close(timeout: .seconds(5))
    }

    @Test("a paused partition delivers nothing until resumed")
    func pauseResume() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("flow", partitions: 2)
        let producer = try testProducer(for: cluster)
        _ = try await producer.send(
            contentsOf: (0..<40).map { KafkaOutgoingRecord(topic: "flow", partition: Int32($0 % 2), value: [UInt8($0)]) })
        try await producer.flush(timeout: .seconds(10))

        let p0 = KafkaTopicPartition(topic: "flow", partition: 0)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        try await consumer.assign(allPartitions("flow", count: 2))
        try consumer.pause([p0])
        var received = try await consume(consumer, count: 20)
        #expect(received.count == 20)
        #expect(received.allSatisfy { $0.partition == 1 })
        // Keep polling a while: still nothing from the paused partition.
        received = try await consume(consumer, count: 1, timeout: .milliseconds(700))
        #expect(received.isEmpty)

        try consumer.resume([p0])
        received = try await consume(consumer, count: 20)
        #expect(received.map(\.partition) == Array(repeating: 0, count: 20))
        #expect(received.map(\.offset) == Array(0..<20))
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }
}
