import Sluice
import SluiceTesting
import Testing

/// What a checkpoint stores of a key's timers must be exactly what the key has registered.
@Suite("Timers in the checkpoint store")
struct EngineTimerStoreTests {
    @Test("a timer registered and cancelled within one batch of a key is not stored (a session that grows)")
    func timerAddedAndCancelledInOneBatchIsNotStored() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.session(gap: .seconds(10))))
        // One poll: the first record opens [100 s, 110 s) with a timer at 110 s, the second
        // extends it to [100 s, 115 s), cancelling that timer for one at 115 s.
        try await driver.send([
            SourceRecord(partition: InputPartition(topic: driver.inputTopic, partition: 0), offset: 0, value: KeyedReading(key: "a", time: 100_000, id: 0).json),
            SourceRecord(partition: InputPartition(topic: driver.inputTopic, partition: 0), offset: 1, value: KeyedReading(key: "a", time: 105_000, id: 1).json),
        ])
        try await driver.checkpoint()
        let stored = try driver.store.timers(in: InputPartition(topic: driver.inputTopic, partition: 0))
        #expect(stored.map(\.fireAtMilliseconds) == [115_000], "only the session's current end")

        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 100_000, end: 115_000, ids: [0, 1])])
        try await driver.checkpoint()
        #expect(try driver.store.timers(in: InputPartition(topic: driver.inputTopic, partition: 0)).isEmpty)
    }
}
