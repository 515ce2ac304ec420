import CoreMetrics
import Foundation
import Logging
import MetricsTestKit
import Sluice
import SluiceKafka
import Synchronization
import Testing

/// The pipeline's swift-metrics, observed through `TestMetrics` passed in
/// ``PipelineConfiguration/metricsFactory``: no global bootstrap anywhere.
@Suite("Metrics of a running pipeline")
struct MetricsPipelineTests {
    @Test("a Kafka run: counters match what was produced, lag drains to zero, checkpoints are timed")
    func kafkaRun() async throws {
        let cluster = try KafkaMockCluster(brokers: 1, logger: ObservedFixture.silentLogger)
        try cluster.createTopic("sensors", partitions: 2)
        try cluster.createTopic("sums", partitions: 2)
        // Each partition holds its own four sensors, 400 readings spanning 50 s of event time, then
        // records for the first window, which the watermark passed long before (late: with at most
        // 50 records per poll, every earlier batch of the partition came before them).
        var readings: [Int32: [ObservedReading]] = [:]
        var late: [Int32: [ObservedReading]] = [:]
        for partition in [Int32(0), 1] {
            readings[partition] = ObservedFixture.memoryReadings(count: 400, sensors: 4, firstSensor: Int(partition) * 4)
            late[partition] = Array(
                repeating: ObservedReading(sensor: Int(partition) * 4, time: ObservedFixture.start + 1_000, value: 1),
                count: partition == 0 ? 2 : 1)
        }
        let malformed: [[UInt8]] = [Array("not json".utf8), Array("{\"sensor\": \"x\"}".utf8)]
        var records: [KafkaOutgoingRecord] = []
        for partition in [Int32(0), 1] {
            for reading in readings[partition]! + late[partition]! {
                records.append(
                    KafkaOutgoingRecord(topic: "sensors", partition: partition, key: Array("\(reading.sensor)".utf8), value: reading.json))
            }
        }
        records += malformed.map { KafkaOutgoingRecord(topic: "sensors", partition: 1, key: Array("bad".utf8), value: $0) }
        try await ObservedFixture.produce(records, bootstrapServers: cluster.bootstrapServers)

        let metrics = TestMetrics()
        let logs = CapturedLogs()
        let scratch = EngineScratchDirectory()
        let name = "metrics-kafka-\(UUID().uuidString.prefix(8))"
        let pipeline = Pipeline(name)
            .source(KafkaSource(topic: "sensors"), decoding: ObservedReading.self)
            .eventTime { (reading: ObservedReading) -> EventTime in EventTime(millisecondsSinceEpoch: reading.time) }
            .watermarks(outOfOrderness: .seconds(1), idleTimeout: nil)
            .key(by: \.sensor)
            .window(.tumbling(ObservedFixture.window))
            .sum { $0.value }
            .sink(
                KafkaSink(topic: "sums") { result in
                    SinkRecord(key: Array("\(result.key)".utf8), value: Array("\(result.window.start):\(result.value)".utf8))
                })
        var configuration = PipelineConfiguration(
            stateDirectory: scratch.path, kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.checkpointInterval = .milliseconds(20)
        configuration.maxPollRecords = 50
        configuration.stopsAtEndOfInput = true
        configuration.keyIdleTimeout = nil
        configuration.metricsFactory = metrics
        let service = PipelineService(pipeline, configuration: configuration, logger: logs.logger(level: .info))
        try await service.run()

        let allReadings = readings.values.flatMap { $0 }
        let lateCount = late.values.reduce(0) { $0 + $1.count }
        let consumed = allReadings.count + lateCount + malformed.count
        let results = ObservedFixture.windowCount(allReadings)
        #expect(results == 40)
        let dimensions = [("pipeline", name)]
        func total(_ label: String) throws -> Int64 { try metrics.total(label, dimensions) }

        #expect(try total("sluice_records_consumed_total") == Int64(consumed))
        #expect(try total("sluice_dead_letters_total") == Int64(malformed.count))
        #expect(try total("sluice_late_records_total") == Int64(lateCount))
        // Late records are decoded and handed to their key, so they count as processed.
        #expect(try total("sluice_records_processed_total") == Int64(consumed - malformed.count))
        #expect(try total("sluice_results_emitted_total") == Int64(results))
        // Published counts every record the broker confirmed: results, late records and dead letters.
        #expect(try total("sluice_records_published_total") == Int64(results + lateCount + malformed.count))
        #expect(try total("sluice_keys_restored_total") == 0)
        #expect(try total("sluice_keys_passivated_total") == 0)
        #expect(try total("sluice_rebalances_total") == 0, "manual assignment has no rebalances")

        let checkpoints = try total("sluice_checkpoints_total")
        #expect(checkpoints >= 1)
        #expect(UInt64(checkpoints) == service.status.checkpointsCompleted)
        let pauses = try metrics.expectTimer("sluice_checkpoint_pause_seconds", dimensions).values
        #expect(Int64(pauses.count) == checkpoints, "one pause per checkpoint")
        #expect(pauses.allSatisfy { $0 > 0 && $0 < 60_000_000_000 }, "\(pauses)")
        // Every outbox entry passes through exactly one checkpoint before it is published.
        let outboxPerCheckpoint = try metrics.expectRecorder("sluice_checkpoint_outbox_records", dimensions).values
        #expect(Int(outboxPerCheckpoint.reduce(0, +)) == results + lateCount + malformed.count)
        let keysPerCheckpoint = try metrics.expectRecorder("sluice_checkpoint_keys", dimensions).values
        #expect(keysPerCheckpoint.reduce(0, +) >= 8, "each of the 8 keys was written at least once")

        #expect(try metrics.expectGauge("sluice_outbox_depth", dimensions).lastValue == 0)
        #expect(try metrics.expectGauge("sluice_key_actors_live", dimensions).lastValue == 8)
        // Every published record's latency is timed; the store has pages in use; no broker errors on a healthy run.
        let latencies = try metrics.expectTimer("sluice_publish_latency_seconds", dimensions).values
        #expect(latencies.count == 45)
        #expect(latencies.allSatisfy { $0 > 0 })
        #expect(try #require(try metrics.expectGauge("sluice_state_store_bytes", dimensions).lastValue) > 0)
        #expect(try total("sluice_broker_errors_total") == 0)
        // Windows open while the input flows; every one is closed at the end of the input.
        let open = try metrics.expectGauge("sluice_windows_open", dimensions)
        #expect(open.lastValue == 0)
        let age = try #require(try metrics.expectGauge("sluice_last_checkpoint_age_seconds", dimensions).lastValue)
        #expect(age >= 0 && age < 60)
        for partition in ["sensors/0", "sensors/1"] {
            let perPartition = dimensions + [("partition", partition)]
            #expect(try metrics.expectGauge("sluice_consumer_lag", perPartition).lastValue == 0, "\(partition)")
            #expect(try !metrics.expectGauge("sluice_watermark_delay_seconds", perPartition).values.isEmpty, "\(partition)")
        }
        // The counters agree with the status the service reports.
        let status = service.status.router
        #expect(status.recordsConsumed == UInt64(consumed) && status.lateRecords == UInt64(lateCount))

        #expect(logs.all.allSatisfy { $0.level <= .info }, "\(logs.all.filter { $0.level > .info })")
        #expect(MetricsSystem.factory is NOOPMetricsHandler, "the library must not bootstrap a metrics backend")
    }

    @Test("an in-memory run: counters move record by record and gauges settle at the end")
    func memoryRun() async throws {
        let metrics = TestMetrics()
        let scratch = EngineScratchDirectory()
        let readings = ObservedFixture.memoryReadings(count: 600, sensors: 4)
        var values = readings.map(\.json)
        values.insert(Array("not json".utf8), at: 10)
        values.append(Array("[]".utf8))
        let late = (0..<3).map { ObservedReading(sensor: $0, time: ObservedFixture.start + 2_000, value: 5) }
        values += late.map(\.json)
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.metricsFactory = metrics
        let service = ObservedFixture.memoryService(values, name: "metrics-memory", configuration: configuration)
        try await service.run()

        let dimensions = [("pipeline", "metrics-memory")]
        func total(_ label: String) throws -> Int64 { try metrics.total(label, dimensions) }
        #expect(try total("sluice_records_consumed_total") == Int64(values.count))
        #expect(try total("sluice_dead_letters_total") == 2)
        #expect(try total("sluice_late_records_total") == Int64(late.count))
        #expect(try total("sluice_records_processed_total") == Int64(values.count - 2))
        #expect(try total("sluice_results_emitted_total") == Int64(ObservedFixture.windowCount(readings)))
        #expect(try total("sluice_records_published_total") == 0, "a memory sink publishes nothing to a broker")
        let checkpoints = try total("sluice_checkpoints_total")
        #expect(checkpoints >= 1 && UInt64(checkpoints) == service.status.checkpointsCompleted)
        #expect(Int64(try metrics.expectTimer("sluice_checkpoint_pause_seconds", dimensions).values.count) == checkpoints)
        #expect(try metrics.expectGauge("sluice_key_actors_live", dimensions).lastValue == 4)
        let perPartition = dimensions + [("partition", ObservedFixture.memoryPartition.description)]
        #expect(try metrics.expectGauge("sluice_consumer_lag", perPartition).lastValue == 0)
        #expect(try !metrics.expectGauge("sluice_watermark_delay_seconds", perPartition).values.isEmpty)
    }

    @Test("a restart counts keys restored from the store; an idle timeout of zero passivates every key")
    func restoredAndPassivated() async throws {
        let scratch = EngineScratchDirectory()
        // The first run stops when its input is consumed, without closing windows: every sensor
        // has an open window in the store.
        let first = ObservedFixture.memoryReadings(count: 80, sensors: 4)
        let stopper = ServiceStopper<ObservedFixture.Aggregator>()
        let source = MemorySource(RecordsThenCall(records: ObservedFixture.records(first.map(\.json))) { stopper.stop() })
        var firstConfiguration = ObservedFixture.memoryConfiguration(scratch.path)
        firstConfiguration.stopsAtEndOfInput = false
        let firstService = PipelineService(
            ObservedFixture.memoryPipeline(source, name: "metrics-restart"), configuration: firstConfiguration,
            logger: ObservedFixture.silentLogger)
        stopper.attach(firstService)
        try await firstService.run()
        #expect(firstService.status.router.resultsEmitted == 0)

        // Later readings for the same four sensors: each key actor is loaded from the store once.
        let metrics = TestMetrics()
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.metricsFactory = metrics
        configuration.keyIdleTimeout = .zero
        let second = ObservedFixture.memoryReadings(count: 80, sensors: 4, startingAt: ObservedFixture.start + 60_000)
        try await ObservedFixture.memoryService(second.map(\.json), name: "metrics-restart", configuration: configuration).run()

        let dimensions = [("pipeline", "metrics-restart")]
        let restored = try metrics.total("sluice_keys_restored_total", dimensions)
        #expect(restored >= 4, "every sensor's actor was restored at least once")
        let passivated = try metrics.total("sluice_keys_passivated_total", dimensions)
        #expect(passivated >= 4, "the final checkpoint releases every clean key")
        #expect(try metrics.expectGauge("sluice_key_actors_live", dimensions).lastValue == 0)
    }

    @Test("records consumed and processed are counted per input partition, as issue 8 asks")
    func perPartitionCounters() async throws {
        let metrics = TestMetrics()
        let scratch = EngineScratchDirectory()
        // Partition 0 gets 30 readings and one malformed record, partition 1 gets 10 readings.
        let partitions = [InputPartition(topic: "input", partition: 0), InputPartition(topic: "input", partition: 1)]
        var records: [SourceRecord] = []
        var offsets = [Int64](repeating: 0, count: 2)
        func add(_ value: [UInt8], to index: Int) {
            records.append(SourceRecord(partition: partitions[index], offset: offsets[index], value: value))
            offsets[index] += 1
        }
        for (i, reading) in ObservedFixture.memoryReadings(count: 40, sensors: 4).enumerated() { add(reading.json, to: i % 4 == 0 ? 1 : 0) }
        add(Array("not json".utf8), to: 0)
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.metricsFactory = metrics
        try await PipelineService(
            ObservedFixture.memoryPipeline(MemorySource(records), name: "metrics-partitions"), configuration: configuration,
            logger: ObservedFixture.silentLogger
        ).run()

        let expected: [(partition: InputPartition, consumed: Int64, processed: Int64)] = [(partitions[0], 31, 30), (partitions[1], 10, 10)]
        for (partition, consumed, processed) in expected {
            let dimensions = [("pipeline", "metrics-partitions"), ("partition", partition.description)]
            #expect(try metrics.total("sluice_records_consumed_total", dimensions) == consumed, "\(partition)")
            #expect(try metrics.total("sluice_records_processed_total", dimensions) == processed, "\(partition)")
        }
    }

    @Test("after a bounded run the watermark delay still describes the data, not the end-of-input sentinel")
    func watermarkDelayAfterEndOfInput() async throws {
        let metrics = TestMetrics()
        let scratch = EngineScratchDirectory()
        let readings = ObservedFixture.memoryReadings(count: 40, sensors: 2)
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.metricsFactory = metrics
        try await ObservedFixture.memoryService(readings.map(\.json), name: "metrics-delay", configuration: configuration).run()

        // The data is from November 2023: its watermark is that far behind the wall clock.
        let dataAge = Date().timeIntervalSince1970 - Double(ObservedFixture.start) / 1000
        let delays = try ObservedFixture.watermarkDelays(in: metrics, pipeline: "metrics-delay")
        #expect(!delays.isEmpty)
        for delay in delays {
            #expect(delay >= 0 && delay <= dataAge + 60, "a watermark delay of \(delay) s for data \(dataAge) s old")
        }
    }
}

extension MetricsPipelineTests {
    @Test("an out-of-orderness of forever: the run ends, every window closes at the end, and the watermark delay is finite")
    func foreverOutOfOrderness() async throws {
        let metrics = TestMetrics()
        let scratch = EngineScratchDirectory()
        let readings = ObservedFixture.memoryReadings(count: 40, sensors: 2)
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.metricsFactory = metrics
        let service = ObservedFixture.memoryService(
            readings.map(\.json), name: "metrics-forever", configuration: configuration, outOfOrderness: .seconds(Int64.max))
        try await service.run()
        #expect(service.status.router.resultsEmitted == UInt64(ObservedFixture.windowCount(readings)))
        #expect(service.status.router.lateRecords == 0)
        let delays = try ObservedFixture.watermarkDelays(in: metrics, pipeline: "metrics-forever")
        #expect(!delays.isEmpty)
        #expect(delays.allSatisfy { $0.isFinite && $0 > 0 })
    }
}

// MARK: - Fixture

/// One sensor reading of the observability tests; `time` is event time in milliseconds.
struct ObservedReading: Codable, Sendable, Equatable {
    var sensor: Int
    var time: Int64
    var value: Int

