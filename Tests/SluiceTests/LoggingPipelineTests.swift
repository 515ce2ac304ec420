import Foundation
import Logging
import Sluice
import Synchronization
import Testing

/// What the engine logs when it runs: lifecycle events at `info` with `sluice.*` metadata,
/// nothing above `info` on a healthy run, and no line per record.
///
/// The logs are captured by a handler given to the `Logger` the pipeline receives; the
/// global `LoggingSystem` is never bootstrapped.
@Suite("Logging of a running pipeline")
struct LoggingPipelineTests {
    @Test("start and stop are logged at info with the checkpoint, recovery time and pipeline name")
    func lifecycleLines() async throws {
        let scratch = EngineScratchDirectory()
        let logs = CapturedLogs()
        let readings = ObservedFixture.memoryReadings(count: 200, sensors: 4)
        let first = PipelineService(
            ObservedFixture.memoryPipeline(readings.map(\.json), name: "logged"),
            configuration: ObservedFixture.memoryConfiguration(scratch.path), logger: logs.logger())
        try await first.run()
        let finalCheckpoint = first.status.lastCheckpointID
        #expect(finalCheckpoint >= 1)

        let recovered = try #require(logs.single("Recovered from checkpoint"))
        #expect(recovered.level == .info)
        #expect(recovered.metadata["sluice.checkpoint"] == "0", "a fresh state directory recovers from checkpoint 0")
        #expect(Int(recovered.metadata["sluice.recovery_ms"] ?? "") != nil, "\(recovered.metadata)")
        #expect(recovered.metadata["sluice.partitions"] != nil)

        let stopped = try #require(logs.single("Pipeline stopped cleanly"))
        #expect(stopped.level == .info)
        #expect(stopped.metadata["sluice.checkpoint"] == "\(finalCheckpoint)")

        let endOfInput = try #require(logs.single("Reached the end of the input; closing every window"))
        #expect(endOfInput.level == .info)

        // Every line of the engine names the pipeline, so one process can run several.
        for entry in logs.all {
            #expect(entry.metadata["sluice.pipeline"] == "logged", "\(entry)")
        }
        // Lifecycle order: recovered, end of input, stopped.
        let messages = logs.all.map(\.message)
        let order = ["Recovered from checkpoint", "Reached the end of the input; closing every window", "Pipeline stopped cleanly"]
            .compactMap { messages.firstIndex(of: $0) }
        #expect(order == order.sorted() && order.count == 3, "\(messages)")

        // A restart on the same state directory names the checkpoint it recovered from.
        let restartLogs = CapturedLogs()
        let second = PipelineService(
            ObservedFixture.memoryPipeline([], name: "logged"),
            configuration: ObservedFixture.memoryConfiguration(scratch.path), logger: restartLogs.logger())
        try await second.run()
        let again = try #require(restartLogs.single("Recovered from checkpoint"))
        #expect(again.level == .info)
        #expect(again.metadata["sluice.checkpoint"] == "\(finalCheckpoint)", "\(again.metadata)")
        #expect(again.metadata["sluice.partitions"] == "[\"\(ObservedFixture.memoryPartition)\"]", "\(again.metadata)")
    }

    @Test("the number of log lines does not grow with the number of records, at any level")
    func noLinePerRecord() async throws {
        func linesLogged(records: Int, level: Logger.Level) async throws -> [CapturedLogs.Entry] {
            let scratch = EngineScratchDirectory()
            let logs = CapturedLogs()
            var configuration = ObservedFixture.memoryConfiguration(scratch.path)
            // Checkpoints are timed, not counted; one per run keeps the comparison about records.
            configuration.checkpointInterval = .seconds(3600)
            let readings = ObservedFixture.memoryReadings(count: records, sensors: 10)
            let service = PipelineService(
                ObservedFixture.memoryPipeline(readings.map(\.json), name: "quiet"), configuration: configuration,
                logger: logs.logger(level: level))
            try await service.run()
            #expect(service.status.router.recordsConsumed == UInt64(records))
            return logs.all
        }
        for level in [Logger.Level.info, .trace] {
            let few = try await linesLogged(records: 100, level: level)
            let many = try await linesLogged(records: 5_000, level: level)
            #expect(!few.isEmpty, "the lifecycle is logged at \(level)")
            #expect(
                many.count == few.count,
                "at \(level): \(few.count) lines for 100 records, \(many.count) for 5,000: \(Dictionary(grouping: many.map(\.message), by: { $0 }).mapValues(\.count))"
            )
        }
    }

    @Test("a healthy run with late records and dead letters logs nothing above info, and dead letters at most at debug")
    func nothingAboveInfo() async throws {
        let scratch = EngineScratchDirectory()
        let logs = CapturedLogs()
        var values = ObservedFixture.memoryReadings(count: 300, sensors: 3).map(\.json)
        values.append(Array("not json".utf8))
        values.append(ObservedReading(sensor: 0, time: ObservedFixture.start, value: 1).json)  // long closed: late
        let service = PipelineService(
            ObservedFixture.memoryPipeline(values, name: "healthy"),
            configuration: ObservedFixture.memoryConfiguration(scratch.path), logger: logs.logger(level: .trace))
        try await service.run()
        #expect(service.status.router.deadLettered == 1)
        #expect(service.status.router.lateRecords == 1)
        let loud = logs.all.filter { $0.level > .info }
        #expect(loud.isEmpty, "\(loud)")
        let deadLetterLines = logs.all.filter { $0.metadata["sluice.offset"] != nil }
        #expect(deadLetterLines.allSatisfy { $0.level <= .debug }, "\(deadLetterLines)")
    }
}

// MARK: - Capturing logs

/// Everything loggers made by ``logger(level:)`` were asked to log, in order.
final class CapturedLogs: Sendable {
    struct Entry: Sendable, CustomStringConvertible {
        var level: Logger.Level
        var message: String
        /// The logger's metadata merged with the line's; values as text.
        var metadata: [String: String]

        var description: String { "[\(level)] \(message) \(metadata)" }
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    /// The one line with `message`, or `nil` when there is none or more than one.
    func single(_ message: String) -> Entry? {
        let matching = all.filter { $0.message == message }
        return matching.count == 1 ? matching[0] : nil
    }

    fileprivate func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    /// A logger that records into this store everything at `level` or above.
    func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "sluice.tests") { _ in CapturingLogHandler(logs: self) }
        logger.logLevel = level
        return logger
    }
}

/// A `LogHandler` that appends to a ``CapturedLogs``.
struct CapturingLogHandler: LogHandler {
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, line in line }
        logs.append(
            CapturedLogs.Entry(
                level: event.level, message: event.message.description, metadata: merged.mapValues(\.description)))
    }
}
