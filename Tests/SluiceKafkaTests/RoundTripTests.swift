import Foundation
@testable import SluiceKafka
import Testing

@Suite("Producer and consumer round trips")
struct RoundTripTests {
    @Test("keyed records with headers round-trip across partitions, placed by Java's murmur2")
    func keyedRoundTrip() async throws {
        let cluster = try KafkaMockCluster(brokers: 1, logger: testLogger)
        try cluster.createTopic("orders", partitions: 4)
        let deliveries = DeliveryCollector()
        let producer = try testProducer(for: cluster, onDelivery: deliveries.handler)
        let records = (0..<200).map { i in
            KafkaOutgoingRecord(
                topic: "orders", key: [UInt8]("customer-\(i % 37)"), value: [UInt8]("order \(i)"),
                headers: [
                    KafkaHeader(name: "index", value: [UInt8]("\(i)")),
                    KafkaHeader(name: "empty", value: []),
                ])
        }
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let ids = try await producer.send(contentsOf: Array(records[..<100]))
        var moreIDs: [UInt64] = []
        for record in records[100...] { moreIDs.append(try await producer.send(record)) }
        try await producer.flush(timeout: .seconds(10))
        #expect(try await producer.partitionCount(topic: "orders", timeout: .seconds(5)) == 4)

        let reports = deliveries.all
        #expect(reports.count == 200)
        for (record, id) in zip(records, ids + moreIDs) {
            let report = try #require(reports[id])
            #expect(report.error == nil)
            #expect(report.offset != nil)
            #expect(report.partition == KafkaProducer.partition(forKey: record.key!, partitionCount: 4))
        }

        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        try await consumer.assign(allPartitions("orders", count: 4))
        let received = try await consume(consumer, count: 200)
        #expect(received.count == 200)
        #expect(Set(received.map(\.partition)).count > 1)
        for message in received {
            let index = Int(String(decoding: try #require(message.headers.first?.value), as: UTF8.self))!
            let original = records[index]
            #expect(message.topic == "orders")
            #expect(message.key == original.key)
            #expect(message.value == original.value)
            #expect(message.headers == original.headers)
            #expect(message.partition == KafkaProducer.partition(forKey: original.key!, partitionCount: 4))
            #expect(message.timestamp.map { $0 >= before - 1_000 } == true)
            let report = try #require(reports[(ids + moreIDs)[index]])
            #expect(report.offset == message.offset)
        }
        // Per-partition offsets arrive in order.
        for partition in 0..<4 {
            let offsets = received.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == offsets.sorted())
        }
        #expect(consumer.cachedWatermarks(for: KafkaTopicPartition(topic: "orders", partition: 0)) != nil)
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }

    @Test("no key, an empty key and an empty (null) value each arrive as sent")
    func emptyAndMissingKeys() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("keys", partitions: 1)
        let producer = try testProducer(for: cluster)
        let sent: [KafkaOutgoingRecord] = [
            KafkaOutgoingRecord(topic: "keys", partition: 0, key: nil, value: [1]),
            KafkaOutgoingRecord(topic: "keys", partition: 0, key: [], value: [2]),
            KafkaOutgoingRecord(topic: "keys", partition: 0, key: [7, 8], value: []),
        ]
        _ = try await producer.send(contentsOf: sent)
        try await producer.flush(timeout: .seconds(10))

        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        try await consumer.assign(allPartitions("keys", count: 1))
        let received = try await consume(consumer, count: 3).sorted { $0.offset < $1.offset }
        #expect(received.map(\.key) == sent.map(\.key))
        #expect(received.map(\.value) == sent.map(\.value))
        // An empty value is sent as a null value, as KafkaOutgoingRecord documents.
        #expect(received.map(\.isValueNull) == [false, false, true])
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }

    @Test("records to several topics, interleaved in one batch, each reach their own topic")
    func interleavedTopics() async throws {
        try await sendInterleavedTopics(topicHandleLimit: RDKafkaTopicHandles.defaultLimit)
    }

    @Test("records to topics without a cached handle go by name and reach their own topic")
    func topicsByName() async throws {
        // A limit of 0 gives no topic a handle, and of 1 only the first: the name path runs
        // for every record or, mixed with handles, for two topics of three.
        try await sendInterleavedTopics(topicHandleLimit: 0)
        try await sendInterleavedTopics(topicHandleLimit: 1)
    }

