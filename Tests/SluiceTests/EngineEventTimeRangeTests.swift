import Sluice
import SluiceTesting
import Testing

/// Event times a record may not carry: window bounds, timers and watermarks computed from them
/// would overflow (stopping the process, at every restart) or close every window for good.
@Suite("Event times outside the supported range")
struct EngineEventTimeRangeTests {
    @Test("records with extreme event times are dead-lettered with a reason; the rest is processed and windows close as usual")
    func extremeTimesAreDeadLettered() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(60)), outOfOrderness: .seconds(1)))
        let extremes: [Int64] = [.max, .min, .max / 2, .min / 2]
        for (id, time) in extremes.enumerated() {
            try await driver.send(json: KeyedReading(key: "a", time: time, id: id))
        }
        try await driver.send(json: KeyedReading(key: "a", time: 120_000, id: 10))
        #expect(driver.deadLetters.count == extremes.count)
        for (record, reason) in driver.deadLetters {
            let reading = try KeyedReading(record: record)
            #expect(reason.contains("event time \(reading.time) ms is outside the range"), "\(reason)")
        }
        // The watermark did not jump to the end of time: the ordinary record's window is open.
        #expect(await driver.watermark() == EventTime(millisecondsSinceEpoch: 119_000))
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 120_000, end: 180_000, ids: [10])])
    }

    @Test("the latest supported time is accepted and its window closes at the end of the input, even with lateness of forever")
    func latestTimeWindowCloses() async throws {
        let driver = try PipelineTestDriver(
            EnginePipelines.ids(.tumbling(.seconds(60)), allowedLateness: .seconds(Int64.max), outOfOrderness: .seconds(1)))
        let latest = EventTime.latestRecordTime.millisecondsSinceEpoch
        try await driver.send(json: KeyedReading(key: "a", time: latest, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: latest + 1, id: 2))
        #expect(driver.deadLetters.count == 1)
        #expect(driver.deadLetters.first.map { try? KeyedReading(record: $0.record).id } == 2)
        try await driver.endOfInput()
        let start = latest / 60_000 * 60_000
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: start, end: start + 60_000, ids: [1])])
    }

    @Test("seconds that are not a number, infinite or too large give a time outside the range, not a crash")
    func secondsOutsideTheRange() {
        for seconds in [Double.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e15] {
            #expect(!EventTime(secondsSinceEpoch: seconds).isSupportedRecordTime, "\(seconds)")
        }
        #expect(EventTime(secondsSinceEpoch: 1_700_000_000.25) == EventTime(millisecondsSinceEpoch: 1_700_000_000_250))
        #expect(EventTime(secondsSinceEpoch: -0.0005) == EventTime(millisecondsSinceEpoch: -1))
        #expect(EventTime(secondsSinceEpoch: 1_700_000_000.25).isSupportedRecordTime)
    }
}
