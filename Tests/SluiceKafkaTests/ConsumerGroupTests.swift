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

        let first = try await GroupMember(cluster: cluster, group: "g", topic: "readings", strategy: strategy)
        #expect(await eventually(timeout: .seconds(25)) { first.assignment == all })

        let second = try await GroupMember(cluster: cluster, group: "g", topic: "readings", strategy: strategy)
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
        try await consumer.subscribe(topics: ["jobs"])
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
        // A start offset librdkafka refuses fails the acknowledgement but keeps the event, to be
        // acknowledged again.
        await #expect(throws: KafkaError.self) {
            try await consumer.acknowledge(assigned, startOffsets: [p0: -5])
        }
        try await consumer.acknowledge(assigned, startOffsets: [p0: 3])
        let received = try await consume(consumer, count: 7)
        #expect(received.filter { $0.partition == 0 }.map(\.offset) == [3, 4])
        #expect(received.filter { $0.partition == 1 }.map(\.offset) == [0, 1, 2, 3, 4])
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }

    /// Records keep arriving while the group rebalances twice (a member joins, then leaves)
    /// under the cooperative protocol, where the first member keeps reading the partitions it
    /// keeps: no record of them may be skipped. (A batch poll that served a rebalance callback
    /// calling `rd_kafka_yield` would drop the op librdkafka takes next; librdkafka pauses the
    /// assigned partitions before queuing a rebalance, so that is not a record today, but the
    /// consumer no longer yields inside a batch.)
    @Test("records produced across cooperative rebalances are all read")
    func rebalanceAmongRecordsSkipsNone() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("stream", partitions: 4)
        let all = Set(allPartitions("stream", count: 4).keys)
        let producer = try testProducer(for: cluster)
        var produced = 0
        // Each batch is delivered before the next is made: the pace of production is the broker's.
        func produce(_ count: Int) async throws {
            _ = try await producer.send(
                contentsOf: (produced..<produced + count).map {
                    KafkaOutgoingRecord(topic: "stream", partition: Int32($0 % 4), value: [UInt8(truncatingIfNeeded: $0)])
                })
            produced += count
            try await producer.flush(timeout: .seconds(10))
        }

        let first = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: "g", strategy: .cooperativeSticky), logger: testLogger)
        try await first.subscribe(topics: ["stream"])
        var offsets: [Int32: Set<Int64>] = [:]
        var assignment = Set<KafkaTopicPartition>()
        var revoked = 0
        func pollFirst(maxRecords: Int = 50) async throws {
            let result = try await first.poll(maxRecords: maxRecords, timeout: .milliseconds(50))
            for record in result.records { offsets[record.partition, default: []].insert(record.offset) }
            guard let event = result.rebalance else { return }
            try await first.acknowledge(event, startOffsets: [:])
            switch event {
            case .assigned(let partitions): assignment.formUnion(partitions)
            case .revoked(let partitions):
                assignment.subtract(partitions)
                revoked += 1
            }
        }
        func firstCount() -> Int { offsets.values.reduce(0) { $0 + $1.count } }

        try await produce(400)
        let deadline = ContinuousClock.now + .seconds(30)
        while (assignment != all || firstCount() < 400) && ContinuousClock.now < deadline { try await pollFirst() }
        try #require(assignment == all && firstCount() == 400)

        // The first member stops polling while the second joins, and records arrive meanwhile.
        let second = try await GroupMember(cluster: cluster, group: "g", topic: "stream", strategy: .cooperativeSticky)
        while second.events.isEmpty && ContinuousClock.now < deadline { try await produce(100) }
        try #require(!second.events.isEmpty, "the second member never took part in a rebalance")
        try await produce(400)

        while revoked == 0 && ContinuousClock.now < deadline { try await pollFirst() }
        try #require(revoked > 0, "the first member saw no revocation")
        let split = await eventually(timeout: .seconds(30)) {
            try? await pollFirst()
            return second.assignment.count == 2 && assignment.count == 2
        }
        try #require(split, "assignments: \(assignment) / \(second.assignment)")

        // The second member leaves; the first gets its partitions back while records arrive.
        await second.close()
        let rejoin = ContinuousClock.now + .seconds(30)
        while assignment != all && ContinuousClock.now < rejoin {
            try await produce(20)
            try await pollFirst()
        }
        try #require(assignment == all, "the first member never got every partition back: \(assignment)")
        try await produce(400)

        // Every offset of every partition was read by one member or the other. The second
        // starts the partitions it takes from the beginning (nothing was committed), so only a
        // record the first member skipped in a partition it kept is missing.
        func missing() -> [Int32: [Int64]] {
            let theirs = second.offsets
            var gaps: [Int32: [Int64]] = [:]
            for partition in Int32(0)..<4 {
                let count = Int64(produced / 4)
                let seen = offsets[partition, default: []].union(theirs[partition, default: []])
                let absent = (0..<count).filter { !seen.contains($0) }
                if !absent.isEmpty { gaps[partition] = absent }
            }
            return gaps
        }
        // On a loaded machine the wait for the second member above can produce tens of thousands
        // of records: read the rest in large polls.
        let complete = await eventually(timeout: .seconds(20)) {
            try? await pollFirst(maxRecords: 2_000)
            return missing().isEmpty
        }
        #expect(complete, "offsets never read: \(missing().mapValues { $0.prefix(10) })")
        #expect(second.error == nil)
        await first.close()
        await producer.close(timeout: .seconds(5))
    }
}
