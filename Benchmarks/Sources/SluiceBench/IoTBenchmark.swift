import Foundation
import Logging
import SluiceKafka

/// Partitions of output topics. Results with their `sluice.*` headers take about 200 bytes on
/// the broker and the mock keeps about 5 MiB per partition: 37 partitions hold about 900,000.
/// A prime, so the keys of one input partition (murmur2 modulo a power of two) still spread
/// over every output partition; with equal counts they would all land in one.
let outputPartitions = 37

/// The reference IoT job against the C ceiling on the same topic, in the same run.
struct IoTReport: Sendable {
    var sensors: Int
    var decoding: IoTJob.Decoding
    var records: Int
    var partitions: Int
    var ceiling: LoopResult
    var consume: ConsumeComparison?
    var child: ChildResult
    var output: OutputSummary
    var expectedResults: Int

    /// From the first reading (its event time taken, just after it was decoded) to the last
    /// result published, as the ceiling counts from its first record to its last.
    var seconds: Double {
        let first = child.firstReadingWallMs ?? child.runningWallMs ?? child.runCalledWallMs
        return Double(output.lastTimestampMs - first) / 1_000
    }

    /// From the pipeline running (recovery done, first poll next) to its first reading.
    var runningToFirstReading: Double? {
        guard let running = child.runningWallMs, let first = child.firstReadingWallMs else { return nil }
        return Double(first - running) / 1_000
    }
    var recordsPerSecond: Double { Double(records) / seconds }
    var ratio: Double { recordsPerSecond / ceiling.recordsPerSecond }
    var pauses: Summary? { Summary(child.checkpointPausesNs.map { Double($0) / 1e6 }) }
    var sampledPauses: Summary? { Summary(child.sampledPausesNs.map { Double($0) / 1e6 }) }
    var latency: Summary? { Summary(output.closeToPublishMs) }
    var isCorrect: Bool {
        output.results == expectedResults && output.distinctWindows == expectedResults && output.readingsCounted == records
            && child.lateRecords == 0 && child.deadLettered == 0
    }

    /// Preloads the readings, then runs `pipelineRounds` rounds on the same input, each a
    /// fresh ceiling measurement followed by one run of the job per entry of `decodings` (each
    /// into an output topic and state of its own); every report holds its own round's ceiling.
    /// The ceiling moves a lot between runs on a shared machine (1.7 to 2.9 M/s within one
    /// session), so each run is compared with the ceiling measured just before it.
    static func run(
        sensors: Int, records: Int, partitions requested: Int?, consumeRounds: Int, pipelineRounds: Int, decodings: [IoTJob.Decoding],
        broker: BenchBroker, logger: Logger
    ) async throws -> [IoTReport] {
        let partitions = requested ?? TopicSizing.partitions(forRecords: records)
        let stamp = Measure.wallMilliseconds()
        let input = "iot-\(sensors)-in-\(stamp)"
        let workload = IoTWorkload(sensors: sensors)
        _ = try await preload(workload, count: records, topic: input, partitions: partitions, broker: broker)
        let expected = workload.expectedResults(count: records, windowMilliseconds: IoTJob.windowMilliseconds)

        var consume: ConsumeComparison?
        if consumeRounds > 0 {
            consume = try await ConsumeComparison.run(
                topic: input, partitions: partitions, records: records, rounds: consumeRounds, broker: broker, logger: logger)
        }

        var reports: [IoTReport] = []
        for round in 1...max(1, pipelineRounds) {
            let ceiling = try RawKafka.consumeCount(bootstrap: broker.bootstrap, topic: input, partitions: partitions, expected: records)
            progress("round \(round): ceiling (C count loop) \(Format.rate(ceiling.recordsPerSecond))")
            for decoding in decodings {
                let name = "\(sensors)-\(decoding.rawValue)-\(stamp)-\(round)"
                let output = "iot-out-\(name)"
                try await broker.createTopic(output, partitions: outputPartitions)
                let state = NSTemporaryDirectory() + "sluice-bench-\(name)"
                defer { try? FileManager.default.removeItem(atPath: state) }
                progress("round \(round): pipeline, \(records) readings, \(sensors) sensors, \(decoding.rawValue) decoding, exactly-once, checkpoint 1 s (child process)")
                let (child, _) = try runPipelineChild(
                    mode: .throughput, bootstrap: broker.bootstrap, input: input, output: output,
                    name: "bench-iot-\(name)", state: state, records: records, decoding: decoding)
                let summary = try await OutputReader.read(topic: output, partitions: outputPartitions, bootstrap: broker.bootstrap, logger: logger)
                let report = IoTReport(
                    sensors: sensors, decoding: decoding, records: records, partitions: partitions, ceiling: ceiling, consume: consume,
                    child: child, output: summary, expectedResults: expected)
                progress(
                    "round \(round): pipeline \(Format.rate(report.recordsPerSecond)) = \(Format.ratio(report.ratio)) of ceiling; results \(summary.results)/\(expected), "
                        + "readings counted \(summary.readingsCounted), late \(child.lateRecords), correct \(report.isCorrect)")
                reports.append(report)
            }
        }
        return reports
    }
}

