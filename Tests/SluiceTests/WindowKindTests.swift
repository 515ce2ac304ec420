import Sluice
import SluiceTesting
import Testing

@Suite("WindowKind validation")
struct WindowKindTests {
    @Test(
        "Valid window kinds pass validation",
        arguments: [
            WindowKind.tumbling(.milliseconds(1)), .tumbling(.seconds(10)), .hopping(size: .seconds(10), slide: .seconds(10)),
            .hopping(size: .seconds(10), slide: .seconds(3)), .hopping(size: .milliseconds(1), slide: .milliseconds(1)),
            .session(gap: .milliseconds(1)), .session(gap: .seconds(30)),
        ])
    func validKinds(kind: WindowKind) throws {
        try kind.validate()
    }

    @Test(
        "Invalid window kinds throw an invalid-configuration error that names the problem",
        arguments: [
            (WindowKind.tumbling(.zero), "tumbling"),
            (.tumbling(.microseconds(999)), "tumbling"),
            (.tumbling(.seconds(-1)), "tumbling"),
            (.hopping(size: .seconds(10), slide: .zero), "hopping"),
            (.hopping(size: .zero, slide: .zero), "hopping"),
            (.hopping(size: .seconds(5), slide: .seconds(10)), "slide"),
            (.session(gap: .zero), "session"),
            (.session(gap: .seconds(-5)), "session"),
            // Longer than the 36 million years window arithmetic supports (and `.seconds(.max)`
            // used to wrap to a negative number of milliseconds).
            (.tumbling(.seconds(Int64.max)), "36 million years"),
            (.hopping(size: .seconds(Int64.max / 1_000), slide: .seconds(10)), "hopping window size"),
            (.session(gap: .seconds(Int64.max)), "session gap"),
            // A record would belong to 86,400 windows.
            (.hopping(size: .seconds(86_400), slide: .seconds(1)), "use a longer slide"),
        ])
    func invalidKinds(kind: WindowKind, mentioning word: String) {
        let error = #expect(throws: SluiceError.self) { try kind.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(word) == true, "\(error?.message ?? "")")
    }

    @Test("A slide longer than the size names both durations")
    func slideLongerThanSize() {
        let error = #expect(throws: SluiceError.self) {
            try WindowKind.hopping(size: .seconds(5), slide: .seconds(10)).validate()
        }
        #expect(error?.message.contains("10") == true && error?.message.contains("5") == true, "\(error?.message ?? "")")
    }

    /// A pipeline with an invalid window must be refused when it is defined, as the other
    /// programmer mistakes in a definition are (a session without a merge function, a negative
    /// allowed lateness), instead of dividing by zero on its first record.
    @Test("Defining a pipeline with an invalid window is refused")
    func definitionRejectsInvalidWindow() async {
        await #expect(processExitsWith: .failure) {
            _ = EnginePipelines.keyed().window(.tumbling(.zero)).count()
        }
    }
}

/// Durations too long to count in milliseconds, as "forever" settings are often written.
@Suite("Very long durations")
struct LongDurationTests {
    @Test("Durations beyond Int64 milliseconds saturate; event-time arithmetic saturates instead of wrapping")
    func saturation() {
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeMilliseconds == .min)
        #expect(Duration.milliseconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(-3).wholeMilliseconds == -3_000)
        #expect((eventSeconds(1) + .seconds(Int64.max)).millisecondsSinceEpoch == .max)
        #expect((eventSeconds(-1) - .seconds(Int64.max)).millisecondsSinceEpoch == .min)
        #expect((eventSeconds(1) - .seconds(Int64.max)).millisecondsSinceEpoch == 1_000 - Int64.max)
        #expect((eventSeconds(1) + .seconds(-2)).millisecondsSinceEpoch == -1_000)
    }

    @Test(
        "An allowed lateness of forever keeps a window open until the end of a bounded input, where it closes once",
        arguments: [Duration.seconds(Int64.max), .milliseconds(Int64.max)])
    func foreverLateness(lateness: Duration) async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10)), allowedLateness: lateness))
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.send(json: KeyedReading(key: "b", time: 9_000, id: 1))
        // The watermark (9 s) is short of the window's end: the record at 9.5 s belongs to it.
        try await driver.send(json: KeyedReading(key: "a", time: 9_500, id: 2))
        // Far past the end, but not past the end plus the lateness.
        try await driver.send(json: KeyedReading(key: "b", time: 1_000_000_000, id: 3))
        try await driver.send(json: KeyedReading(key: "a", time: 5_000, id: 4))
        #expect(driver.takeOutputs().isEmpty)
        #expect(driver.lateRecords.isEmpty)
        try await driver.endOfInput()
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 2, 4]), WindowRow(key: "b", start: 0, end: 10_000, ids: [1]),
                WindowRow(key: "b", start: 1_000_000_000, end: 1_000_010_000, ids: [3]),
            ])
    }

    @Test("An idle timeout of forever never makes a partition idle")
    func foreverIdleTimeout() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10)), idleTimeout: .seconds(Int64.max)))
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.advanceWallClock(by: .seconds(86_400 * 365))
        #expect(await driver.watermark() == eventMS(1_000))
        #expect(driver.takeOutputs().isEmpty)
    }
}
