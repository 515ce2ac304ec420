import Foundation
import Sluice
import SluiceKafka
import SluiceTesting
import Testing

/// Records larger than the pipeline's producer takes (`message.max.bytes`, 1,000,000 bytes by
/// default). Before they were checked, such a dead letter or result failed its publish, and
/// every restart published it again and failed the same way.
@Suite("Records larger than the producer takes")
struct OversizedRecordTests {
    /// Produces `values` as raw records (key "big") to `topic`, with a producer that takes
    /// records of up to 2,000,000 bytes.
    static func produceRaw(_ values: [[UInt8]], to topic: String, cluster: KafkaMockCluster) async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.common.properties["message.max.bytes"] = "2000000"
        let producer = try KafkaProducer(configuration: configuration, logger: integrationLogger) { _ in }
        _ = try await producer.send(contentsOf: values.map { KafkaOutgoingRecord(topic: topic, key: Array("big".utf8), value: $0) })
        try await producer.flush(timeout: .seconds(60))
        await producer.close(timeout: .seconds(5))
    }

    @Test("a dead letter larger than the producer takes is published cut short, with its original length; the pipeline goes on")
    func oversizedDeadLettersAreCutShort() async throws {
        let cluster = try mockCluster([("sensors", 1), ("sums", 1)])
        let before = KafkaPipelineTests.readings(count: 200, sensors: 4)
        let after = KafkaPipelineTests.readings(count: 200, sensors: 4, start: 1_700_000_100)
        // Not JSON. The first fits the input producer's default limit, but not once the
        // dead-letter headers are added; the second is over `maxRecordBytes` (1 MiB) as well.
        let nearLimit = [UInt8](repeating: UInt8(ascii: "x"), count: 999_900)
        let overLimit = [UInt8](repeating: UInt8(ascii: "y"), count: 1_500_000)
        try await KafkaPipelineTests.produce(before, to: "sensors", cluster: cluster)
        try await Self.produceRaw([nearLimit, overLimit], to: "sensors", cluster: cluster)
        try await KafkaPipelineTests.produce(after, to: "sensors", cluster: cluster)

        let pipeline = KafkaPipelineTests.makePipeline(input: "sensors", output: "sums", window: .seconds(10))
        let configuration = KafkaPipelineTests.boundedConfiguration(cluster, state: "oversized-dead-letters")
        let service = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        try await service.run()

        try await KafkaPipelineTests.expectEachResultOnce(of: before + after, in: "sums", cluster: cluster)
        let deadLetters = try await KafkaTopicReader.readAll(
            topic: "\(pipeline.name)-dead-letters", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        #expect(deadLetters.count == 2)
        #expect(service.status.router.deadLettered == 2)
        let lengths = deadLetters.compactMap { $0.header("sluice.truncated").map { String(decoding: $0, as: UTF8.self) } }
        #expect(lengths == ["999900", "1500000"])
        for letter in deadLetters {
            #expect(letter.value.count < 1_000_000)
            #expect(letter.value.count > 990_000)
            #expect(letter.value.allSatisfy { $0 == letter.value.first })
            #expect(letter.header("sluice.error") != nil)
            #expect(letter.header("sluice.source") != nil)
            #expect(letter.keyText == "big")
        }
        #expect(deadLetters.first?.header("sluice.error").map { String(decoding: $0, as: UTF8.self) }?.contains("not JSON") == true)
        #expect(deadLetters.last?.header("sluice.error").map { String(decoding: $0, as: UTF8.self) }?.contains("exceeds the limit") == true)
    }

    @Test("a result larger than the producer takes stops the pipeline before it is checkpointed; a fixed sink then publishes every result once")
    func oversizedResultStopsBeforeCheckpoint() async throws {
        let readings = KafkaPipelineTests.readings(count: 400, sensors: 4)
        let (cluster, _, configuration) = try await KafkaPipelineTests.sumsJob(readings, partitions: 2, state: "oversized-result")
        let name = "oversized-\(UUID().uuidString.prefix(8))"
        func pipeline(padding: Int) -> PipelineDefinition<WindowAggregator<Int, Reading, SumCount>> {
            KafkaPipelineTests.makePipeline(input: "sensors", output: "sums", window: .seconds(10), name: name, padding: padding)
        }

        let error = await #expect(throws: SluiceError.self) {
            try await PipelineService(pipeline(padding: 1_000_000), configuration: configuration, logger: integrationLogger).run()
        }
        #expect(error?.code == .encoding)
        #expect(error?.message.contains("message.max.bytes") == true)
        let published = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        #expect(published.isEmpty)

        try await PipelineService(pipeline(padding: 0), configuration: configuration, logger: integrationLogger).run()
        try await KafkaPipelineTests.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }

    @Test("a dead letter's reason is cut to 4 KiB, so that a reason quoting a large record does not crowd it out")
    func longReasonsAreCut() async throws {
        let cluster = try mockCluster([("sensors", 1), ("sums", 1)])
        let payload = String(repeating: "z", count: 600_000)
        try await Self.produceRaw([Array(payload.utf8)], to: "sensors", cluster: cluster)
        struct Quoting: Error, CustomStringConvertible {
            var text: String
            var description: String { "cannot use \(text)" }
        }
        let pipeline = Pipeline("long-reason-\(UUID().uuidString.prefix(8))")
            .source(KafkaSource(topic: "sensors"), decode: { (record: SourceRecord) -> Reading in
                throw Quoting(text: String(decoding: record.value, as: UTF8.self))
            })
            .eventTime { $0.time }
            .watermarks(outOfOrderness: .seconds(1), idleTimeout: nil)
            .key(by: { $0.id })
            .window(.tumbling(.seconds(10)))
            .aggregate(into: SumCount()) { acc, reading in acc.sum += reading.value }
            .sink(KafkaSink(topic: "sums") { result in SinkRecord(key: nil, value: Array("\(result.value.sum)".utf8)) })
        let configuration = KafkaPipelineTests.boundedConfiguration(cluster, state: "long-reason")
        try await PipelineService(pipeline, configuration: configuration, logger: integrationLogger).run()

        let deadLetters = try await KafkaTopicReader.readAll(
            topic: "\(pipeline.name)-dead-letters", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        #expect(deadLetters.count == 1)
        let reason = try #require(deadLetters.first?.header("sluice.error"))
        #expect(reason.count <= 4_096)
        #expect(String(decoding: reason, as: UTF8.self).hasSuffix("zzz…"))
        // With the reason cut, the whole record fits.
        #expect(deadLetters.first?.value.count == 600_000)
        #expect(deadLetters.first?.header("sluice.truncated") == nil)
    }
}
