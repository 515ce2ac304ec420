import Sluice
import SluiceTesting
import Testing

/// Checkpoint and restart scenarios with the real store on disk.
@Suite("Recovery with the LMDB checkpoint store")
struct EngineLMDBRecoveryTests {
    @Test("Windows checkpointed to LMDB restart with the results of an uninterrupted run")
    func windowsSurviveRestart() async throws {
        let scenario = WindowScenario(seed: 0x5EED_1DB, shape: .hopping, disorder: .beyondBound)
        try #require(scenario.batches.count >= 4, "\(scenario)")
        let pipeline = EnginePipelines.ids(for: scenario)

        let uninterrupted = try PipelineTestDriver(pipeline)
        for batch in scenario.batches { try await uninterrupted.send(batch) }
        try await uninterrupted.endOfInput()
        let expected = uninterrupted.takeOutputs().rows
        let expectedLate = uninterrupted.lateRecords.count

        let directory = EngineScratchDirectory()
        let driver = try PipelineTestDriver(pipeline, store: LMDBCheckpointStore(directory: directory.path))
        let first = scenario.batches.count / 3
        let second = 2 * scenario.batches.count / 3
        for batch in scenario.batches[..<first] { try await driver.send(batch) }
        try await driver.checkpoint()
        // Passivated keys must come back from disk.
        await driver.passivateIdleKeys()
        for batch in scenario.batches[first..<second] { try await driver.send(batch) }
        try await driver.checkpoint()
        var results = driver.takeOutputs()
        let lateAtCheckpoint = driver.lateRecords.count
        // Lost in the crash.
        for batch in scenario.batches[second...] { try await driver.send(batch) }
        _ = driver.takeOutputs()
        let lateAtCrash = driver.lateRecords.count

        try driver.restart()
        for batch in scenario.batches { try await driver.send(batch) }
        try await driver.endOfInput()
        results += driver.takeOutputs()
        #expect(results.rows == expected, "\(scenario)")
        #expect(lateAtCheckpoint + driver.lateRecords.count - lateAtCrash == expectedLate, "\(scenario)")
    }

    @Test("A keyed processor's state and timers survive closing the store and opening it in a new driver")
    func processorResumesFromReopenedStore() async throws {
        let directory = EngineScratchDirectory()
        do {
            let driver = try PipelineTestDriver(BankAccount.pipeline(), store: LMDBCheckpointStore(directory: directory.path))
            try await driver.send(json: BankAccount.Transaction(account: "alice", amount: 100, time: bankTime(day: 3, hours: 8)))
            try await driver.send(json: BankAccount.Transaction(account: "bob", amount: 50, time: bankTime(day: 3, hours: 9)))
            try await driver.send(json: BankAccount.Transaction(account: "alice", amount: -30, time: bankTime(day: 3, hours: 10)))
            try await driver.checkpoint()
            // Not checkpointed: lost when the process goes away.
            try await driver.send(json: BankAccount.Transaction(account: "bob", amount: -500, time: bankTime(day: 3, hours: 11)))
            #expect(driver.takeOutputs() == [.overdrawn(account: "bob", balance: -450)])
        }

        let driver = try PipelineTestDriver(BankAccount.pipeline(), store: LMDBCheckpointStore(directory: directory.path))
        #expect(driver.nextOffset() == 3)
        // Alice's balance (70) came back from disk: 80 more puts her in the red.
        try await driver.send(json: BankAccount.Transaction(account: "alice", amount: -80, time: bankTime(day: 3, hours: 12)))
        #expect(driver.takeOutputs() == [.overdrawn(account: "alice", balance: -10)])
        #expect(await driver.statistics().keysRestored == 1)
        // Bob's reminder timer, registered before the checkpoint, fires from the restored timers.
        try await driver.advanceWallClock(by: .seconds(3_600))
        #expect(Set(driver.takeOutputs()) == [.reminder(account: "bob", balance: 50), .reminder(account: "alice", balance: -10)])
        // So does the end-of-day timer, with both days' totals intact.
        try await driver.send(json: BankAccount.Transaction(account: "carol", amount: 1, time: bankTime(day: 4, minutes: 2)))
        #expect(
            Set(driver.takeOutputs()) == [
                .dailySummary(account: "alice", day: 3, transactions: 3, net: -10),
                .dailySummary(account: "bob", day: 3, transactions: 1, net: 50),
            ])
    }
}

/// Event-time timers come back from the store lazily, a chunk at a time, as the watermark reaches them.
@Suite("Lazy timer loading after a restart")
struct LazyTimerLoadingTests {
    typealias Probe = EngineKeyedProcessorTests.TimerProbe

    @Test("timers load as the watermark reaches them; each fires once; keys not due stay on disk", arguments: [false, true])
    func timersLoadLazily(onDisk: Bool) async throws {
        let directory = EngineScratchDirectory()
        let store: any CheckpointStore = onDisk ? try LMDBCheckpointStore(directory: directory.path) : InMemoryCheckpointStore()
        let driver = try PipelineTestDriver(Probe.pipeline(), store: store)
        // More keys than one chunk of stored timers, at two instants.
        let early = (0 ..< 2_500).map { "early-\($0)" }
        let late = (0 ..< 2_500).map { "late-\($0)" }
        for key in early { try await driver.send(json: Probe.Command(key: key, time: 1_000, timerAt: 10_000)) }
        for key in late { try await driver.send(json: Probe.Command(key: key, time: 1_000, timerAt: 20_000)) }
        #expect(driver.takeOutputs().isEmpty)
        try await driver.checkpoint()
        try driver.restart()

        // A key of this run registers a timer at the same instant as stored ones.
        try await driver.send(json: Probe.Command(key: "new", time: 15_000, timerAt: 20_000))
        let firstFired = driver.takeOutputs()
        #expect(firstFired.count == early.count)
        #expect(firstFired.allSatisfy { $0 == 10_000 })
        // Only the keys whose timers fired were read back.
        #expect(await driver.statistics().keysRestored == UInt64(early.count))

        try await driver.checkpoint()
        try await driver.endOfInput()
        let secondFired = driver.takeOutputs()
        #expect(secondFired.count == late.count + 1)
        #expect(secondFired.allSatisfy { $0 == 20_000 })
    }
}
