import Foundation
@testable import SluiceKafka
import Synchronization
import Testing

@Suite("Sending a KafkaOutgoingBatch")
struct OutgoingBatchTests {
    /// Records of every shape a batch stores differently: a key, no key, an empty key, an
    /// empty (null) value, headers (one with an empty value), a fixed partition, two topics.
    static func varied(count: Int) -> [KafkaOutgoingRecord] {
        (0..<count).map { i in
            let topic = i % 5 == 4 ? "batch-b" : "batch-a"
            let key: [UInt8]? = switch i % 3 {
            case 0: [UInt8]("sensor-\(i % 11)")
            case 1: nil
            default: []
            }
            let value: [UInt8] = i % 7 == 6 ? [] : [UInt8]("{\"i\":\(i)}")
            let headers = i % 2 == 0 ? [KafkaHeader(name: "index", value: [UInt8]("\(i)")), KafkaHeader(name: "e", value: [])] : []
            return KafkaOutgoingRecord(
                topic: topic, partition: i % 4 == 1 ? Int32(i % 3) : nil, key: key, value: value, headers: headers)
        }
    }

    /// Appends `record` through the API its index picks, so that every way of appending runs.
    static func append(_ record: KafkaOutgoingRecord, index: Int, to batch: inout KafkaOutgoingBatch) {
        switch index % 3 {
        case 0:
            batch.append(record)
        case 1:
            // Raw buffers, headers added one at a time.
            record.value.withUnsafeBytes { value in
                if let key = record.key {
                    key.withUnsafeBytes { batch.append(topic: record.topic, partition: record.partition, key: $0, value: value) }
                } else {
                    batch.append(topic: record.topic, partition: record.partition, key: nil, value: value)
                }
            }
            for header in record.headers { batch.addHeader(name: header.name, value: header.value) }
        default:
            // Collections that are not arrays.
            if let key = record.key {
                batch.append(
                    topic: record.topic, partition: record.partition, key: key[...], value: record.value[...], headers: record.headers)
            } else {
                batch.append(topic: record.topic, partition: record.partition, value: record.value[...], headers: record.headers)
            }
        }
    }

    static func expectSame(_ actual: KafkaOutgoingRecord, _ expected: KafkaOutgoingRecord) {
        #expect(actual.topic == expected.topic)
        #expect(actual.partition == expected.partition)
        #expect(actual.key == expected.key)
        #expect(actual.value == expected.value)
        #expect(actual.headers == expected.headers)
    }

    @Test("a batch holds each record as appended, in order, whichever way it was appended")
    func holdsRecords() {
        let records = Self.varied(count: 60)
        var batch = KafkaOutgoingBatch()
        for (index, record) in records.enumerated() { Self.append(record, index: index, to: &batch) }
        #expect(batch.count == records.count)
        for (actual, expected) in zip(batch, records) { Self.expectSame(actual, expected) }
        let bytes = records.reduce(0) { total, record in
            total + (record.key?.count ?? 0) + record.value.count + record.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count }
        }
        #expect(batch.byteCount == bytes)
        #expect(KafkaOutgoingBatch(records).map(\.value) == records.map(\.value))