    var json: [UInt8] { Array(try! JSONEncoder().encode(self)) }
}

/// Pipelines and data shared by the metrics and logging suites.
enum ObservedFixture {
    typealias Aggregator = WindowAggregator<Int, ObservedReading, Int>

    /// 14 November 2023, 22:13:20 UTC: a window boundary for 10-second windows.
    static let start: Int64 = 1_700_000_000_000
    static let window: Duration = .seconds(10)
    static let memoryPartition = InputPartition(topic: "memory", partition: 0)
    static let silentLogger = Logger(label: "sluice.tests.silent") { _ in SwiftLogNoOpLogHandler() }

    /// `count` readings round-robin over `sensors` sensors numbered from `firstSensor`; event
    /// time advances 500 ms per round from `startingAt`.
    static func memoryReadings(count: Int, sensors: Int, firstSensor: Int = 0, startingAt: Int64 = start) -> [ObservedReading] {
        (0..<count).map { i in
            ObservedReading(sensor: firstSensor + i % sensors, time: startingAt + Int64(i / sensors) * 500, value: i % 10)
        }
    }

    /// The number of (sensor, window) results `readings` produce.
    static func windowCount(_ readings: [ObservedReading]) -> Int {
        struct Cell: Hashable { var sensor: Int; var window: Int64 }
        return Set(readings.map { Cell(sensor: $0.sensor, window: $0.time / 10_000) }).count
    }

