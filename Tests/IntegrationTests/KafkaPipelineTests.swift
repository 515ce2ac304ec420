import Foundation
import Logging
import Sluice
import SluiceKafka
import SluiceTesting
import Testing

/// The reference job against librdkafka's mock cluster, in one process.
@Suite("Kafka pipeline, in process")
struct KafkaPipelineTests {
    /// `padding` adds a `"pad"` field of that many spaces to each result; `headers` go on each.
    static func makePipeline(
        input: String, output: String, window: Duration, assignment: KafkaSource.Assignment = .allPartitions,
        name: String = "iot-test-\(UUID().uuidString.prefix(8))", padding: Int? = nil, headers: [OutputHeader] = []
    ) -> PipelineDefinition<WindowAggregator<Int, Reading, SumCount>> {
        Pipeline(name)
            .source(KafkaSource(topic: input, assignment: assignment), decoding: Reading.self)
            .eventTime { $0.time }
            .watermarks(outOfOrderness: .seconds(1), idleTimeout: nil)
            .key(by: { $0.id })
            .window(.tumbling(window))
            .aggregate(into: SumCount()) { acc, reading in
                acc.sum += reading.value
                acc.count += 1
            }
            .sink(
                KafkaSink(topic: output) { result in
                    let pad = padding.map { ",\"pad\":\"\(String(repeating: " ", count: $0))\"" } ?? ""
                    let body = "{\"id\":\(result.key),\"window_start\":\(result.window.start.millisecondsSinceEpoch),\"sum\":\(result.value.sum),\"count\":\(result.value.count)\(pad)}"
                    return SinkRecord(key: Array(String(result.key).utf8), value: Array(body.utf8), headers: headers)
                })
    }

