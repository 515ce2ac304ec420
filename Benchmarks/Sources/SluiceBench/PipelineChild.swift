import ArgumentParser
import Foundation
import Logging
import Metrics
import Sluice
import SluiceKafka

/// What one pipeline child process measured; printed as one `RESULT {json}` line.
struct ChildResult: Codable, Sendable {
    var mode: String
    var processStartWallMs: Int64
    var runCalledWallMs: Int64
    var runningWallMs: Int64?
    /// When the job took its first reading's event time (just after decoding it).
    var firstReadingWallMs: Int64?
    var inputConsumedWallMs: Int64?
    var endWallMs: Int64
    var cpuSeconds: Double
    var peakResidentBytes: Int64
    /// Peaks of anonymous (`RssAnon`: heap, stacks) and file-backed (`RssFile`, with `RssShmem`: LMDB's mapped data file) memory from `/proc/self/statm`, sampled every 10 ms.
    var peakAnonymousBytes: Int64?
    var peakFileBytes: Int64?
    var checkpointPausesNs: [Int64]
    var checkpointKeys: [Int64]
    var sampledPausesNs: [Int64]
    var checkpoints: UInt64
    var recordsConsumed: UInt64
    var lateRecords: UInt64
    var deadLettered: UInt64
    var resultsEmitted: UInt64
    var keysRestored: UInt64
    var maxLiveKeys: Int
    var recordsPublished: UInt64
}

/// Runs the IoT job in a process of its own, so its CPU time and peak memory are its own.
extension IoTJob.Decoding: ExpressibleByArgument {}

struct PipelineChildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-child", abstract: "Internal: run the IoT job once and print its measurements.",
        shouldDisplay: false)

    enum Mode: String, ExpressibleByArgument, Sendable {
        /// Process the whole topic with stopsAtEndOfInput, closing every window.
        case throughput
        /// Process `records` records, then stop with windows left open (state for a restart).
        case build
        /// Restart on existing state; stop once the first new result is published.
        case restart
    }

    @Option var mode: Mode
    @Option var bootstrap: String
    @Option var input: String
    @Option var output: String
    @Option var name: String
    @Option var state: String
    @Option var records: Int
    @Option var keyIdleTimeoutMs: Int?
    @Option var decoding: IoTJob.Decoding = .codable

    func run() async throws {
        let processStart = Measure.wallMilliseconds()
        let metrics = CapturedMetrics()
        var logger = Logger(label: "sluice.bench.pipeline")
        logger.logLevel = .warning

        var configuration = PipelineConfiguration(
            stateDirectory: state, kafka: KafkaConfiguration(bootstrapServers: bootstrap.split(separator: ",").map(String.init)))
        configuration.checkpointInterval = .seconds(1)
        for pair in (ProcessInfo.processInfo.environment["SLUICE_BENCH_KAFKA_PROPERTIES"] ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { configuration.kafka?.properties[parts[0]] = parts[1] }
        }
        configuration.guarantee = .exactlyOnce
        configuration.stopsAtEndOfInput = mode == .throughput
        configuration.metricsFactory = metrics
        if let keyIdleTimeoutMs { configuration.keyIdleTimeout = .milliseconds(keyIdleTimeoutMs) }
        let service = PipelineService(
            IoTJob.definition(name: name, input: input, output: output, decoding: decoding), configuration: configuration, logger: logger)

        let runCalled = Measure.wallMilliseconds()
        let sampler = Task { () -> Sample in
            var sample = Sample()
            var lastCheckpoints: UInt64 = 0
            while !Task.isCancelled {
                let status = service.status
                let now = Measure.wallMilliseconds()
                if status.isRunning && sample.runningWallMs == nil { sample.runningWallMs = now }
                if status.checkpointsCompleted != lastCheckpoints {
                    lastCheckpoints = status.checkpointsCompleted
                    sample.pausesNs.append(Int64(status.lastCheckpointPause.components.seconds) * 1_000_000_000
                        + status.lastCheckpointPause.components.attoseconds / 1_000_000_000)
                }
                sample.maxLiveKeys = max(sample.maxLiveKeys, status.liveKeys)
                let resident = Measure.residentSplit()
                sample.peakAnonymousBytes = max(sample.peakAnonymousBytes, resident.anonymous)
                sample.peakFileBytes = max(sample.peakFileBytes, resident.shared)
                switch mode {
                case .throughput:
                    // Not a stop: only when the last reading was read, to tell the processing from the tail.
                    if status.router.recordsConsumed >= UInt64(records) && sample.inputConsumedWallMs == nil {
                        sample.inputConsumedWallMs = now
                    }
                case .build:
                    if status.router.recordsConsumed >= UInt64(records) && sample.inputConsumedWallMs == nil {
                        sample.inputConsumedWallMs = now
                        service.stop()
                    }
                case .restart:
                    if status.recordsPublished > 0 && sample.inputConsumedWallMs == nil {
                        sample.inputConsumedWallMs = now
                        service.stop()
                    }
                }
                try? await Task.sleep(for: .milliseconds(sample.runningWallMs == nil ? 2 : 10))
            }
            return sample
        }
        try await service.run()
        let end = Measure.wallMilliseconds()
        sampler.cancel()
        let sample = await sampler.value
        let status = service.status
        let captured = metrics.values.withLock { $0 }
        let result = ChildResult(
            mode: mode.rawValue, processStartWallMs: processStart, runCalledWallMs: runCalled, runningWallMs: sample.runningWallMs,
            firstReadingWallMs: { let ms = IoTJob.firstReadingWallMs.load(ordering: .relaxed); return ms == 0 ? nil : ms }(),
            inputConsumedWallMs: sample.inputConsumedWallMs, endWallMs: end,
            cpuSeconds: Measure.cpuSeconds(), peakResidentBytes: Measure.peakResidentBytes(),
            peakAnonymousBytes: sample.peakAnonymousBytes, peakFileBytes: sample.peakFileBytes,
            checkpointPausesNs: captured.checkpointPauses, checkpointKeys: captured.checkpointKeys, sampledPausesNs: sample.pausesNs,
            checkpoints: status.checkpointsCompleted, recordsConsumed: status.router.recordsConsumed,
            lateRecords: status.router.lateRecords, deadLettered: status.router.deadLettered,
            resultsEmitted: status.router.resultsEmitted, keysRestored: status.router.keysRestored,
            maxLiveKeys: max(sample.maxLiveKeys, status.liveKeys), recordsPublished: status.recordsPublished)
        let json = try JSONEncoder().encode(result)
        print("RESULT " + String(decoding: json, as: UTF8.self))
    }

    struct Sample: Sendable {
        var runningWallMs: Int64?
        var inputConsumedWallMs: Int64?
        var pausesNs: [Int64] = []
        var maxLiveKeys = 0
        var peakAnonymousBytes: Int64 = 0
        var peakFileBytes: Int64 = 0
    }
}

