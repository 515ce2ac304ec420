import PropertyBased
import Sluice
import SluiceTesting
import Testing

/// Random input against a brute-force reference of the window semantics.
///
/// Each case is built from one seed (see ``WindowScenario``); on failure PropertyBased prints
/// the seed, and each expectation names the scenario.
@Suite("Window properties")
struct WindowPropertyTests {
    /// Cases per property and window shape; each case is up to 300 records.
    static let cases = 30

    @Test(
        "With disorder within the bound, results equal the reference and nothing is late",
        arguments: WindowScenario.Shape.allCases)
    func disorderWithinTheBound(shape: WindowScenario.Shape) async {
        await propertyCheck(count: Self.cases, input: scenarioSeeds) { seed in
            let scenario = WindowScenario(seed: seed, shape: shape, disorder: .withinBound)
            let driver = try PipelineTestDriver(EnginePipelines.ids(for: scenario))
            for batch in scenario.batches { try await driver.send(batch) }
            try await driver.endOfInput()

            let results = driver.takeOutputs().rows
            let expected = referenceResults(of: scenario)
            #expect(results == expected, "\(scenario)")
            #expect(driver.lateRecords.isEmpty, "\(scenario)")
            let statistics = await driver.statistics()
            #expect(statistics.lateRecords == 0)
            #expect(statistics.recordsProcessed == UInt64(scenario.readings.count))
            #expect(statistics.resultsEmitted == UInt64(expected.count))
        }
    }

    @Test(
        "With disorder beyond the bound, each batch emits exactly the windows it closes and declares exactly the late records",
        arguments: [WindowScenario.Shape.tumbling, .hopping])
    func alignedWindowsBeyondTheBound(shape: WindowScenario.Shape) async {
        await propertyCheck(count: Self.cases, input: scenarioSeeds) { seed in
            let scenario = WindowScenario(seed: seed, shape: shape, disorder: .beyondBound)
            var model = AlignedWindowModel(scenario)
            let driver = try PipelineTestDriver(EnginePipelines.ids(for: scenario))
            var results: [WindowRow] = []
            var late: [Int] = []
            for (index, batch) in scenario.batches.enumerated() {
                let lateBefore = driver.lateRecords.count
                try await driver.send(batch)
                let expected = try model.ingest(batch)
                let emitted = driver.takeOutputs().rows
                let declaredLate = try driver.lateRecords[lateBefore...].map { try KeyedReading(record: $0).id }.sorted()
                #expect(emitted == expected.emitted, "batch \(index) of \(scenario)")
                #expect(declaredLate == expected.late, "batch \(index) of \(scenario)")
                // Later batches would only repeat the first divergence.
                guard emitted == expected.emitted, declaredLate == expected.late else { return }
                results += emitted
                late += declaredLate
            }
            try await driver.endOfInput()
            let final = driver.takeOutputs().rows
            #expect(final == model.endOfInput(), "end of input of \(scenario)")
            results += final

            // Nothing is dropped without a trace.
            let counted = Set(results.flatMap(\.ids))
            #expect(counted.isDisjoint(with: late), "\(scenario)")
            #expect(counted.union(late) == Set(scenario.readings.map(\.id)), "\(scenario)")
            if case .tumbling = scenario.kind {
                // A tumbling window record is counted exactly once.
                #expect(results.flatMap(\.ids).count + late.count == scenario.readings.count, "\(scenario)")
            }
            let statistics = await driver.statistics()
            #expect(statistics.lateRecords == UInt64(late.count))
        }
    }

    @Test("With disorder beyond the bound, each record is in exactly one session or late")
    func sessionsBeyondTheBound() async {
        await propertyCheck(count: Self.cases, input: scenarioSeeds) { seed in
            let scenario = WindowScenario(seed: seed, shape: .session, disorder: .beyondBound)
            let gap = scenario.size
            let driver = try PipelineTestDriver(EnginePipelines.ids(for: scenario))
            for batch in scenario.batches { try await driver.send(batch) }
            try await driver.endOfInput()

            let results = driver.takeOutputs().rows
            let late = try driver.lateRecords.map { try KeyedReading(record: $0).id }
            let counted = results.flatMap(\.ids)
            #expect((counted + late).sorted() == scenario.readings.map(\.id), "\(scenario)")
            for result in results {
                // A session spans its records: from the first to the last plus the gap.
                let readings = result.ids.map { scenario.readings[$0] }
                #expect(readings.allSatisfy { $0.key == result.key }, "\(result) in \(scenario)")
                #expect(result.start == readings.map(\.time).min(), "\(result) in \(scenario)")
                #expect(result.end == readings.map(\.time).max()! + gap, "\(result) in \(scenario)")
            }
            let statistics = await driver.statistics()
            #expect(statistics.lateRecords == UInt64(late.count))
        }
    }

    @Test("Built-in count and sum account for every record: counted totals plus late records equal the input")
    func builtInAggregatesKeepTheBooks() async {
        await propertyCheck(count: Self.cases, input: scenarioSeeds) { seed in
            let scenario = WindowScenario(seed: seed, shape: .tumbling, disorder: .beyondBound)
            let stage = EnginePipelines.keyed(outOfOrderness: .milliseconds(scenario.outOfOrderness))
                .window(scenario.kind, allowedLateness: .milliseconds(scenario.allowedLateness))
            let counts = try PipelineTestDriver(stage.count().sink(MemorySink { _ in }))
            let sums = try PipelineTestDriver(stage.sum(\.value).sink(MemorySink { _ in }))
            for batch in scenario.batches {
                try await counts.send(batch)
                try await sums.send(batch)
            }
            try await counts.endOfInput()
            try await sums.endOfInput()

            let countResults = counts.takeOutputs()
            let sumResults = sums.takeOutputs()
            let late: [KeyedReading] = try counts.lateRecords.map { try KeyedReading(record: $0) }
            let counted: Int = countResults.reduce(0) { $0 + $1.value }
            #expect(counted + late.count == scenario.readings.count, "\(scenario)")
            let summed: Int = sumResults.reduce(0) { $0 + $1.value }
            let lateSum: Int = late.reduce(0) { $0 + $1.value }
            let inputSum: Int = scenario.readings.reduce(0) { $0 + $1.value }
            #expect(summed + lateSum == inputSum, "\(scenario)")
            #expect(countResults.allSatisfy { $0.value > 0 })
            let countWindows = Set(countResults.map { "\($0.key)\($0.window)" })
            let sumWindows = Set(sumResults.map { "\($0.key)\($0.window)" })
            #expect(countWindows == sumWindows)
        }
    }
}
