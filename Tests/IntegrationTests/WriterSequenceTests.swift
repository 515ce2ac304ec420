import Foundation
import Sluice
import SluiceKafka
import SluiceTesting
import Testing

/// A writer (an input partition) that starts again without stored progress, over an output
/// topic that still holds what it published in an earlier life, must not take its new
/// results for those: the recovery scan skips every outbox entry whose sequence number is at
/// or below the highest the writer's name shows in the output. Here the state directory is
/// lost, the next run continues from the group's offsets (`--missing-state accept-loss`) and
/// is killed right after its first checkpoint committed, before it published anything.
@Suite("Writer sequences after lost state", .serialized)
struct WriterSequenceTests {
    static let sensors = 20

    /// Readings of every sensor every 0.5 s for 20 s from `start` (in order, two windows of 10 s).
    static func readings(from start: Double, salt: Int) -> [Reading] {
        var readings: [Reading] = []
        for step in 0..<40 {
            for sensor in 0..<sensors {
                readings.append(Reading(id: sensor, time: start + Double(step) * 0.5, value: (step * 7 + sensor * 3 + salt) % 50))
            }
        }
        return readings
    }

    @Test("results of a writer restarted without state are published, not taken for its earlier ones")
    func freshWriterAfterLostState() async throws {
        let broker = try await DevBrokerProcess(executable: executable("sluice-broker"), topics: [("sensors", 2), ("sums", 2)])
        defer { broker.stop() }
        let bootstrap = broker.bootstrapServers.joined(separator: ",")
        let state = temporaryDirectory("writer-sequence-state")
        let logs = temporaryDirectory("writer-sequence-logs")
        func aggregate(_ name: String, _ extra: [String], environment: [String: String] = [:]) throws -> ChildProcess {
            try ChildProcess(
                executable: executable("iot"),
                arguments: [
                    "aggregate", "--brokers", bootstrap, "--input", "sensors", "--output", "sums", "--window", "10s",
                    "--state-dir", state, "--checkpoint-interval", "200ms", "--out-of-orderness", "1s",
                ] + extra,
                environment: environment, logPath: "\(logs)/\(name).log")
        }

        // First life: publishes the results of the first readings and stops at their end.
        let first = Self.readings(from: 1_700_000_000, salt: 1)
        try await produceReadings(first, to: "sensors", bootstrapServers: broker.bootstrapServers)
        let firstRun = try aggregate("first", ["--exit-at-end"])
        #expect(await firstRun.wait(timeout: .seconds(120)) == .exited(0), "\(firstRun.logTail())")

        // The state directory is lost; the next life starts from the group's offsets without
        // it and dies once its first checkpoint with results is committed, unpublished.
        try FileManager.default.removeItem(atPath: state)
        let second = Self.readings(from: 1_700_000_100, salt: 2)
        try await produceReadings(second, to: "sensors", bootstrapServers: broker.bootstrapServers)
        let killed = try aggregate(
            "second", ["--missing-state", "accept-loss"], environment: ["SLUICE_CRASH_POINT": "after-commit-before-publish"])
        #expect(await killed.wait(timeout: .seconds(120)) == .signaled(SIGKILL), "\(killed.logTail())")

        // Its restart (with the same policy: the killed run may not have checkpointed every
        // partition) finds the committed outbox and publishes it.
        let last = try aggregate("last", ["--missing-state", "accept-loss", "--exit-at-end"])
        #expect(await last.wait(timeout: .seconds(120)) == .exited(0), "\(last.logTail())")

        let output = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: broker.bootstrapServers)
        let report = ExactlyOnceReport(
            expected: groundTruth(first + second, windowMilliseconds: 10_000), found: parseIoTResults(output))
        #expect(report.isExactlyOnce, "\(report) — logs: \(logs)")
        #expect(report.expectedCount == 4 * Self.sensors)
    }
}