/// Starts `sluice-bench pipeline-child …` and returns its result and when it was spawned.
func runPipelineChild(
    mode: PipelineChildCommand.Mode, bootstrap: String, input: String, output: String, name: String, state: String, records: Int,
    keyIdleTimeoutMilliseconds: Int? = nil, decoding: IoTJob.Decoding = .codable
) throws -> (result: ChildResult, spawnedWallMs: Int64) {
    let process = Process()
    // A profiler to run the child under, e.g. `SLUICE_BENCH_CHILD_WRAPPER="heaptrack -o /tmp/child"`.
    let wrapper = ProcessInfo.processInfo.environment["SLUICE_BENCH_CHILD_WRAPPER"].map { $0.split(separator: " ").map(String.init) } ?? []
    process.executableURL = URL(fileURLWithPath: wrapper.isEmpty ? Measure.executablePath() : "/usr/bin/env")
    process.arguments = (wrapper.isEmpty ? [] : wrapper + [Measure.executablePath()]) + [
        "pipeline-child", "--mode", mode.rawValue, "--bootstrap", bootstrap, "--input", input, "--output", output,
        "--name", name, "--state", state, "--records", String(records), "--decoding", decoding.rawValue,
    ] + (keyIdleTimeoutMilliseconds.map { ["--key-idle-timeout-ms", String($0)] } ?? [])
    let stdout = Pipe()
    process.standardOutput = stdout
    process.standardError = FileHandle.standardError
    let spawned = Measure.wallMilliseconds()
    try process.run()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0,
        let line = text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") })
    else {
        throw BenchError("pipeline child (\(mode.rawValue)) failed with status \(process.terminationStatus): \(text.suffix(2_000))")
    }
    let result = try JSONDecoder().decode(ChildResult.self, from: Data(line.dropFirst("RESULT ".count).utf8))
    return (result, spawned)
}
