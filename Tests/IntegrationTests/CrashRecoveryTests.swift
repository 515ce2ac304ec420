import Foundation
import Sluice
import SluiceKafka
import SluiceTesting
import Synchronization
import Testing

/// The exactly-once claim, checked from outside: `iot aggregate` is killed with
/// SIGKILL at random moments and at every crash point, restarted each time, while
/// input keeps arriving (with malformed records) and the broker goes down once;
/// at the end a plain consumer must find each (sensor, window) result exactly once.
@Suite("Crash recovery, multi-process", .serialized)
struct CrashRecoveryTests {
    static let sensors = 200
    static let readingsPerSensorPerChunk = 30

    /// Readings of chunk `index`: event time moves on by 15 s per chunk, in order within each sensor.
    static func chunk(_ index: Int) -> [Reading] {
        var readings: [Reading] = []
        let base = 1_700_000_000.0 + Double(index) * 15
        for step in 0..<readingsPerSensorPerChunk {
            for sensor in 0..<sensors {
                let value = (index * 31 + step * 7 + sensor * 3) % 100
                readings.append(Reading(id: sensor, time: base + Double(step) * 0.5 + Double(sensor % 4) * 0.1, value: value))
            }
        }
        return readings
    }

    @Test("every result exactly once after 10 random kills, every crash point and a broker outage")
    func killAndRestart() async throws {
        let broker = try await DevBrokerProcess(
            executable: executable("sluice-broker"),
            topics: [("sensors", 8), ("sums", 4), ("crash-dead-letters", 2), ("crash-late", 2)])
        defer { broker.stop() }
        let bootstrap = broker.bootstrapServers
        let stateDirectory = temporaryDirectory("crash")
        let produced = Mutex<(readings: [Reading], malformed: Int)>(([], 0))
        let outage = Mutex<Task<Void, any Error>?>(nil)

        var configuration = CrashRecoveryHarness.Configuration(
            executable: executable("iot"),
            arguments: [
                "aggregate", "--brokers", bootstrap.joined(separator: ","), "--input", "sensors", "--output", "sums",
                "--window", "10s", "--state-dir", stateDirectory, "--checkpoint-interval", "200ms",
                "--out-of-orderness", "1s", "--idle-timeout", "600m", "--dead-letter", "crash-dead-letters", "--late", "crash-late",
            ])
        configuration.randomKills = 10
        configuration.killAfter = .milliseconds(300)...(.milliseconds(2500))
        configuration.finalRunExtraArguments = ["--exit-at-end"]
        configuration.finalRunTimeout = .seconds(120)
        configuration.beforeRun = { index, kind in
            // Let a previous outage end before producing more.
            if let previous = outage.withLock({ $0 }) { try await previous.value }
            let readings = Self.chunk(index)
            let malformed: [[UInt8]] = [Array("not json \(index)".utf8), Array("{\"id\": \"seven\", \"time\": 1, \"value\": 2}".utf8)]
            try await produceReadings(readings, malformed: malformed, to: "sensors", bootstrapServers: bootstrap)
            produced.withLock {
                $0.readings += readings
                $0.malformed += malformed.count
            }
            if index == 3 {
                // The broker goes away while the pipeline runs, and comes back.
                outage.withLock {
                    $0 = Task {
                        try await Task.sleep(for: .milliseconds(300))
                        _ = try await broker.control("down 1")
                        try await Task.sleep(for: .seconds(2))
                        _ = try await broker.control("up 1")
                    }
                }
            }
        }
        let report = try await CrashRecoveryHarness(configuration).run()
        if let previous = outage.withLock({ $0 }) { try await previous.value }

        #expect(report.finalTermination == .exited(0), "\(report)")
        #expect(report.killedWhileRunning == 10, "\(report)")
        #expect(Set(report.crashPointsReached) == Set(CrashPoint.allCases), "\(report)")

        let (readings, malformedCount) = produced.withLock { ($0.readings, $0.malformed) }
        let output = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: bootstrap)
        let found = parseIoTResults(output)
        let exactlyOnce = ExactlyOnceReport(
            expected: groundTruth(readings, windowMilliseconds: 10_000), found: found, unparsed: output.count - found.count)
        #expect(exactlyOnce.isExactlyOnce, "\(exactlyOnce) — log: \(report.logPath)")
        #expect(exactlyOnce.expectedCount > 1_000)

        let deadLetters = try await KafkaTopicReader.readAll(topic: "crash-dead-letters", bootstrapServers: bootstrap)
        let sources = deadLetters.compactMap { $0.header("sluice.source").map { String(decoding: $0, as: UTF8.self) } }
        #expect(deadLetters.count == malformedCount)
        #expect(Set(sources).count == malformedCount, "each malformed record is dead-lettered exactly once")
        let late = try await KafkaTopicReader.readAll(topic: "crash-late", bootstrapServers: bootstrap)
        #expect(late.isEmpty)
    }
}