    /// A 10-second tumbling sum per sensor over `values`, read in order from one in-memory partition;
    /// late records and dead letters go to handlers, results to a memory sink.
    static func memoryPipeline(_ values: [[UInt8]], name: String, outOfOrderness: Duration = .seconds(1)) -> PipelineDefinition<Aggregator> {
        memoryPipeline(MemorySource(records(values)), name: name, outOfOrderness: outOfOrderness)
    }

    /// The pipeline of ``memoryPipeline(_:name:outOfOrderness:)`` over any in-memory source.
    static func memoryPipeline(_ source: MemorySource, name: String, outOfOrderness: Duration = .seconds(1)) -> PipelineDefinition<Aggregator> {
        Pipeline(name)
            .source(source, decoding: ObservedReading.self)
            .eventTime { (reading: ObservedReading) -> EventTime in EventTime(millisecondsSinceEpoch: reading.time) }
            .watermarks(outOfOrderness: outOfOrderness, idleTimeout: nil)
            .key(by: \.sensor)
            .window(.tumbling(window))
            .sum { $0.value }
            .lateRecords(to: .handler { _, _ in })
            .deadLetters(to: .handler { _, _ in })
            .sink(MemorySink { _ in })
    }

    /// A service running ``memoryPipeline(_:name:outOfOrderness:)`` over `values`, logging nowhere.
    static func memoryService(
        _ values: [[UInt8]], name: String, configuration: PipelineConfiguration, outOfOrderness: Duration = .seconds(1)
    ) -> PipelineService<Aggregator> {
        PipelineService(
            memoryPipeline(values, name: name, outOfOrderness: outOfOrderness), configuration: configuration, logger: silentLogger)
    }