/// Recovery: build state with `keys` distinct keys in open windows, restart, and time until
/// the first new result is published.
struct RecoveryReport: Sendable {
    var keys: Int
    var partitions: Int
    /// The engine's idle time before a key actor passivates; `nil` is the default (60 s).
    var keyIdleTimeoutMilliseconds: Int?
    var build: ChildResult
    var restart: ChildResult
    var spawnedWallMs: Int64
    var firstOutputMs: Int64
    var stateBytes: Int64
    var outputResults: Int
    /// Keys whose records share the trigger's input partition: each should publish one result.
    var expectedResults: Int

    /// Restart (child process spawned) to the first new result's record timestamp.
    var restartToFirstOutput: Double { Double(firstOutputMs - spawnedWallMs) / 1_000 }
    /// `run()` called to the first new result.
    var runToFirstOutput: Double { Double(firstOutputMs - restart.runCalledWallMs) / 1_000 }
    /// Restart to the pipeline running (state opened, timers loaded, consumer assigned).
    var restartToRunning: Double? { restart.runningWallMs.map { Double($0 - spawnedWallMs) / 1_000 } }
    var buildPauses: Summary? { Summary(build.checkpointPausesNs.map { Double($0) / 1e6 }) }

    static func run(keys: Int, keyIdleTimeoutMilliseconds: Int? = nil, broker: BenchBroker, logger: Logger) async throws -> RecoveryReport {
        let partitions = TopicSizing.partitions(forRecords: keys)
        let stamp = Measure.wallMilliseconds()
        let input = "recovery-in-\(stamp)"
        let output = "recovery-out-\(stamp)"
        // One reading per key, at start minus up to 0.5 s: every key holds an open window ending
        // at `start` (a few at exactly `start` one ending 10 s later), and the watermark
        // (newest time minus 1 s) never reaches a window's end.
        let workload = IoTWorkload(sensors: keys, start: 1_700_000_000, step: 5, disorder: 0.5)
        _ = try await preload(workload, count: keys, topic: input, partitions: partitions, broker: broker)
        try await broker.createTopic(output, partitions: outputPartitions)
        let state = NSTemporaryDirectory() + "sluice-bench-recovery-\(stamp)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let name = "bench-recovery-\(stamp)"

        progress("recovery: building state with \(keys) keys (windows left open)")
        let (build, _) = try runPipelineChild(
            mode: .build, bootstrap: broker.bootstrap, input: input, output: output, name: name, state: state, records: keys,
            keyIdleTimeoutMilliseconds: keyIdleTimeoutMilliseconds)
        let stateBytes = directorySize(state)
        progress("recovery: state built in \(Format.seconds(Double(build.endWallMs - build.runCalledWallMs) / 1_000)), \(Format.mebibytes(stateBytes)) on disk, peak RSS \(Format.mebibytes(build.peakResidentBytes))")

        // New input after the restart: one reading past the window's end, into the partition of
        // key 0, which closes every open window of that partition.
        var trigger = FlatRecords(capacity: 1)
        trigger.append(key: 0, millis: 1_700_000_020_000, value: 1)
        let producer = try RawKafka.Producer(bootstrap: broker.bootstrap)
        try producer.send(trigger, topic: input)
        _ = try producer.flush()

        progress("recovery: restarting on \(keys) keys of state")
        let (restart, spawned) = try runPipelineChild(
            mode: .restart, bootstrap: broker.bootstrap, input: input, output: output, name: name, state: state, records: 1,
            keyIdleTimeoutMilliseconds: keyIdleTimeoutMilliseconds)
        let summary = try await OutputReader.read(topic: output, partitions: outputPartitions, bootstrap: broker.bootstrap, logger: logger)
        guard summary.results > 0 else { throw BenchError("recovery: the restarted pipeline published nothing") }
        let report = RecoveryReport(
            keys: keys, partitions: partitions, keyIdleTimeoutMilliseconds: keyIdleTimeoutMilliseconds, build: build, restart: restart, spawnedWallMs: spawned,
            firstOutputMs: summary.firstTimestampMs, stateBytes: stateBytes, outputResults: summary.results,
            expectedResults: keysInPartition(of: 0, keys: keys, partitions: partitions))
        progress("recovery: restart to first output \(Format.seconds(report.restartToFirstOutput)) (running after \(report.restartToRunning.map(Format.seconds) ?? "?")), \(summary.results) results (expected \(report.expectedResults))")
        return report
    }

    /// How many of the keys `0..<keys` (as text, murmur2-partitioned) share `key`'s partition.
    private static func keysInPartition(of key: Int, keys: Int, partitions: Int) -> Int {
        let target = KafkaProducer.partition(forKey: Array(String(key).utf8), partitionCount: partitions)
        var count = 0
        for other in 0..<keys where KafkaProducer.partition(forKey: Array(String(other).utf8), partitionCount: partitions) == target {
            count += 1
        }
        return count
    }

    private static func directorySize(_ path: String) -> Int64 {
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
        return files.reduce(0) { total, file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + file)
            return total + ((attributes?[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }
}
