import Sluice
import SluiceTesting
import Testing

/// The test driver itself: offsets, outputs, watermarks, checkpoints, restarts and rewinds.
@Suite("Pipeline test driver")
struct TestDriverTests {
    private func driver(store: any CheckpointStore = InMemoryCheckpointStore()) throws -> PipelineTestDriver<EnginePipelines.IDs> {
        try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10)), outOfOrderness: .seconds(1)), store: store)
    }

    @Test("Records get consecutive offsets per partition")
    func offsetsPerPartition() async throws {
        let driver = try driver()
        #expect(driver.nextOffset() == 0)
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 1))
        try await driver.send(json: KeyedReading(key: "b", time: 0, id: 2), partition: 2)
        #expect(driver.nextOffset() == 2)
        #expect(driver.nextOffset(partition: 1) == 0)
        #expect(driver.nextOffset(partition: 2) == 1)
        // A batch with explicit offsets moves the counter past them.
        try await driver.send([
            SourceRecord(partition: InputPartition(topic: "input", partition: 2), offset: 10, value: KeyedReading(key: "b", time: 0, id: 3).json)
        ])
        #expect(driver.nextOffset(partition: 2) == 11)
    }

    @Test("takeOutputs hands over each result once")
    func takeOutputsForgets() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0))
        try await driver.endOfInput()
        #expect(driver.takeOutputs().count == 1)
        #expect(driver.takeOutputs().isEmpty)
    }

    @Test("Each partition has its own watermark, unset until its first record")
    func watermarksPerPartition() async throws {
        let driver = try driver()
        #expect(await driver.watermark() == nil)
        try await driver.send(json: KeyedReading(key: "a", time: 100_000, id: 0), partition: 0)
        #expect(await driver.watermark(partition: 0) == eventMS(99_000))
        #expect(await driver.watermark(partition: 1) == nil)
        // Old for partition 0, but partition 1 has seen nothing: not late.
        try await driver.send(json: KeyedReading(key: "b", time: 5_000, id: 1), partition: 1)
        #expect(driver.lateRecords.isEmpty)
        #expect(await driver.watermark(partition: 1) == eventMS(4_000))
        #expect(driver.takeOutputs().isEmpty)
        try await driver.endOfInput()
        #expect(await driver.watermark(partition: 1) == EventTime.distantFuture)
        #expect(driver.takeOutputs().rows.map(\.key) == ["a", "b"])
    }

    @Test("Checkpoint ids increase, also across restarts")
    func checkpointIDs() async throws {
        let driver = try driver()
        let first = try await driver.checkpoint()
        let second = try await driver.checkpoint()
        #expect(second == first + 1)
        try driver.restart()
        #expect(try await driver.checkpoint() == second + 1)
    }

    @Test("After a restart, rewinding and resending skips the records the checkpoint covers")
    func rewindReplaysOnlyUncheckpointedRecords() async throws {
        let driver = try driver()
        let readings = (0..<6).map { KeyedReading(key: "a", time: Int64($0) * 1_000, id: $0) }
        for reading in readings[..<3] { try await driver.send(json: reading) }
        try await driver.checkpoint()
        for reading in readings[3...] { try await driver.send(json: reading) }
        try driver.restart()
        #expect(driver.nextOffset() == 3)

        driver.rewind(to: 0)
        #expect(driver.nextOffset() == 0)
        for reading in readings { try await driver.send(json: reading) }
        let statistics = await driver.statistics()
        #expect(statistics.recordsConsumed == 3)
        #expect(statistics.keysRestored == 1)
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: Array(0..<6))])
    }

    @Test("A restart forgets everything after the checkpoint; replaying it recomputes the same results")
    func restartForgetsUncheckpointedWork() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.checkpoint()
        try await driver.send(json: KeyedReading(key: "a", time: 2_000, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 12_000, id: 2))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 1])])
        try driver.restart()
        try await driver.send(json: KeyedReading(key: "a", time: 2_500, id: 3))
        // The checkpointed watermark (0 s) was restored, then raised by the record.
        #expect(await driver.watermark() == eventMS(1_500))
        try await driver.send(json: KeyedReading(key: "a", time: 12_000, id: 2))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 3])])
    }

    @Test("The end of input after a restart closes the windows restored from the checkpoint")
    func endOfInputAfterRestart() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0), partition: 0)
        try await driver.send(json: KeyedReading(key: "b", time: 1_000, id: 1), partition: 1)
        try await driver.checkpoint()
        try driver.restart()
        // Only partition 1 gets input after the restart.
        try await driver.send(json: KeyedReading(key: "b", time: 2_000, id: 2), partition: 1)
        try await driver.endOfInput()
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 0, end: 10_000, ids: [0]), WindowRow(key: "b", start: 0, end: 10_000, ids: [1, 2]),
            ])
    }

    @Test("A new driver on the same store resumes from its last checkpoint")
    func freshDriverResumesFromStore() async throws {
        let store = InMemoryCheckpointStore()
        let first = try driver(store: store)
        try await first.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await first.send(json: KeyedReading(key: "a", time: 2_000, id: 1))
        try await first.checkpoint()

        let second = try driver(store: store)
        #expect(second.nextOffset() == 2)
        try await second.send(json: KeyedReading(key: "a", time: 3_000, id: 2))
        #expect(await second.watermark() == eventMS(2_000))
        try await second.endOfInput()
        #expect(second.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 1, 2])])
    }

    @Test("Key actors are created on first use and counted per partition")
    func liveKeys() async throws {
        let driver = try driver()
        #expect(await driver.liveKeyCount() == 0)
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0), partition: 0)
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 1), partition: 1)
        try await driver.send(json: KeyedReading(key: "b", time: 0, id: 2), partition: 1)
        try await driver.send(json: KeyedReading(key: "b", time: 0, id: 3), partition: 1)
        #expect(await driver.liveKeyCount() == 3)
    }
}

