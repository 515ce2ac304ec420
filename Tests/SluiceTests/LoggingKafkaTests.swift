import Foundation
import Logging
import MetricsTestKit
import Sluice
import SluiceKafka
import Testing

/// What a pipeline over Kafka logs (and counts) for events an operator cares about:
/// partitions assigned, state missing for committed progress, a broker that cannot be reached.
@Suite("Logging of a pipeline over Kafka")
struct LoggingKafkaTests {
    static func pipeline(name: String, assignment: KafkaSource.Assignment = .allPartitions)
        -> PipelineDefinition<ObservedFixture.Aggregator>
    {
        Pipeline(name)
            .source(KafkaSource(topic: "sensors", assignment: assignment), decoding: ObservedReading.self)
            .eventTime { (reading: ObservedReading) -> EventTime in EventTime(millisecondsSinceEpoch: reading.time) }
            .watermarks(outOfOrderness: .seconds(1), idleTimeout: nil)
            .key(by: \.sensor)
            .window(.tumbling(ObservedFixture.window))
            .sum { $0.value }
            .sink(KafkaSink(topic: "sums") { result in SinkRecord(key: nil, value: Array("\(result.value)".utf8)) })
    }

    static func cluster(readings: [ObservedReading]) async throws -> KafkaMockCluster {
        let cluster = try KafkaMockCluster(brokers: 1, logger: ObservedFixture.silentLogger)
        try cluster.createTopic("sensors", partitions: 2)
        try cluster.createTopic("sums", partitions: 1)
        let records = readings.map {
            KafkaOutgoingRecord(topic: "sensors", partition: Int32($0.sensor % 2), key: Array("\($0.sensor)".utf8), value: $0.json)
        }
        try await ObservedFixture.produce(records, bootstrapServers: cluster.bootstrapServers)
        return cluster
    }

    static func configuration(_ stateDirectory: String, cluster: KafkaMockCluster) -> PipelineConfiguration {
        var configuration = PipelineConfiguration(
            stateDirectory: stateDirectory, kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.checkpointInterval = .milliseconds(20)
        configuration.stopsAtEndOfInput = true
        return configuration
    }

    @Test("a consumer-group member logs its assignment at info and counts the rebalance")
    func assignmentLoggedAndCounted() async throws {
        let readings = ObservedFixture.memoryReadings(count: 200, sensors: 4)
        let cluster = try await Self.cluster(readings: readings)
        let scratch = EngineScratchDirectory()
        let logs = CapturedLogs()
        let metrics = TestMetrics()
        let name = "logged-group-\(UUID().uuidString.prefix(8))"
        var configuration = Self.configuration(scratch.path, cluster: cluster)
        configuration.metricsFactory = metrics
        let service = PipelineService(
            Self.pipeline(name: name, assignment: .consumerGroup(.eager)), configuration: configuration,
            logger: logs.logger(level: .info))
        try await service.run()

        #expect(service.status.router.recordsConsumed == UInt64(readings.count))
        let assigned = logs.all.filter { $0.message == "Partitions assigned" }
        #expect(assigned.count == 1, "\(logs.all)")
        #expect(assigned.first?.level == .info)
        #expect(assigned.first?.metadata["sluice.partitions"] == "[\"sensors/0\", \"sensors/1\"]", "\(assigned)")
        #expect(assigned.first?.metadata["sluice.pipeline"] == name)
        let rebalances = try metrics.total("sluice_rebalances_total", [("pipeline", name)])
        #expect(rebalances == 1, "one assignment, no revocation while running")
        #expect(logs.all.allSatisfy { $0.level <= .info }, "\(logs.all.filter { $0.level > .info })")
    }

    @Test("progress without state is a warning naming the partitions when the pipeline rebuilds it")
    func missingStateIsAWarning() async throws {
        let readings = ObservedFixture.memoryReadings(count: 200, sensors: 4)
        let cluster = try await Self.cluster(readings: readings)
        let name = "logged-missing-\(UUID().uuidString.prefix(8))"
        let first = EngineScratchDirectory()
        try await PipelineService(
            Self.pipeline(name: name), configuration: Self.configuration(first.path, cluster: cluster),
            logger: ObservedFixture.silentLogger
        ).run()

        // Same consumer group, empty state directory: the group's committed offsets have no state.
        let second = EngineScratchDirectory()
        let logs = CapturedLogs()
        var configuration = Self.configuration(second.path, cluster: cluster)
        configuration.missingState = .rebuildFromEarliest
        let service = PipelineService(Self.pipeline(name: name), configuration: configuration, logger: logs.logger(level: .info))
        try await service.run()

        #expect(service.status.router.recordsConsumed == UInt64(readings.count), "rebuilt from the earliest offsets")
        let warnings = logs.all.filter { $0.level >= .warning }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.message == "Rebuilding lost state from the earliest offsets")
        #expect(warnings.first?.level == .warning)
        #expect(warnings.first?.metadata["sluice.partitions"] == "[\"sensors/0\", \"sensors/1\"]", "\(warnings)")
    }

    @Test("a broker that cannot be reached is logged at warning, not info")
    func unreachableBrokerIsAWarning() async throws {
        let logs = CapturedLogs()
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        configuration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: configuration, logger: logs.logger(level: .info)) { _ in }
        // librdkafka reports the refused connection through its error and log callbacks; wait for
        // the first such line (a condition with a deadline, not a fixed sleep).
        let deadline = ContinuousClock.now + .seconds(20)
        while !logs.all.contains(where: { $0.metadata["sluice.kafka.error"] != nil }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        await producer.close(timeout: .seconds(1))
        let errors = logs.all.filter { $0.metadata["sluice.kafka.error"] != nil }
        try #require(!errors.isEmpty, "no client error was logged within 20 s: \(logs.all)")
        for error in errors {
            #expect(error.level >= .warning, "an operator must act on: \(error)")
        }
    }
}
