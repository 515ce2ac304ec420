import SluiceKafka
import SluiceTesting
import Testing

/// Starts `sluice-broker` in its own process with `topics`.
///
/// Outages are taken there and not in an in-process ``KafkaMockCluster``: setting a mock
/// broker down re-binds its port, and librdkafka 2.0.2 aborts the whole process when that
/// bind fails, which it does when another test spawns a child process at that moment (see
/// ``KafkaMockCluster/setBrokerDown(_:)``). The broker process spawns nothing.
private func outageBroker(_ topics: [(name: String, partitions: Int)]) async throws -> DevBrokerProcess {
    let executable = try #require(brokerExecutable, "sluice-broker is not built")
    return try await DevBrokerProcess(executable: executable.path, topics: topics)
}

@Suite("Faults: injected errors, broker outages")
struct FaultToleranceTests {
    @Test("the idempotent producer writes every record exactly once despite injected produce errors")
    func idempotentUnderInjectedErrors() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("payments", partitions: 3)
        let deliveries = DeliveryCollector()
        let producer = try testProducer(for: cluster, onDelivery: deliveries.handler)
        // Warm up so the producer has its id and leaders before the faults start.
        _ = try await producer.send(KafkaOutgoingRecord(topic: "payments", key: [0], value: [UInt8]("warm-up")))
        try await producer.flush(timeout: .seconds(10))

        try cluster.pushRequestErrors(
            apiKey: KafkaMockCluster.APIKey.produce,
            errors: [
                KafkaMockCluster.ErrorCode.notLeaderForPartition, KafkaMockCluster.ErrorCode.requestTimedOut,
                KafkaMockCluster.ErrorCode.notEnoughReplicas, KafkaMockCluster.ErrorCode.requestTimedOut,
            ])
        let total = 300
        for batch in stride(from: 0, to: total, by: 50) {
            _ = try await producer.send(
                contentsOf: (batch..<batch + 50).map {
                    KafkaOutgoingRecord(topic: "payments", key: [UInt8]("k\($0 % 10)"), value: [UInt8]("\($0)"))
                })
        }
        try await producer.flush(timeout: .seconds(30))
        #expect(deliveries.all.values.allSatisfy { $0.error == nil })
        #expect(deliveries.all.count == total + 1)
        #expect(producer.fatalError == nil)

        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        try await consumer.assign(allPartitions("payments", count: 3))
        let received = try await consume(consumer, count: total + 1).filter { $0.valueString != "warm-up" }
        let values = received.map { Int($0.valueString)! }
        #expect(values.count == total, "duplicates or losses: \(values.count) records for \(total)")
        #expect(Set(values) == Set(0..<total))
        // Per key (hence per partition), records keep their send order.
        for key in 0..<10 {
            let sequence = values.filter { $0 % 10 == key }
            #expect(sequence == sequence.sorted())
        }
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }

    @Test("records sent while the broker is down arrive once it is back, none lost")
    func brokerDownThenUp() async throws {
        let broker = try await outageBroker([("telemetry", 2)])
        defer { broker.stop() }
        let deliveries = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(bootstrapServers: broker.bootstrapServers), logger: testLogger,
            onDelivery: deliveries.handler)
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(bootstrapServers: broker.bootstrapServers), logger: testLogger)
        try await consumer.assign(allPartitions("telemetry", count: 2))

        func records(_ range: Range<Int>) -> [KafkaOutgoingRecord] {
            range.map { KafkaOutgoingRecord(topic: "telemetry", key: [UInt8]("s\($0 % 7)"), value: [UInt8]("\($0)")) }
        }
        _ = try await producer.send(contentsOf: records(0..<50))
        try await producer.flush(timeout: .seconds(10))
        var received = try await consume(consumer, count: 50)
        #expect(received.count == 50)

        #expect(try await broker.control("down 1") == "ok")
        _ = try await producer.send(contentsOf: records(50..<100))
        // Nothing can be delivered while the only broker is down.
        await #expect(throws: KafkaError.self) { try await producer.flush(timeout: .milliseconds(500)) }
        #expect(try await broker.control("up 1") == "ok")
        try await producer.flush(timeout: .seconds(30))
        #expect(deliveries.all.count == 100)
        #expect(deliveries.all.values.allSatisfy { $0.error == nil })

        received += try await consume(consumer, count: 50, timeout: .seconds(30))
        let values = received.map { Int($0.valueString)! }
        #expect(values.count == 100)
        #expect(Set(values) == Set(0..<100))
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }

    @Test("closing with records stuck behind a down broker reports each of them as failed")
    func closeReportsStuckRecords() async throws {
        let broker = try await outageBroker([("stuck", 1)])
        defer { broker.stop() }
        let deliveries = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(bootstrapServers: broker.bootstrapServers), logger: testLogger,
            onDelivery: deliveries.handler)
        #expect(try await broker.control("down 1") == "ok")
        let ids = try await producer.send(
            contentsOf: (0..<5).map { KafkaOutgoingRecord(topic: "stuck", value: [UInt8]("\($0)")) })
        let clock = ContinuousClock()
        let start = clock.now
        await producer.close(timeout: .milliseconds(300))
        // A guard against hanging, not a speed check: the whole suite shares 2 cores.
        #expect(clock.now - start < .seconds(30))
        let reports = deliveries.all
        #expect(Set(reports.keys) == Set(ids))
        #expect(reports.values.allSatisfy { $0.error != nil && $0.offset == nil })
        await #expect(throws: KafkaError.self) {
            _ = try await producer.send(KafkaOutgoingRecord(topic: "stuck", value: [1]))
        }
    }
}