        batch.removeAll(keepingCapacity: true)
        #expect(batch.isEmpty)
        #expect(batch.byteCount == 0)
        batch.append(topic: "after", value: [1])
        Self.expectSame(batch[0], KafkaOutgoingRecord(topic: "after", value: [1]))
    }

    @Test("a batch's records arrive as sent, with one report per id in the returned range")
    func roundTrip() async throws {
        let cluster = try KafkaMockCluster(brokers: 1, logger: testLogger)
        try cluster.createTopic("batch-a", partitions: 3)
        try cluster.createTopic("batch-b", partitions: 3)
        let deliveries = DeliveryCollector()
        let producer = try testProducer(for: cluster, onDelivery: deliveries.handler)
        let records = Self.varied(count: 300)
        var first = KafkaOutgoingBatch()
        var second = KafkaOutgoingBatch(reservingCapacity: 150, bytes: 4_096)
        for (index, record) in records.enumerated() {
            if index < 150 { Self.append(record, index: index, to: &first) } else { Self.append(record, index: index, to: &second) }
        }
        let firstIDs = try await producer.send(contentsOf: first)
        let secondIDs = try await producer.send(contentsOf: second)
        #expect(firstIDs.count == 150 && secondIDs.count == 150)
        #expect(secondIDs.lowerBound >= firstIDs.upperBound)
        #expect(try await producer.send(contentsOf: KafkaOutgoingBatch()).isEmpty)
        try await producer.flush(timeout: .seconds(10))

        let reports = deliveries.all
        #expect(reports.count == 300)
        var bySentIndex: [Int: KafkaDeliveryReport] = [:]
        for (index, id) in (Array(firstIDs) + Array(secondIDs)).enumerated() {
            let report = try #require(reports[id])
            #expect(report.error == nil)
            #expect(report.topic == records[index].topic)
            if let partition = records[index].partition { #expect(report.partition == partition) }
            if let key = records[index].key, records[index].partition == nil {
                #expect(report.partition == KafkaProducer.partition(forKey: key, partitionCount: 3))
            }
            bySentIndex[index] = report
        }

        for topic in ["batch-a", "batch-b"] {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
            try await consumer.assign(allPartitions(topic, count: 3))
            let expected = records.indices.filter { records[$0].topic == topic }
            let received = try await consume(consumer, count: expected.count)
            #expect(received.count == expected.count)
            // Each arrival is matched to its record by its place in the log, from the reports.
            for index in expected {
                let report = try #require(bySentIndex[index])
                let message = try #require(received.first { $0.partition == report.partition && $0.offset == report.offset })
                #expect(message.key == records[index].key)
                #expect(message.value == records[index].value)
                #expect(message.isValueNull == records[index].value.isEmpty)
                #expect(message.headers == records[index].headers)
            }
            await consumer.close()
        }
        // An empty header value arrives empty, not null (which `headers` would show as empty too).
        #expect(try await Self.nullValuedHeaderNames(in: "batch-a", partitions: 3, cluster: cluster, count: 240).isEmpty)
        await producer.close(timeout: .seconds(5))
    }

    /// The names of null-valued headers among the first `count` records of `topic`.
    static func nullValuedHeaderNames(in topic: String, partitions: Int, cluster: KafkaMockCluster, count: Int) async throws -> [String] {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        try await consumer.assign(allPartitions(topic, count: partitions))
        var seen = 0
        var names: [String] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while seen < count && ContinuousClock.now < deadline {
            let result = try await consumer.poll(maxRecords: 500, timeout: .milliseconds(100))
            for record in result.records {
                seen += 1
                names += record.nullValuedHeaderNames
            }
        }
        await consumer.close()
        #expect(seen == count)
        return names
    }

    @Test("with room for 10 records in librdkafka's queue and no topic handles, every record arrives with its headers")
    func queueFullAndTopicsByName() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("batch-a", partitions: 3)
        try cluster.createTopic("batch-b", partitions: 3)
        let deliveries = DeliveryCollector()
        var configuration = producerConfiguration(cluster)
        configuration.maxQueuedRecords = 10
        // No topic handles: every record goes by name; the tiny queue makes sends wait and
        // retry, rebuilding each record's headers.
        let producer = try KafkaProducer(
            configuration: configuration, logger: testLogger, topicHandleLimit: 0, onDelivery: deliveries.handler)
        let records = Self.varied(count: 200).map { record in
            var record = record
            record.headers.append(KafkaHeader(name: "always", value: [UInt8]("\(record.value.count)")))
            return record
        }
        let ids = try await producer.send(contentsOf: KafkaOutgoingBatch(records))
        try await producer.flush(timeout: .seconds(10))
        let reports = deliveries.all
        #expect(reports.count == records.count)
        #expect(ids.allSatisfy { reports[$0]?.error == nil })
        for topic in ["batch-a", "batch-b"] {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
            try await consumer.assign(allPartitions(topic, count: 3))
            let expected = records.filter { $0.topic == topic }
            let received = try await consume(consumer, count: expected.count)
            #expect(received.count == expected.count)
            #expect(Set(received.map { $0.headers.map(\.name) + [String(decoding: $0.value, as: UTF8.self)] })
                == Set(expected.map { $0.headers.map(\.name) + [String(decoding: $0.value, as: UTF8.self)] }))
            await consumer.close()
        }
        await producer.close(timeout: .seconds(5))
    }

    @Test("beforeEnqueueing gets the batch's ids before any of their delivery reports arrives")
    func idsBeforeReports() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("ordered", partitions: 2)
        // Every event in arrival order: a registration (the range) or a report (its id).
        let events = Mutex<[(registered: Range<UInt64>?, reported: UInt64?)]>([])
        var configuration = producerConfiguration(cluster)
        // A small queue: reports are handed out on the send thread while the batch is enqueued.
        configuration.maxQueuedRecords = 20
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger) { report in
            events.withLock { $0.append((nil, report.id)) }
        }
        var returned: [Range<UInt64>] = []
        for round in 0..<3 {
            var batch = KafkaOutgoingBatch()
            for i in 0..<200 { batch.append(topic: "ordered", key: [UInt8]("k\(i % 7)"), value: [UInt8]("\(round)-\(i)")) }
            returned.append(try await producer.send(contentsOf: batch) { ids in events.withLock { $0.append((ids, nil)) } })
        }
        try await producer.flush(timeout: .seconds(10))
        let log = events.withLock { $0 }
        #expect(log.compactMap(\.registered) == returned)
        #expect(log.compactMap(\.reported).count == 600)
        for range in returned {
            let registeredAt = try #require(log.firstIndex { $0.registered == range })
            let firstReport = try #require(log.firstIndex { $0.reported.map(range.contains) == true })
            #expect(registeredAt < firstReport)
        }
        await producer.close(timeout: .seconds(5))
    }

    @Test("a record librdkafka refuses stops the batch there; the records before it are delivered")
    func refusedRecordStopsTheBatch() async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("small", partitions: 1)
        let deliveries = DeliveryCollector()
        var configuration = producerConfiguration(cluster)
        configuration.common.properties["message.max.bytes"] = "1000"
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger, onDelivery: deliveries.handler)
        var batch = KafkaOutgoingBatch()
        for i in 0..<3 {
            batch.append(topic: "small", value: [UInt8]("ok \(i)"), headers: [KafkaHeader(name: "n", value: [UInt8]("\(i)"))])
        }
        batch.append(topic: "small", value: [UInt8](repeating: 7, count: 5_000), headers: [KafkaHeader(name: "n", value: [3])])
        batch.append(topic: "small", value: [UInt8]("never sent"))
        let error = await #expect(throws: KafkaError.self) { try await producer.send(contentsOf: batch) }
        #expect(error?.message.contains("small") == true)
        try await producer.flush(timeout: .seconds(10))
        let reports = deliveries.all.values.sorted { $0.id < $1.id }
        #expect(reports.count == 3)
        #expect(reports.allSatisfy { $0.error == nil })

        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster), logger: testLogger)
        try await consumer.assign(allPartitions("small", count: 1))
        let received = try await consume(consumer, count: 3)
        #expect(received.map(\.valueString) == ["ok 0", "ok 1", "ok 2"])
        #expect(received.map { $0.headers.first?.value } == ["0", "1", "2"].map { [UInt8]($0) })
        await consumer.close()
        await producer.close(timeout: .seconds(5))
    }
}
