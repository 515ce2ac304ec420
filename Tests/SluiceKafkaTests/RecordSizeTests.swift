import SluiceKafka
import Testing

/// ``KafkaProducer/countedSize(keyCount:valueCount:headerSizes:)`` against librdkafka's own
/// check of `message.max.bytes`, which refuses a record when it is sent.
@Suite("Record size as librdkafka counts it")
struct RecordSizeTests {
    @Test("maxRecordBytes is the producer's message.max.bytes: 1,000,000 unless set")
    func maxRecordBytesFollowsTheSetting() throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        #expect(try testProducer(for: cluster).maxRecordBytes == 1_000_000)
        var configuration = producerConfiguration(cluster)
        configuration.common.properties["message.max.bytes"] = "12345"
        #expect(try KafkaProducer(configuration: configuration, logger: testLogger) { _ in }.maxRecordBytes == 12_345)
    }

    @Test(
        "a record counted at the limit is taken, one byte more is refused",
        arguments: [
            (key: 0, headers: [(nameCount: Int, valueCount: Int)]()),
            (key: 5, headers: [(4, 0)]),
            (key: 17, headers: [(10, 63), (11, 64)]),
            (key: 200, headers: [(3, 8_191), (3, 8_192), (70, 1)]),
        ])
    func limitIsExact(key: Int, headers: [(nameCount: Int, valueCount: Int)]) async throws {
        let cluster = try KafkaMockCluster(logger: testLogger)
        try cluster.createTopic("sizes", partitions: 1)
        var configuration = producerConfiguration(cluster)
        configuration.common.properties["message.max.bytes"] = "20000"
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger) { _ in }
        let limit = producer.maxRecordBytes
        let framing = KafkaProducer.countedSize(keyCount: key, valueCount: 0, headerSizes: headers)
        func record(valueCount: Int) -> KafkaOutgoingRecord {
            KafkaOutgoingRecord(
                topic: "sizes", partition: 0, key: key == 0 ? nil : [UInt8](repeating: 1, count: key),
                value: [UInt8](repeating: 2, count: valueCount),
                headers: headers.enumerated().map { index, header in
                    // Distinct names of the given length.
                    KafkaHeader(
                        name: String(repeating: Character(UnicodeScalar(UInt8(97 + index))), count: header.nameCount),
                        value: [UInt8](repeating: 3, count: header.valueCount))
                })
        }
        let fitting = record(valueCount: limit - framing)
        #expect(KafkaProducer.countedSize(keyCount: key, valueCount: limit - framing, headerSizes: headers) == limit)
        _ = try await producer.send(fitting)
        let error = await #expect(throws: KafkaError.self) { _ = try await producer.send(record(valueCount: limit - framing + 1)) }
        #expect(error?.message.contains("too large") == true)
        try await producer.flush(timeout: .seconds(10))
        await producer.close(timeout: .seconds(5))
    }
}
