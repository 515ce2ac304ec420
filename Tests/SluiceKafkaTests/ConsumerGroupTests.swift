import SluiceKafka
import Testing

@Suite("Consumer groups and rebalances")
struct ConsumerGroupTests {
    @Test(
        "two members split the partitions; rebalance events reach the caller",
        arguments: [KafkaConsumerConfiguration.RebalanceStrategy.eager, .cooperativeSticky])
    func twoMembers(strategy: KafkaConsumerConfiguration.RebalanceStrategy) async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("readings", partitions: 4)
        let all = Set(allPartitions("readings", count: 4).keys)

        let first = try GroupMember(cluster: cluster, group: "g", topic: "readings", strategy: strategy)
        #expect(await eventually(timeout: .seconds(25)) { first.assignment == all })

        let second = try GroupMember(cluster: cluster, group: "g", topic: "readings", strategy: strategy)
        let split = await eventually(timeout: .seconds(30)) {
            let a = first.assignment
            let b = second.assignment
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == all
        }
        #expect(split, "assignments: \(first.assignment) / \(second.assignment)")
        let revocations = first.events.compactMap { event -> [KafkaTopicPartition]? in
            if case .revoked(let partitions) = event { return partitions }
            return nil
        }
        #expect(!revocations.isEmpty)
        if strategy == .cooperativeSticky {
            // Incremental: only the partitions that moved are revoked.
            #expect(revocations.allSatisfy { $0.count < 4 })
            #expect(Set(revocations.flatMap { $0 }) == second.assignment)
        } else {
            #expect(revocations.first.map(Set.init) == all)
        }

        // When the second member leaves, the first gets everything back.
        await second.close()
        #expect(await eventually(timeout: .seconds(30)) { first.assignment == all })
        #expect(first.error == nil)
        #expect(second.error == nil)
        await first.close()
    }

    @Test("an assignment waits for acknowledge and starts at the offsets it gives")
    func assignmentWaitsForAcknowledge() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("jobs", partitions: 2)
        let producer = try testProducer(for: cluster)
        _ = try await producer.send(
            contentsOf: (0..<10).map { KafkaOutgoingRecord(topic: "jobs", partition: Int32($0 % 2), value: [UInt8($0)]) })
        try await producer.flush(timeout: .seconds(10))

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: "workers"), logger: testLogger)
        try consumer.subscribe(topics: ["jobs"])
        var event: KafkaRebalanceEvent?
        let deadline = ContinuousClock.now + .seconds(25)
        while event == nil && ContinuousClock.now < deadline {
            let result = try await consumer.poll(maxRecords: 10, timeout: .milliseconds(200))
            #expect(result.records.isEmpty)
            event = result.rebalance
        }
        let assigned = try #require(event)
        guard case .assigned(let partitions) = assigned else {
            Issue.record("expected an assignment first, got \(assigned)")
            return
        }
        #expect(Set(partitions) == Set(allPartitions("jobs", count: 2).keys))

        // Not acknowledged yet: librdkafka has no assignment, so nothing is fetched.
        for _ in 0..<3 {
            #expect(try await consumer.poll(maxRecords: 10, timeout: .milliseconds(100)).records.isEmpty)
        }
        await #expect(throws: KafkaError.self) {
            try await consumer.acknowledge(.revoked(partitions), startOffsets: [:])
        }

        let p0 = KafkaTopicPartition(topic: "jobs", partition: 0)
        try await consumer.acknowledge(assigned, startOffsets: [p0: 3])
        let received = try await consume(consumer, count: 7)
        #expect(received.filter { $0.partition == 0 }.map(\.offset) == [3, 4])
        #expect(received.filter { $0.partition == 1 }.map(\.offset) == [0, 1, 2, 3, 4])
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }
}