    /// A bounded run against `cluster` (stops at the end of the input), checkpointing every 100 ms.
    static func boundedConfiguration(_ cluster: KafkaMockCluster, state: String) -> PipelineConfiguration {
        var configuration = PipelineConfiguration(
            stateDirectory: temporaryDirectory(state), kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.checkpointInterval = .milliseconds(100)
        configuration.stopsAtEndOfInput = true
        return configuration
    }

    /// The reference job over a fresh mock cluster: `readings` produced to "sensors" (`partitions`
    /// partitions), results to "sums" (2), and a bounded configuration with state of its own.
    static func sumsJob(
        _ readings: [Reading], partitions: Int, state: String
    ) async throws -> (cluster: KafkaMockCluster, pipeline: PipelineDefinition<WindowAggregator<Int, Reading, SumCount>>, configuration: PipelineConfiguration) {
        let cluster = try mockCluster([("sensors", partitions), ("sums", 2)])
        try await produce(readings, to: "sensors", cluster: cluster)
        let pipeline = makePipeline(input: "sensors", output: "sums", window: .seconds(10))
        return (cluster, pipeline, boundedConfiguration(cluster, state: state))
    }

    /// Reads `topic` back and expects one result per (sensor, 10 s window) of `readings`, with the right sums.
    static func expectEachResultOnce(of readings: [Reading], in topic: String, cluster: KafkaMockCluster) async throws {
        let output = try await KafkaTopicReader.readAll(topic: topic, bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        let report = ExactlyOnceReport(expected: groundTruth(readings, windowMilliseconds: 10_000), found: parse(output))
        #expect(report.isExactlyOnce, "\(report)")
        #expect(report.expectedCount > 0)
    }

    static func produce(_ readings: [Reading], extra: [[UInt8]] = [], to topic: String, cluster: KafkaMockCluster) async throws {
        try await produceReadings(readings, malformed: extra, to: topic, bootstrapServers: cluster.bootstrapServers)
    }

    static func readings(count: Int, sensors: Int, start: Double = 1_700_000_000) -> [Reading] {
        (0..<count).map { i in Reading(id: i % sensors, time: start + Double(i / sensors) * 0.5, value: (i * 7) % 100) }
    }

    static func parse(_ records: [ConsumedRecord]) -> [(key: WindowKey, value: SumCount)] {
        records.compactMap { record in
            guard let object = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any],
                let id = object["id"] as? Int, let start = (object["window_start"] as? NSNumber)?.int64Value,
                let sum = object["sum"] as? Int, let count = object["count"] as? Int
            else { return nil }
            return (WindowKey(sensor: id, windowStart: start), SumCount(sum: sum, count: count))
        }
    }

    @Test("windowed sums reach the output topic exactly once; malformed records reach the dead-letter topic")
    func referenceJob() async throws {
        let cluster = try mockCluster([("sensors", 4), ("sums", 2)])
        let readings = Self.readings(count: 4_000, sensors: 20)
        let garbage: [[UInt8]] = [Array("not json".utf8), Array("{\"id\": \"x\"}".utf8)]
        try await Self.produce(readings, extra: garbage, to: "sensors", cluster: cluster)

        let pipeline = Self.makePipeline(input: "sensors", output: "sums", window: .seconds(10))
        var configuration = PipelineConfiguration(
            stateDirectory: temporaryDirectory("reference"), kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.checkpointInterval = .milliseconds(200)
        configuration.stopsAtEndOfInput = true
        let service = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        try await service.run()

        let output = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        let report = ExactlyOnceReport(expected: groundTruth(readings, windowMilliseconds: 10_000), found: Self.parse(output))
        #expect(report.isExactlyOnce, "\(report)")
        #expect(report.expectedCount > 0)
        for record in output {
            #expect(record.header("sluice.writer") != nil)
            #expect(record.header("sluice.seq") != nil)
        }
        let deadLetters = try await KafkaTopicReader.readAll(
            topic: "\(pipeline.name)-dead-letters", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        #expect(Set(deadLetters.map(\.valueText)) == ["not json", "{\"id\": \"x\"}"])
        #expect(deadLetters.allSatisfy { $0.header("sluice.error") != nil })
        #expect(service.status.router.deadLettered == 2)
    }

    @Test("partitions that never had a record do not make a restart refuse for lost state")
    func emptyPartitionsDoNotLookLikeLostState() async throws {
        // One sensor: its readings all go to one of the four partitions; three stay empty.
        let readings = Self.readings(count: 200, sensors: 1)
        let (cluster, pipeline, configuration) = try await Self.sumsJob(readings, partitions: 4, state: "empty-partitions")
        try await PipelineService(pipeline, configuration: configuration, logger: integrationLogger).run()
        // Offsets committed for partitions with nothing applied made this restart throw missingState.
        try await PipelineService(pipeline, configuration: configuration, logger: integrationLogger).run()
        try await Self.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }

    @Test("a delivery the broker refuses stops the pipeline with a sink failure; a restart publishes every result exactly once")
    func refusedDeliveryStopsThenRestartCompletes() async throws {
        let readings = Self.readings(count: 2_000, sensors: 10)
        let (cluster, pipeline, configuration) = try await Self.sumsJob(readings, partitions: 2, state: "refused")
        // TOPIC_AUTHORIZATION_FAILED, not retriable: the first produce requests fail for good.
        try cluster.pushRequestErrors(apiKey: KafkaMockCluster.APIKey.produce, errors: Array(repeating: 29, count: 8))
        let failing = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        let error = try await #require(throws: SluiceError.self) { try await failing.run() }
        #expect(error.code == .sinkFailure, "\(error)")
        #expect(error.message.contains("TOPIC_AUTHORIZATION_FAILED") || error.message.contains("authorization"), "\(error)")

        try cluster.clearRequestErrors(apiKey: KafkaMockCluster.APIKey.produce)
        try await PipelineService(pipeline, configuration: configuration, logger: integrationLogger).run()
        try await Self.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }

    /// One refused produce request among many: records handed to the producer after it
    /// (later in the same outbox, or of the next checkpoints before the failure was seen) must
    /// not be written either, since the recovery scan takes every entry at or below the highest
    /// sequence it finds of a writer as published (`enable.gapless.guarantee`).
    @Test("one refused produce request leaves no gap: a restart publishes every result exactly once")
    func oneRefusedRequestLeavesNoGap() async throws {
        let readings = Self.readings(count: 40_000, sensors: 400)
        let (cluster, pipeline, configuration) = try await Self.sumsJob(readings, partitions: 2, state: "refused-once")
        // TOPIC_AUTHORIZATION_FAILED, not retriable, for the first produce request only.
        try cluster.pushRequestErrors(apiKey: KafkaMockCluster.APIKey.produce, errors: [0, 0, 29])
        let failing = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        let error = try await #require(throws: SluiceError.self) { try await failing.run() }
        #expect(error.code == .sinkFailure, "\(error)")

        try await PipelineService(pipeline, configuration: configuration, logger: integrationLogger).run()
        try await Self.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }

    @Test(
        "with room for 10 records in the producer's queue and a slow broker, publishing waits and every result arrives once",
        .timeLimit(.minutes(1)))
    func publishingWaitsForQueueRoom() async throws {
        let readings = Self.readings(count: 3_000, sensors: 50)
        let (cluster, pipeline, bounded) = try await Self.sumsJob(readings, partitions: 2, state: "queue-room")
        var configuration = bounded
        // Each checkpoint's outbox (tens to hundreds of results) overfills the queue: the send
        // waits for delivery reports, rebuilding each waiting record's headers.
        configuration.kafka?.properties["queue.buffering.max.messages"] = "10"
        try cluster.setRoundTripTime(.milliseconds(20), broker: 1)
        let service = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        try await service.run()
        #expect(service.status.producerQueueFullWaits > 0)
        try await Self.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }

    @Test("a restart after a finished replay publishes nothing twice; input after the end of time is late")
    func restartAfterEndOfInput() async throws {
        let first = Self.readings(count: 1_000, sensors: 10)
        let (cluster, pipeline, configuration) = try await Self.sumsJob(first, partitions: 2, state: "restart")
        try await PipelineService(pipeline, configuration: configuration, logger: integrationLogger).run()
        // The replay closed every window for good; records that come later are late, not new results.
        let second = Self.readings(count: 100, sensors: 10, start: 1_700_001_000)
        try await Self.produce(second, to: "sensors", cluster: cluster)
        let again = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        try await again.run()

        let output = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        let report = ExactlyOnceReport(expected: groundTruth(first, windowMilliseconds: 10_000), found: Self.parse(output))
        #expect(report.isExactlyOnce, "\(report)")
        let late = try await KafkaTopicReader.readAll(
            topic: "\(pipeline.name)-late", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        #expect(late.count == second.count)
        #expect(again.status.router.lateRecords == UInt64(second.count))
    }
}