    /// Every value the `sluice_watermark_delay_seconds` gauge of pipeline `name` took for ``memoryPartition``.
    static func watermarkDelays(in metrics: TestMetrics, pipeline name: String) throws -> [Double] {
        try metrics.expectGauge(
            "sluice_watermark_delay_seconds", [("pipeline", name), ("partition", memoryPartition.description)]
        ).values
    }

    /// `values` as records of ``memoryPartition`` at offsets 0, 1, 2, …
    static func records(_ values: [[UInt8]]) -> [SourceRecord] {
        values.enumerated().map { offset, value in SourceRecord(partition: memoryPartition, offset: Int64(offset), value: value) }
    }

    /// Runs to the end of the input, checkpoints every 10 ms, keeps every key in memory.
    static func memoryConfiguration(_ stateDirectory: String) -> PipelineConfiguration {
        var configuration = PipelineConfiguration(stateDirectory: stateDirectory)
        configuration.stopsAtEndOfInput = true
        configuration.checkpointInterval = .milliseconds(10)
        configuration.keyIdleTimeout = nil
        return configuration
    }

    /// Produces `records` and waits until the broker acknowledged every one.
    static func produce(_ records: [KafkaOutgoingRecord], bootstrapServers: [String]) async throws {
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: bootstrapServers), logger: silentLogger) { _ in }
        _ = try await producer.send(contentsOf: records)
        try await producer.flush(timeout: .seconds(30))
        await producer.close(timeout: .seconds(5))
    }
}

