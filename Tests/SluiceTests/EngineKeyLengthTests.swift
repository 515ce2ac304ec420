import Sluice
import SluiceTesting
import Testing

/// LMDB keeps keys of at most 511 bytes (Debian's build): a record whose key is longer could
/// not be checkpointed, and every restart replayed it and failed again.
@Suite("Keys longer than the checkpoint store keeps")
struct EngineKeyLengthTests {
    @Test("a record with an overlong key is dead-lettered with a reason; the others are checkpointed and processed")
    func overlongKeyIsDeadLettered() async throws {
        let directory = EngineScratchDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let limit = try #require(store.maxEncodedKeyBytes)
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))), store: store)
        let long = String(repeating: "k", count: limit + 1)
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.send(json: KeyedReading(key: long, time: 2_000, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 3_000, id: 2))
        try await driver.checkpoint()

        #expect(driver.deadLetters.count == 1)
        #expect(try driver.deadLetters.first.map { try KeyedReading(record: $0.record).id } == 1)
        #expect(driver.deadLetters.first?.reason.contains("longer than the \(limit) the checkpoint store keeps") == true)
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 2])])
        try await driver.checkpoint()
    }
}
