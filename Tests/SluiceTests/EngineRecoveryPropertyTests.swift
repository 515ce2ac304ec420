import PropertyBased
import Sluice
import SluiceTesting
import Testing

/// Snapshot at a random point, crash, restore, continue: the outputs equal an uninterrupted run's.
///
/// The crash loses whatever was emitted after the checkpoint (it is recomputed after the
/// restart), so the interrupted run's outputs are those emitted up to the checkpoint plus
/// those emitted after the restart.
@Suite("Engine recovery properties")
struct EngineRecoveryPropertyTests {
    static let cases = 25

    /// Where the restarted driver resumes sending.
    enum Replay: CaseIterable {
        /// Every batch again from offset 0: the driver must skip what the checkpoint covers.
        case fromTheStart
        /// Only the batches after the checkpoint, as a consumer seeking to the committed offsets would.
        case fromTheCheckpoint
    }

    @Test(
        "Outputs and late records of a run restarted from a random checkpoint equal an uninterrupted run's",
        arguments: WindowScenario.Shape.allCases, Replay.allCases)
    func restartAtRandomCheckpoint(shape: WindowScenario.Shape, replay: Replay) async {
        await propertyCheck(count: Self.cases, input: scenarioSeeds) { seed in
            let scenario = WindowScenario(seed: seed, shape: shape, disorder: .beyondBound)
            let pipeline = EnginePipelines.ids(for: scenario)

            let uninterrupted = try PipelineTestDriver(pipeline)
            for batch in scenario.batches { try await uninterrupted.send(batch) }
            try await uninterrupted.endOfInput()
            let expectedResults = uninterrupted.takeOutputs().rows
            let expectedLate = try uninterrupted.lateRecords.map { try KeyedReading(record: $0).id }.sorted()

            var random = EngineTestRandom(seed: seed ^ 0x5EED)
            let checkpointAfter = Int.random(in: 0...scenario.batches.count, using: &random)
            let crashAfter = Int.random(in: checkpointAfter...scenario.batches.count, using: &random)
            let passivates = Bool.random(using: &random)
            let endsBeforeCrash = Bool.random(using: &random)
            let plan =
                "checkpoint after batch \(checkpointAfter), crash after \(crashAfter)"
                + "\(endsBeforeCrash ? " and end of input" : ""), passivate: \(passivates), replay \(replay); \(scenario)"

            let driver = try PipelineTestDriver(pipeline)
            for batch in scenario.batches[..<checkpointAfter] { try await driver.send(batch) }
            try await driver.checkpoint()
            var results = driver.takeOutputs()
            let lateAtCheckpoint = driver.lateRecords.count
            if passivates { await driver.passivateIdleKeys() }

            // Work that the crash loses.
            for batch in scenario.batches[checkpointAfter..<crashAfter] { try await driver.send(batch) }
            if endsBeforeCrash { try await driver.endOfInput() }
            _ = driver.takeOutputs()
            let lateAtCrash = driver.lateRecords.count

            try driver.restart()
            let resumeAt = replay == .fromTheStart ? 0 : checkpointAfter
            for batch in scenario.batches[resumeAt...] { try await driver.send(batch) }
            try await driver.endOfInput()
            results += driver.takeOutputs()
            let late = try (driver.lateRecords[..<lateAtCheckpoint] + driver.lateRecords[lateAtCrash...])
                .map { try KeyedReading(record: $0).id }.sorted()

            #expect(results.rows == expectedResults, "\(plan)")
            #expect(late == expectedLate, "\(plan)")
        }
    }
}
