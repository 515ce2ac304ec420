import Sluice
import SluiceTesting
import Testing

/// When input stops, a caught-up partition that has been idle for the timeout advances its
/// watermark with the wall clock, so the last windows close without an end of input.
@Suite("Idle timeout")
struct EngineIdleTimeoutTests {
    /// Event times near the driver's wall clock: it starts at 100 s.
    private let start = eventSeconds(100)

    private func driver(idleTimeout: Duration? = .seconds(5)) throws -> PipelineTestDriver<EnginePipelines.IDs> {
        try PipelineTestDriver(
            EnginePipelines.ids(.tumbling(.seconds(10)), outOfOrderness: .seconds(1), idleTimeout: idleTimeout), start: start)
    }

    @Test("An idle partition's watermark follows the wall clock after the timeout and closes the last window")
    func idleTimeoutClosesFinalWindow() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 100_000, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 100_900, id: 1))
        #expect(await driver.watermark() == eventMS(99_900))

        // Not idle yet: the watermark stays, however close to the timeout.
        try await driver.advanceWallClock(by: .milliseconds(4_999))
        #expect(await driver.watermark() == eventMS(99_900))

        // Idle: the watermark is the wall clock minus the out-of-orderness bound.
        try await driver.advanceWallClock(by: .milliseconds(1))
        #expect(await driver.watermark() == eventMS(104_000))
        #expect(driver.takeOutputs().isEmpty)

        // It keeps following the wall clock; the window [100 s, 110 s) closes when it reaches 110 s.
        try await driver.advanceWallClock(by: .milliseconds(5_999))
        #expect(await driver.watermark() == eventMS(109_999))
        #expect(driver.takeOutputs().isEmpty)
        try await driver.advanceWallClock(by: .milliseconds(1))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 100_000, end: 110_000, ids: [0, 1])])
    }

    @Test("Each record restarts the idle timeout")
    func recordsResetIdleness() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 100_000, id: 0))
        try await driver.advanceWallClock(by: .seconds(4))
        try await driver.send(json: KeyedReading(key: "a", time: 100_500, id: 1))
        try await driver.advanceWallClock(by: .seconds(4))
        // 8 s since the first record, 4 s since the last: not idle.
        #expect(await driver.watermark() == eventMS(99_500))
        try await driver.advanceWallClock(by: .seconds(1))
        #expect(await driver.watermark() == eventMS(108_000))
    }

    @Test("Idleness is per partition")
    func idlenessPerPartition() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 100_000, id: 0), partition: 0)
        try await driver.advanceWallClock(by: .seconds(3))
        try await driver.send(json: KeyedReading(key: "b", time: 100_000, id: 1), partition: 1)
        try await driver.advanceWallClock(by: .seconds(2))
        #expect(await driver.watermark(partition: 0) == eventMS(104_000))
        #expect(await driver.watermark(partition: 1) == eventMS(99_000))
        try await driver.advanceWallClock(by: .seconds(6))
        // Wall clock 111 s: both idle, both windows closed.
        #expect(await driver.watermark(partition: 1) == eventMS(110_000))
        #expect(driver.takeOutputs().rows.map(\.key) == ["a", "b"])
    }

    @Test("Idleness never moves a watermark backward")
    func idlenessNeverLowersWatermark() async throws {
        let driver = try driver()
        // Event time far ahead of the wall clock.
        try await driver.send(json: KeyedReading(key: "a", time: 500_000, id: 0))
        try await driver.advanceWallClock(by: .seconds(60))
        #expect(await driver.watermark() == eventMS(499_000))
        #expect(driver.takeOutputs().isEmpty)
    }

    @Test("Without an idle timeout the watermark waits for records")
    func noIdleTimeout() async throws {
        let driver = try driver(idleTimeout: nil)
        try await driver.send(json: KeyedReading(key: "a", time: 100_000, id: 0))
        try await driver.advanceWallClock(by: .seconds(3_600))
        #expect(await driver.watermark() == eventMS(99_000))
        #expect(driver.takeOutputs().isEmpty)
        try await driver.endOfInput()
        #expect(driver.takeOutputs().count == 1)
    }

    @Test("After idleness moved the watermark, records older than it are late")
    func idleWatermarkMakesOldRecordsLate() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 100_000, id: 0))
        try await driver.advanceWallClock(by: .seconds(20))
        #expect(driver.takeOutputs().count == 1)
        try await driver.send(json: KeyedReading(key: "a", time: 105_000, id: 1))
        #expect(try driver.lateRecords.map { try KeyedReading(record: $0).id } == [1])
    }
}
