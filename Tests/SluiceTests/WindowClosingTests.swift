import Sluice
import SluiceTesting
import Testing

/// When windows close and what they emit.
@Suite("Window closing and aggregates")
struct WindowClosingTests {
    @Test("After a restart with a longer allowed lateness, a window whose old timer fires early still closes, once")
    func latenessChangedAcrossRestart() async throws {
        let store = InMemoryCheckpointStore()
        let before = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))), store: store)
        try await before.send(json: KeyedReading(key: "a", time: 5_000, id: 0))
        try await before.checkpoint()
        // The same state, now with 5 s of allowed lateness: the stored timer is at 10 s.
        let after = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10)), allowedLateness: .seconds(5)), store: store)
        try await after.send(json: KeyedReading(key: "b", time: 12_000, id: 1))
        // The old timer fired at 10 s; the window is open until 15 s and takes a late-comer.
        try await after.send(json: KeyedReading(key: "a", time: 9_000, id: 2))
        #expect(after.takeOutputs().isEmpty)
        try await after.send(json: KeyedReading(key: "b", time: 16_000, id: 3))
        #expect(after.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 2])])
        try await after.endOfInput()
        #expect(after.takeOutputs().rows == [WindowRow(key: "b", start: 10_000, end: 20_000, ids: [1, 3])])
    }

    @Test("A window closes exactly when the watermark reaches its end plus the allowed lateness")
    func closesAtEndPlusLateness() async throws {
        let driver = try PipelineTestDriver(
            EnginePipelines.ids(.tumbling(.seconds(10)), allowedLateness: .seconds(2), outOfOrderness: .seconds(1)))
        try await driver.send(json: KeyedReading(key: "a", time: 5_000, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 12_999, id: 1))
        #expect(await driver.watermark() == eventMS(11_999))
        #expect(driver.takeOutputs().isEmpty)
        // Watermark 12 s = end 10 s + lateness 2 s.
        try await driver.send(json: KeyedReading(key: "b", time: 13_000, id: 2))
        #expect(await driver.watermark() == eventMS(12_000))
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0])])
        try await driver.endOfInput()
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 10_000, end: 20_000, ids: [1]), WindowRow(key: "b", start: 10_000, end: 20_000, ids: [2]),
            ])
    }

    @Test("Within one batch lateness is judged by the watermark from before the batch")
    func batchUsesWatermarkFromBefore() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        let records = [KeyedReading(key: "a", time: 25_000, id: 0), KeyedReading(key: "a", time: 5_000, id: 1)]
        try await driver.send(
            records.enumerated().map { offset, reading in
                SourceRecord(partition: InputPartition(topic: "input", partition: 0), offset: Int64(offset), value: reading.json)
            })
        // The record at 5 s came after one at 25 s, but in the same batch: not late. Its window closes after the batch.
        #expect(driver.lateRecords.isEmpty)
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [1])])
        // In a later batch it would have been late.
        try await driver.send(json: KeyedReading(key: "a", time: 5_000, id: 2))
        #expect(try driver.lateRecords.map { try KeyedReading(record: $0).id } == [2])
    }

    @Test("A window is emitted once: a second watermark advance and the end of input do not repeat it")
    func emittedOnce() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 10_000, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 30_000, id: 2))
        try await driver.endOfInput()
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows.map(\.ids) == [[0], [1], [2]])
        #expect(await driver.statistics().resultsEmitted == 3)
    }

    @Test("Sum, count, min, max and mean aggregate a window")
    func builtInAggregates() async throws {
        let values = [4, -2, 9, 0, 9]
        let stage = EnginePipelines.keyed().window(.tumbling(.seconds(10)))
        let sum = try PipelineTestDriver(stage.sum(\.value).sink(MemorySink { _ in }))
        let count = try PipelineTestDriver(stage.count().sink(MemorySink { _ in }))
        let min = try PipelineTestDriver(stage.min(\.value).sink(MemorySink { _ in }))
        let max = try PipelineTestDriver(stage.max(\.value).sink(MemorySink { _ in }))
        let mean = try PipelineTestDriver(stage.mean { Double($0.value) }.sink(MemorySink { _ in }))
        for (index, value) in values.enumerated() {
            let reading = KeyedReading(key: "a", time: Int64(index) * 1_000, value: value, id: index)
            try await sum.send(json: reading)
            try await count.send(json: reading)
            try await min.send(json: reading)
            try await max.send(json: reading)
            try await mean.send(json: reading)
        }
        try await sum.endOfInput()
        try await count.endOfInput()
        try await min.endOfInput()
        try await max.endOfInput()
        try await mean.endOfInput()
        #expect(sum.takeOutputs().map(\.value) == [20])
        #expect(count.takeOutputs().map(\.value) == [5])
        #expect(min.takeOutputs().map(\.value) == [-2])
        #expect(max.takeOutputs().map(\.value) == [9])
        let means = mean.takeOutputs()
        #expect(means.map(\.value.value) == [4.0])
        #expect(means.first?.value.count == 5)
        #expect(means.first?.window == windowMS(0, 10_000))
    }

    @Test("A fold sees a window's records in arrival order")
    func foldOrder() async throws {
        let pipeline = EnginePipelines.keyed(outOfOrderness: .seconds(10))
            .window(.tumbling(.seconds(10)))
            .aggregate(into: "") { text, reading in text += "\(reading.id)" }
            .sink(MemorySink { _ in })
        let driver = try PipelineTestDriver(pipeline)
        for (id, time) in [(3, 900), (1, 100), (2, 500)] as [(Int, Int64)] {
            try await driver.send(json: KeyedReading(key: "a", time: time, id: id))
        }
        try await driver.endOfInput()
        #expect(driver.takeOutputs().map(\.value) == ["312"])
    }
}
