import Synchronization
import Testing

@testable import SluiceKafka

@Suite("BlockingExecutor")
struct BlockingExecutorTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        var current: Int { value.load(ordering: .sequentiallyConsistent) }
    }

    /// Counts its instances that are gone.
    final class Tracked: Sendable {
        let released: Counter
        init(_ released: Counter) { self.released = released }
        deinit { released.value.add(1, ordering: .sequentiallyConsistent) }
    }

    @Test("what a call captured is released before the caller resumes")
    func releasesBeforeResuming() async throws {
        let executor = BlockingExecutor(label: "sluice.test.blocking")
        let released = Counter()
        // Before, the dispatch thread dropped the closure only after resuming the caller, so a
        // caller that reopened what the closure held (an LMDB store's directory lock) could
        // find it still open. Many rounds, since that was a race.
        for round in 1...2_000 {
            do {
                let tracked = Tracked(released)
                let value = try await executor.run { () throws -> Int in withExtendedLifetime(tracked) { round } }
                #expect(value == round)
            }
            #expect(released.current == round, "round \(round)")
            if released.current != round { break }
        }
        for round in 2_001...2_500 {
            do {
                let tracked = Tracked(released)
                let value = await executor.run { withExtendedLifetime(tracked) { round } }
                #expect(value == round)
            }
            #expect(released.current == round, "round \(round)")
            if released.current != round { break }
        }
    }
}
