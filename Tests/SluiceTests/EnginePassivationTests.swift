import Sluice
import SluiceTesting
import Testing

/// Idle key actors are released from memory after a checkpoint and come back, with their
/// state, from the store when their key is next used or one of their timers fires.
@Suite("Key passivation")
struct EnginePassivationTests {
    private func driver() throws -> PipelineTestDriver<EnginePipelines.IDs> {
        try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10)), outOfOrderness: .seconds(1)))
    }

    @Test("A session's cancelled timer, still in the timer heap when due, leaves its key clean: it passivates")
    func cancelledTimerLeavesKeyClean() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.session(gap: .seconds(10))))
        // a's session grows from [0, 10 s) to [0, 15 s): the timer at 10 s is cancelled, its
        // heap entry stays.
        try await driver.send(json: KeyedReading(key: "a", time: 0, id: 0))
        try await driver.send(json: KeyedReading(key: "a", time: 5_000, id: 1))
        try await driver.checkpoint()
        // b's record moves the watermark to 12 s: a's stale entry comes due and finds nothing.
        try await driver.send(json: KeyedReading(key: "b", time: 12_000, id: 2))
        #expect(driver.takeOutputs().isEmpty)
        // a is clean and passivates; b changed since the checkpoint and stays.
        #expect(await driver.passivateIdleKeys() == 1)
        #expect(await driver.liveKeyCount() == 1)
        try await driver.endOfInput()
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 0, end: 15_000, ids: [0, 1]), WindowRow(key: "b", start: 12_000, end: 22_000, ids: [2]),
            ])
    }

    @Test("Passivated keys come back with their state")
    func passivatedKeysComeBack() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.send(json: KeyedReading(key: "b", time: 2_000, id: 1))
        try await driver.send(json: KeyedReading(key: "a", time: 3_000, id: 2))
        #expect(await driver.liveKeyCount() == 2)
        try await driver.checkpoint()

        #expect(await driver.passivateIdleKeys() == 2)
        #expect(await driver.liveKeyCount() == 0)
        #expect(await driver.statistics().passivatedKeys == 2)

        // More records for a's open window: its state is loaded from the store.
        try await driver.send(json: KeyedReading(key: "a", time: 4_000, id: 3))
        #expect(await driver.liveKeyCount() == 1)
        #expect(await driver.statistics().keysRestored == 1)

        // b is never used again, but its window's timer brings it back to emit.
        try await driver.send(json: KeyedReading(key: "c", time: 11_000, id: 4))
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 2, 3]), WindowRow(key: "b", start: 0, end: 10_000, ids: [1]),
            ])
        #expect(await driver.statistics().keysRestored == 2)
    }

    @Test("Keys changed since the last checkpoint are not passivated")
    func dirtyKeysStay() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        #expect(await driver.passivateIdleKeys() == 0)
        try await driver.checkpoint()
        try await driver.send(json: KeyedReading(key: "b", time: 1_500, id: 1))
        // a is clean, b changed after the checkpoint.
        #expect(await driver.passivateIdleKeys() == 1)
        #expect(await driver.liveKeyCount() == 1)
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows.map(\.ids) == [[0], [1]])
    }

    @Test("Only keys unused for the given time are passivated")
    func idleForIsRespected() async throws {
        let driver = try driver()
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.advanceWallClock(by: .seconds(30))
        try await driver.send(json: KeyedReading(key: "b", time: 1_500, id: 1))
        try await driver.checkpoint()
        try await driver.advanceWallClock(by: .seconds(30))
        // a was last used 60 s ago, b 30 s ago.
        #expect(await driver.passivateIdleKeys(idleFor: .seconds(45)) == 1)
        #expect(await driver.liveKeyCount() == 1)
        #expect(await driver.passivateIdleKeys(idleFor: .seconds(30)) == 1)
        #expect(await driver.liveKeyCount() == 0)
    }

    @Test("A passivated key with processed state survives a restart from the same checkpoint")
    func passivationThenRestart() async throws {
        let driver = try driver()
        for id in 0..<5 { try await driver.send(json: KeyedReading(key: "k\(id % 2)", time: Int64(id) * 1_000, id: id)) }
        try await driver.checkpoint()
        await driver.passivateIdleKeys()
        try await driver.send(json: KeyedReading(key: "k0", time: 6_000, id: 5))
        try await driver.checkpoint()
        await driver.passivateIdleKeys()
        try driver.restart()
        try await driver.send(json: KeyedReading(key: "k1", time: 7_000, id: 6))
        try await driver.send(json: KeyedReading(key: "k2", time: 20_000, id: 7))
        #expect(
            driver.takeOutputs().rows == [
                WindowRow(key: "k0", start: 0, end: 10_000, ids: [0, 2, 4, 5]),
                WindowRow(key: "k1", start: 0, end: 10_000, ids: [1, 3, 6]),
            ])
    }
}
