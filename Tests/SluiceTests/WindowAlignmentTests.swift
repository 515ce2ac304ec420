import Sluice
import SluiceTesting
import Testing

/// Which windows a record lands in, observed through the engine: every record is sent for one
/// key with an out-of-orderness bound so large that nothing is late, then the input ends.
@Suite("Window alignment and membership")
struct WindowAlignmentTests {
    /// The windows of key `a` after sending `times` (record ids are the indexes into `times`).
    private func results(_ kind: WindowKind, times: [Int64]) async throws -> [WindowRow] {
        let driver = try PipelineTestDriver(EnginePipelines.ids(kind, outOfOrderness: .seconds(1_000_000)))
        for (id, time) in times.enumerated() { try await driver.send(json: KeyedReading(key: "a", time: time, id: id)) }
        #expect(driver.takeOutputs().isEmpty, "nothing closes before the end of input")
        try await driver.endOfInput()
        #expect(driver.lateRecords.isEmpty)
        return driver.takeOutputs().rows
    }

    private func row(_ start: Int64, _ end: Int64, _ ids: [Int]) -> WindowRow {
        WindowRow(key: "a", start: start, end: end, ids: ids)
    }

    // MARK: Tumbling

    @Test("Tumbling windows start at multiples of their size since the epoch")
    func tumblingWindowsAreEpochAligned() async throws {
        let rows = try await results(.tumbling(.seconds(10)), times: [12_345, 19_999, 0, 9_999, 1_000_000_007])
        #expect(
            rows == [
                row(0, 10_000, [2, 3]), row(10_000, 20_000, [0, 1]), row(1_000_000_000, 1_000_010_000, [4]),
            ])
    }

    @Test("A size that does not divide the time still aligns to the epoch, not to the first record")
    func unevenSizeAlignsToTheEpoch() async throws {
        // 1,000,000 / 7,000 = 142.86…, so the window starts at 142 * 7,000.
        let rows = try await results(.tumbling(.seconds(7)), times: [1_000_000, 1_000_999, 1_001_000])
        #expect(rows == [row(994_000, 1_001_000, [0, 1]), row(1_001_000, 1_008_000, [2])])
    }

    @Test("A time equal to a window's end belongs to the next window")
    func endIsExclusive() async throws {
        let rows = try await results(.tumbling(.seconds(10)), times: [9_999, 10_000, 20_000])
        #expect(rows == [row(0, 10_000, [0]), row(10_000, 20_000, [1]), row(20_000, 30_000, [2])])
        let milliseconds = try await results(.tumbling(.milliseconds(1)), times: [0, 1, 1, 2])
        #expect(milliseconds == [row(0, 1, [0]), row(1, 2, [1, 2]), row(2, 3, [3])])
    }

    @Test("Times before the epoch round down, not toward zero")
    func negativeTimesFloor() async throws {
        let rows = try await results(.tumbling(.seconds(10)), times: [-1, -10_000, -10_001, -9_999, 0])
        #expect(
            rows == [
                row(-20_000, -10_000, [2]), row(-10_000, 0, [0, 1, 3]), row(0, 10_000, [4]),
            ])
    }

    // MARK: Hopping

    @Test("A hopping record belongs to every window of the size that starts at a multiple of the slide before it")
    func hoppingMembership() async throws {
        let rows = try await results(.hopping(size: .seconds(10), slide: .seconds(5)), times: [12_000, 10_000, -1])
        #expect(
            rows == [
                row(-10_000, 0, [2]), row(-5_000, 5_000, [2]), row(5_000, 15_000, [0, 1]), row(10_000, 20_000, [0, 1]),
            ])
    }

    @Test("When the slide does not divide the size, a record is in three or four windows")
    func hoppingWithUnevenSlide() async throws {
        // Starts at multiples of 3 s in (t - 10 s, t]: for t = 10 s that is 3, 6 and 9 s; for t = 9 s, 0, 3, 6 and 9 s.
        let atTen = try await results(.hopping(size: .seconds(10), slide: .seconds(3)), times: [10_000])
        #expect(atTen == [row(3_000, 13_000, [0]), row(6_000, 16_000, [0]), row(9_000, 19_000, [0])])
        let atNine = try await results(.hopping(size: .seconds(10), slide: .seconds(3)), times: [9_000])
        #expect(atNine.map(\.start) == [0, 3_000, 6_000, 9_000])
    }

    @Test("Hopping windows whose slide equals their size are tumbling windows")
    func hoppingWithFullSlideIsTumbling() async throws {
        let times: [Int64] = [-15_001, -1, 0, 4_999, 5_000, 12_345, 99_999]
        let hopping = try await results(.hopping(size: .seconds(5), slide: .seconds(5)), times: times)
        let tumbling = try await results(.tumbling(.seconds(5)), times: times)
        #expect(hopping == tumbling)
        #expect(hopping.count == 6)
    }

    // MARK: Sessions

    @Test("Records closer than the gap form one session from the first record to the last plus the gap")
    func sessionSpansItsRecords() async throws {
        let rows = try await results(.session(gap: .seconds(10)), times: [0, 5_000, 14_999])
        #expect(rows == [row(0, 24_999, [0, 1, 2])])
    }

    @Test("Records exactly the gap apart start a new session")
    func sessionsThatTouchDoNotMerge() async throws {
        let rows = try await results(.session(gap: .seconds(10)), times: [0, 10_000])
        #expect(rows == [row(0, 10_000, [0]), row(10_000, 20_000, [1])])
    }

    @Test("A record that bridges two sessions merges them into one result")
    func bridgingRecordMergesSessions() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.session(gap: .seconds(10)), outOfOrderness: .seconds(20)))
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 15_000, id: 1))
        // Another key's record in between bridges nothing.
        try await driver.send(json: KeyedReading(key: "b", time: 8_000, id: 2))
        try await driver.send(json: KeyedReading(key: "a", time: 8_000, id: 3))
        // Watermark 20 s: past where the first session alone would have ended (10 s), short of the merged end (25 s).
        try await driver.send(json: KeyedReading(key: "c", time: 40_000, id: 4))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "b", start: 8_000, end: 18_000, ids: [2])])
        // Watermark 25 s closes the merged session, once.
        try await driver.send(json: KeyedReading(key: "c", time: 45_000, id: 5))
        #expect(driver.takeOutputs().rows == [row(0, 25_000, [0, 1, 3])])
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "c", start: 40_000, end: 55_000, ids: [4, 5])])
        #expect(driver.lateRecords.isEmpty)
    }

    @Test("Merging sessions combines their contents in time order, the bridging record in its place")
    func sessionMergeOrder() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.session(gap: .seconds(10)), outOfOrderness: .seconds(20)))
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 15_000, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 8_000, id: 3))
        try await driver.send(json: KeyedReading(key: "a", time: 16_000, id: 4))
        try await driver.endOfInput()
        // The ids as the fold and merge built them (not sorted, as `rows` would): the sessions
        // [0, 10 s) and [15 s, 25 s) in start order, the record at 8 s between them.
        #expect(driver.takeOutputs().map(\.value) == [[0, 3, 1, 4]])
    }

    @Test("Merged sessions combine their accumulators with the merge function")
    func sessionMergeUsesMerge() async throws {
        let pipeline = EnginePipelines.keyed(outOfOrderness: .seconds(60))
            .window(.session(gap: .seconds(10)))
            .max(\.value)
            .sink(MemorySink { _ in })
        let driver = try PipelineTestDriver(pipeline)
        try await driver.send(json: KeyedReading(key: "a", time: 0, value: 7))
        try await driver.send(json: KeyedReading(key: "a", time: 30_000, value: 3))
        try await driver.send(json: KeyedReading(key: "a", time: 15_000, value: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 22_000, value: 2))
        try await driver.send(json: KeyedReading(key: "a", time: 8_000, value: 5))
        try await driver.endOfInput()
        let results = driver.takeOutputs()
        #expect(results.count == 1)
        #expect(results.first?.window == windowMS(0, 40_000))
        #expect(results.first?.value == 7)
    }
}