/// Records in order; when the pipeline asks for one past the last, `onEnd` runs, once.
/// Lets a test stop a pipeline (without closing its windows) exactly when the input is consumed.
struct RecordsThenCall: AsyncSequence, Sendable {
    let records: [SourceRecord]
    let onEnd: @Sendable () -> Void

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: IndexingIterator<[SourceRecord]>
        var onEnd: (@Sendable () -> Void)?

        mutating func next() async -> SourceRecord? {
            if let record = remaining.next() { return record }
            onEnd?()
            onEnd = nil
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: records.makeIterator(), onEnd: onEnd) }
}

/// Stops a service that is created after the closure that stops it.
final class ServiceStopper<Processor: KeyedProcessor>: Sendable {
    private let service = Mutex<PipelineService<Processor>?>(nil)

    func attach(_ service: PipelineService<Processor>) { self.service.withLock { $0 = service } }

    func stop() { service.withLock { $0 }?.stop() }
}

extension TestMetrics {
    /// The sum of every counter named `label` whose dimensions include `dimensions` (so a counter
    /// split by further labels still adds up); throws when there is no such counter at all.
    func total(_ label: String, _ dimensions: [(String, String)]) throws -> Int64 {
        let matching = counters(label: label, dimensions: dimensions)
        if matching.isEmpty { throw TestMetricsError.missingMetric(label: label, dimensions: dimensions) }
        return matching.map(\.totalValue).reduce(0, +)
    }
}
