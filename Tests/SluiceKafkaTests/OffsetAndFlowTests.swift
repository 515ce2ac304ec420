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
        try await consumer.commit([p0: 5, p1: 7], timeout: .seconds(10))
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

    @Test("a commit while the group coordinator is down gives up at its timeout instead of waiting for it", .timeLimit(.minutes(1)))
    func commitTimesOutWithoutCoordinator() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("ledger", partitions: 1)
        let p0 = KafkaTopicPartition(topic: "ledger", partition: 0)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster, group: "book"), logger: testLogger)
        try await consumer.commit([p0: 1], timeout: .seconds(10))
        try cluster.setBrokerDown(1)
        let error = await #expect(throws: KafkaError.self) { try await consumer.commit([p0: 2], timeout: .seconds(1)) }
        #expect(error?.code == .timeout, "\(String(describing: error))")
        try cluster.setBrokerUp(1)
        // Once the coordinator is back, commits go through again. (The commit that gave up may
        // still land, later than a newer one: the loop commits again until the newer one stays.)
        #expect(
            try await eventually {
                guard (try? await consumer.commit([p0: 3], timeout: .seconds(5))) != nil else { return false }
                return try await consumer.committedOffsets(for: [p0], timeout: .seconds(5))[p0] == 3
            })
        await consumer.close()
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
        try await consumer.pause([p0])
        var received = try await consume(consumer, count: 20)
        #expect(received.count == 20)
        #expect(received.allSatisfy { $0.partition == 1 })
        // Keep polling a while: still nothing from the paused partition.
        received = try await consume(consumer, count: 1, timeout: .milliseconds(700))
        #expect(received.isEmpty)

        try await consumer.resume([p0])
        received = try await consume(consumer, count: 20)
        #expect(received.map(\.partition) == Array(repeating: 0, count: 20))
        #expect(received.map(\.offset) == Array(0..<20))
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }
}

@Suite("Partition ends")
struct PartitionEndTests {
    @Test("with reportsPartitionEnds, each partition's end is reported once its records were read, at the offset after them; without it, none")
    func partitionEndsAreReported() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("ends", partitions: 2)
        let producer = try testProducer(for: cluster)
        let sent = (0..<7).map { KafkaOutgoingRecord(topic: "ends", partition: 0, value: [UInt8]("a\($0)")) }
            + (0..<3).map { KafkaOutgoingRecord(topic: "ends", partition: 1, value: [UInt8]("b\($0)")) }
        _ = try await producer.send(contentsOf: sent)
        try await producer.flush(timeout: .seconds(10))
        await producer.close(timeout: .seconds(5))

        for reports in [true, false] {
            var configuration = consumerConfiguration(cluster)
            configuration.reportsPartitionEnds = reports
            let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
            try await consumer.assign(allPartitions("ends", count: 2))
            var read: [KafkaTopicPartition: Int64] = [:]
            var ends: [KafkaTopicPartition: Int64] = [:]
            // Until every record was read and, when reported, both ends seen; then three more
            // polls, in which an end that should not come would (bounded by the polls' timeouts).
            var pollsAfterward = 0
            for _ in 0..<100 where pollsAfterward < 3 {
                if read.values.reduce(0, +) == 10 && (!reports || ends.count == 2) { pollsAfterward += 1 }
                let result = try await consumer.poll(maxRecords: 100, timeout: .milliseconds(200))
                for record in result.records {
                    read[KafkaTopicPartition(topic: record.topic, partition: record.partition), default: 0] += 1
                }
                for (partition, end) in result.partitionEnds {
                    // Reported after the partition's records: every one of them was read by now.
                    #expect(read[partition] == end, "end \(end) of \(partition) came before its records")
                    ends[partition] = end
                }
            }
            #expect(read.values.reduce(0, +) == 10)
            if reports {
                #expect(ends == [KafkaTopicPartition(topic: "ends", partition: 0): 7, KafkaTopicPartition(topic: "ends", partition: 1): 3])
            } else {
                #expect(ends.isEmpty)
            }
            await consumer.close()
        }
    }
}