/// Where the driver must behave as a run over Kafka does.
@Suite("Pipeline test driver, as the engine")
struct TestDriverAsEngineTests {
    @Test("records above the size limit and keys longer than a store keeps are dead-lettered, as in a run")
    func deadLettersAsInARun() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))), maxRecordBytes: 200)
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0))
        try await driver.send(json: KeyedReading(key: String(repeating: "x", count: 300), time: 0, id: 1))
        try await driver.send(json: KeyedReading(key: String(repeating: "y", count: 150), time: 0, id: 2))
        #expect(driver.deadLetters.map { $0.reason.contains("exceeds the limit of 200 bytes") } == [true])

        let defaults = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        try await defaults.send(json: KeyedReading(key: String(repeating: "z", count: 600), time: 0, id: 3))
        try await defaults.send(Array(repeating: 0x20, count: PipelineConfiguration.defaultMaxRecordBytes + 1))
        #expect(defaults.deadLetters.count == 2)
        #expect(defaults.deadLetters.first?.reason.contains("longer than the 498") == true, "\(defaults.deadLetters)")
        #expect(defaults.deadLetters.last?.reason.contains("exceeds the limit") == true)
    }

    @Test("after a restart, wall-clock time counts toward a restored partition's idle timeout")
    func idleTimeoutAfterRestart() async throws {
        let driver = try PipelineTestDriver(
            EnginePipelines.ids(.tumbling(.seconds(10)), outOfOrderness: .seconds(1), idleTimeout: .seconds(5)),
            start: EventTime(millisecondsSinceEpoch: 1_000))
        try await driver.send(json: KeyedReading(key: "a", time: 2_000, id: 0))
        try await driver.checkpoint()
        try driver.restart()
        // The wall clock passes the window's end plus the out-of-orderness, long after the idle timeout.
        try await driver.advanceWallClock(by: .seconds(20))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0])])
    }
}
