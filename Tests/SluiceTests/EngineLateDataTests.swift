import Sluice
import SluiceTesting
import Testing

/// Late records and undecodable records are never dropped without a trace.
@Suite("Late data and dead letters")
struct EngineLateDataTests {
    @Test("A record whose window has closed reaches the late output unchanged and is counted")
    func lateRecordReachesLateOutput() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        try await driver.send(json: KeyedReading(key: "a", time: 3_000, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 25_000, id: 1))
        let late = KeyedReading(key: "a", time: 5_000, value: 42, id: 2)
        try await driver.send(json: late, key: "a")
        try await driver.send(json: KeyedReading(key: "a", time: 26_000, id: 3))

        #expect(driver.lateRecords.count == 1)
        let record = try #require(driver.lateRecords.first)
        #expect(try KeyedReading(record: record) == late)
        #expect(record.key == Array("a".utf8))
        #expect(record.offset == 2)
        #expect(record.partition == InputPartition(topic: "input", partition: 0))
        let statistics = await driver.statistics()
        #expect(statistics.lateRecords == 1)
        #expect(statistics.recordsConsumed == 4)

        // The closed window's result is unchanged by the late record.
        try await driver.endOfInput()
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 0, end: 10_000, ids: [0]), WindowRow(key: "a", start: 20_000, end: 30_000, ids: [1, 3]),
            ])
    }

    @Test("Allowed lateness keeps a window open past its end, then its records are late")
    func allowedLateness() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10)), allowedLateness: .seconds(2)))
        try await driver.send(json: KeyedReading(key: "a", time: 3_000, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 11_999, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 5_000, id: 2))
        #expect(driver.lateRecords.isEmpty)
        try await driver.send(json: KeyedReading(key: "a", time: 12_000, id: 3))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 2])])
        try await driver.send(json: KeyedReading(key: "a", time: 9_999, id: 4))
        #expect(try driver.lateRecords.map { try KeyedReading(record: $0).id } == [4])
        #expect(await driver.statistics().lateRecords == 1)
    }

    @Test("A hopping record is late only when every one of its windows has closed")
    func hoppingPartiallyLate() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.hopping(size: .seconds(10), slide: .seconds(5))))
        try await driver.send(json: KeyedReading(key: "a", time: 12_000, id: 0))
        // 8 s is in [0 s, 10 s), closed by watermark 12 s, and in [5 s, 15 s), still open.
        try await driver.send(json: KeyedReading(key: "a", time: 8_000, id: 1))
        #expect(driver.lateRecords.isEmpty)
        try await driver.send(json: KeyedReading(key: "a", time: 16_000, id: 2))
        // 4 s is only in windows that have closed.
        try await driver.send(json: KeyedReading(key: "a", time: 4_000, id: 3))
        #expect(try driver.lateRecords.map { try KeyedReading(record: $0).id } == [3])
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 5_000, end: 15_000, ids: [0, 1])])
    }

    @Test("A record too old for any open session is late; one that still fits opens a new session")
    func sessionLateness() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.session(gap: .seconds(10))))
        try await driver.send(json: KeyedReading(key: "a", time: 30_000, id: 0))
        // [15 s, 25 s) ends before the watermark (30 s): late.
        try await driver.send(json: KeyedReading(key: "a", time: 15_000, id: 1))
        // [25 s, 35 s) is still open at watermark 30 s: merges with [30 s, 40 s).
        try await driver.send(json: KeyedReading(key: "a", time: 25_000, id: 2))
        #expect(try driver.lateRecords.map { try KeyedReading(record: $0).id } == [1])
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 25_000, end: 40_000, ids: [0, 2])])
    }

    /// A record is late when all its windows are closed. A session record's window is the session
    /// it joins: if that session is still open, the record belongs to it, even when the record's
    /// own `[time, time + gap)` would already have closed on its own.
    @Test("A record inside a session that is still open joins it instead of being late")
    func recordInsideOpenSessionIsNotLate() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.session(gap: .seconds(10)), outOfOrderness: .seconds(20)))
        for (id, time) in [(0, 0), (1, 9_000), (2, 18_000)] as [(Int, Int64)] {
            try await driver.send(json: KeyedReading(key: "a", time: time, id: id))
        }
        // Watermark 11 s: a's session [0 s, 28 s) is open.
        try await driver.send(json: KeyedReading(key: "b", time: 31_000, id: 3))
        #expect(driver.takeOutputs().isEmpty)
        // [0.5 s, 10.5 s) alone would have closed, but it lies inside the open session.
        try await driver.send(json: KeyedReading(key: "a", time: 500, id: 4))
        #expect(driver.lateRecords.isEmpty)
        try await driver.endOfInput()
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 0, end: 28_000, ids: [0, 1, 2, 4]), WindowRow(key: "b", start: 31_000, end: 41_000, ids: [3]),
            ])
    }

    @Test("Malformed JSON goes to the dead letters with a reason, and processing continues")
    func malformedJSONIsDeadLettered() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.send(Array(#"{"key": "a", "time": 2000, "#.utf8))
        try await driver.send(Array("not json".utf8))
        try await driver.send(json: KeyedReading(key: "a", time: 3_000, id: 1))

        #expect(driver.deadLetters.count == 2)
        #expect(driver.deadLetters.map(\.record.offset) == [1, 2])
        #expect(driver.deadLetters.first?.record.value == Array(#"{"key": "a", "time": 2000, "#.utf8))
        let reasons = driver.deadLetters.map(\.reason)
        #expect(reasons.first?.contains("truncated") == true, "\(reasons)")
        #expect(reasons.last?.contains("not JSON") == true, "\(reasons)")
        let statistics = await driver.statistics()
        #expect(statistics.deadLettered == 2)
        #expect(statistics.recordsConsumed == 4)
        #expect(statistics.recordsProcessed == 2)
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 1])])
    }

    @Test("A record missing a field is dead-lettered with a reason that names the field")
    func missingFieldIsNamed() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        try await driver.send(Array(#"{"key": "a", "value": 1, "id": 7}"#.utf8))
        try await driver.send(Array(#"{"key": "a", "time": "noon", "value": 1, "id": 8}"#.utf8))
        #expect(driver.deadLetters.count == 2)
        let reasons = driver.deadLetters.map(\.reason)
        #expect(reasons.first?.contains("time") == true, "\(reasons)")
        #expect(reasons.last?.contains("time") == true, "\(reasons)")
        #expect(driver.takeOutputs().isEmpty)
        #expect(await driver.liveKeyCount() == 0)
    }

    @Test("Dead letters are not reprocessed after a restart")
    func deadLettersAreCheckpointed() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        try await driver.send(Array("{".utf8))
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.checkpoint()
        try driver.restart()
        driver.rewind(to: 0)
        try await driver.send(Array("{".utf8))
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        #expect(driver.deadLetters.count == 1)
        #expect(await driver.statistics().recordsConsumed == 0)
    }
}
