import Sluice
import SluiceTesting
import Testing

@Suite("Event time")
struct EngineEventTimeTests {
    @Test("Seconds convert to milliseconds rounding toward negative infinity")
    func secondsToMilliseconds() {
        #expect(EventTime(secondsSinceEpoch: 1.2345).millisecondsSinceEpoch == 1_234)
        #expect(EventTime(secondsSinceEpoch: 1.9999).millisecondsSinceEpoch == 1_999)
        #expect(EventTime(secondsSinceEpoch: 0).millisecondsSinceEpoch == 0)
        #expect(EventTime(secondsSinceEpoch: -0.0005).millisecondsSinceEpoch == -1)
        #expect(EventTime(secondsSinceEpoch: -1.5).millisecondsSinceEpoch == -1_500)
        #expect(EventTime(secondsSinceEpoch: 1_700_000_000.25).millisecondsSinceEpoch == 1_700_000_000_250)
    }

    @Test("Milliseconds convert back to seconds")
    func millisecondsToSeconds() {
        #expect(eventMS(1_500).secondsSinceEpoch == 1.5)
        #expect(eventMS(-250).secondsSinceEpoch == -0.25)
        #expect(EventTime(secondsSinceEpoch: eventMS(123_456).secondsSinceEpoch) == eventMS(123_456))
    }

    @Test("Adding and subtracting durations moves by whole milliseconds")
    func arithmetic() {
        #expect(eventSeconds(10) + .milliseconds(1_500) == eventMS(11_500))
        #expect(eventSeconds(10) - .seconds(11) == eventMS(-1_000))
        #expect(eventSeconds(1) + .microseconds(999) == eventSeconds(1))
        #expect(eventSeconds(1) + .seconds(-0.5) == eventMS(500))
    }

    @Test("Durations convert to whole milliseconds rounding toward zero")
    func wholeMilliseconds() {
        #expect(Duration.seconds(3).wholeMilliseconds == 3_000)
        #expect(Duration.microseconds(1_999).wholeMilliseconds == 1)
        #expect(Duration.microseconds(-1_999).wholeMilliseconds == -1)
        #expect(Duration.seconds(-1.5).wholeMilliseconds == -1_500)
        #expect(Duration.nanoseconds(999_999).wholeMilliseconds == 0)
    }

    @Test("Event times order by instant, and the distant past and future bound every real time")
    func ordering() {
        #expect(eventMS(-1) < eventMS(0))
        #expect(EventTime.distantPast < eventMS(-100_000_000_000_000))
        #expect(EventTime.distantFuture > eventMS(100_000_000_000_000))
        // There is room to add a lateness to the distant future without overflow.
        #expect(EventTime.distantFuture + .seconds(86_400 * 365) > EventTime.distantFuture)
        #expect(eventMS(1_500).description == "1.5s")
    }

    // MARK: Where event time comes from

    private struct Fractional: Codable, Sendable {
        var key: String
        var seconds: Double
    }

    @Test("Event time in fractional seconds from the input truncates to the millisecond before windowing")
    func fractionalSecondsFromInput() async throws {
        let pipeline = Pipeline("seconds")
            .source(MemorySource([]), decoding: Fractional.self)
            .eventTime { (input: Fractional) -> Double in input.seconds }
            .watermarks(outOfOrderness: .seconds(100), idleTimeout: nil)
            .key(by: \.key)
            .window(.tumbling(.seconds(10)))
            .count()
            .sink(MemorySink { _ in })
        let driver = try PipelineTestDriver(pipeline)
        for seconds in [9.9999, 10.0, -0.0001] { try await driver.send(json: Fractional(key: "a", seconds: seconds)) }
        try await driver.endOfInput()
        let windows = driver.takeOutputs().map(\.window).sorted()
        #expect(windows == [windowMS(-10_000, 0), windowMS(0, 10_000), windowMS(10_000, 20_000)])
    }

    private struct Untimed: Codable, Sendable {
        var key: String
    }

    private func untimed(_ configure: (SourceStage<Untimed>) -> SourceStage<Untimed>) -> PipelineDefinition<
        WindowAggregator<String, Untimed, Int>
    > {
        configure(Pipeline("untimed").source(MemorySource([]), decoding: Untimed.self))
            .watermarks(outOfOrderness: .zero, idleTimeout: nil)
            .key(by: \.key)
            .window(.tumbling(.seconds(10)))
            .count()
            .sink(MemorySink { _ in })
    }

    @Test("By default event time is the record timestamp, and the wall clock for records without one")
    func recordTimestamp() async throws {
        let driver = try PipelineTestDriver(untimed { $0 }, start: eventSeconds(1_000))
        try await driver.send(json: Untimed(key: "a"), timestamp: eventSeconds(25))
        #expect(await driver.watermark() == eventSeconds(25))
        try await driver.send(json: Untimed(key: "a"), timestamp: eventSeconds(21))
        try await driver.send(json: Untimed(key: "a"))
        #expect(await driver.watermark() == eventSeconds(1_000))
        try await driver.endOfInput()
        let results = driver.takeOutputs().sorted { $0.window < $1.window }
        #expect(results.map(\.window) == [windowMS(20_000, 30_000), windowMS(1_000_000, 1_010_000)])
        #expect(results.map(\.value) == [2, 1])
    }

    @Test("With processing time, event time is the wall clock when the record is processed")
    func processingTime() async throws {
        let driver = try PipelineTestDriver(untimed { $0.processingTime() }, start: eventSeconds(100))
        try await driver.send(json: Untimed(key: "a"), timestamp: eventSeconds(5))
        try await driver.advanceWallClock(by: .seconds(9))
        try await driver.send(json: Untimed(key: "a"))
        try await driver.advanceWallClock(by: .seconds(1))
        try await driver.send(json: Untimed(key: "a"))
        // The third record at 110 s closed the window [100 s, 110 s).
        let closed = driver.takeOutputs()
        #expect(closed.map(\.window) == [windowMS(100_000, 110_000)])
        #expect(closed.map(\.value) == [2])
    }
}