    func sendInterleavedTopics(topicHandleLimit: Int) async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        let topics = ["alpha-readings-for-sensors", "beta", "gamma-results"]
        for topic in topics { try cluster.createTopic(topic, partitions: 2) }
        let deliveries = DeliveryCollector()
        let producer = try KafkaProducer(
            configuration: producerConfiguration(cluster), logger: testLogger, topicHandleLimit: topicHandleLimit,
            onDelivery: deliveries.handler)
        // Each record's topic is a string made at run time (the long name in storage of its
        // own), in a changing order, so that both the producer's same-topic shortcut and its
        // lookup run, and reports change topic between records.
        let sent = (0..<90).map { i in
            KafkaOutgoingRecord(
                topic: String(topics[(i * i + i / 7) % 3].utf8), key: [UInt8]("k\(i)"), value: [UInt8]("\(i)"))
        }
        let ids = try await producer.send(contentsOf: sent)
        try await producer.flush(timeout: .seconds(10))
        let reports = deliveries.all
        for (record, id) in zip(sent, ids) {
            #expect(reports[id]?.topic == record.topic)
            #expect(reports[id]?.error == nil)
        }

        for topic in topics {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
            try await consumer.assign(allPartitions(topic, count: 2))
            let expected = sent.filter { $0.topic == topic }
            let received = try await consume(consumer, count: expected.count)
            #expect(Set(received.map(\.value)) == Set(expected.map(\.value)))
            #expect(received.count == expected.count)
            await consumer.close()
        }
        await producer.close(timeout: .seconds(5))
    }

    @Test("sends overlapping close either fail as closed or have every record reported before close returns")
    func sendsOverlappingClose() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("closing", partitions: 3)
        let deliveries = DeliveryCollector()
        let producer = try testProducer(for: cluster, onDelivery: deliveries.handler)
        _ = try await producer.send(KafkaOutgoingRecord(topic: "closing", value: [0]))
        try await producer.flush(timeout: .seconds(10))
        let batch = (0..<2_000).map { KafkaOutgoingRecord(topic: "closing", key: [UInt8]("k\($0)"), value: [1]) }
        // Sends race close, which begins once the first send has returned (so the others are
        // queued or running then); whichever way each goes, none may leave a record unreported.
        let (firstSent, firstSentSignal) = AsyncStream.makeStream(of: Void.self)
        let outcomes = await withTaskGroup(of: Result<[UInt64], any Error>?.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do {
                        let ids = try await producer.send(contentsOf: batch)
                        firstSentSignal.yield()
                        return .success(ids)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            group.addTask {
                for await _ in firstSent { break }
                await producer.close(timeout: .seconds(20))
                return nil
            }
            var outcomes: [Result<[UInt64], any Error>] = []
            for await outcome in group { if let outcome { outcomes.append(outcome) } }
            return outcomes
        }
        let reports = deliveries.all
        let sent = outcomes.filter { if case .success = $0 { true } else { false } }.count
        #expect(sent >= 1)
        for outcome in outcomes {
            switch outcome {
            case .success(let ids):
                #expect(ids.allSatisfy { reports[$0] != nil })
            case .failure(let error):
                #expect((error as? KafkaError)?.code == .closed)
            }
        }
        // With the broker up, close had time to deliver everything that was enqueued.
        #expect(reports.values.allSatisfy { $0.error == nil })
        await #expect(throws: KafkaError.self) { _ = try await producer.send(batch[0]) }
    }

    @Test("zero-copy accessors, header lookup, seek and watermarks")
    func seekAndWatermarks() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("events", partitions: 1)
        let producer = try testProducer(for: cluster)
        _ = try await producer.send(
            contentsOf: (0..<10).map {
                KafkaOutgoingRecord(
                    topic: "events", partition: 0, value: [UInt8]("e\($0)"),
                    headers: [KafkaHeader(name: "n", value: [UInt8($0)])])
            })
        try await producer.flush(timeout: .seconds(10))

        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        let partition = KafkaTopicPartition(topic: "events", partition: 0)
        let marks = try await consumer.watermarks(for: partition, timeout: .seconds(5))
        #expect(marks.low == 0 && marks.high == 10)

        try await consumer.assign([partition: 4])
        var batch = try await consumer.poll(maxRecords: 3, timeout: .seconds(10)).records
        while batch.isEmpty { batch = try await consumer.poll(maxRecords: 3, timeout: .seconds(1)).records }
        #expect(batch.count <= 3)
        let first = try #require(batch.first)
        #expect(first.offset == 4)
        #expect(first.withUnsafeKey { $0 == nil })
        #expect(first.withUnsafeValue { String(decoding: $0, as: UTF8.self) } == "e4")
        #expect(first.header(named: "n") == [4])
        #expect(first.header(named: "missing") == nil)

        try await consumer.seek(partition, to: 1)
        let afterSeek = try await consume(consumer, count: 1)
        #expect(afterSeek.first?.offset == 1)
        await consumer.close()
        await consumer.close()  // idempotent
        await #expect(throws: KafkaError.self) { _ = try await consumer.poll(maxRecords: 1, timeout: .zero) }
        await producer.close(timeout: .seconds(5))
    }
}
