import Synchronization

/// What the demo has read back from the output topic: the latest window sum of each sensor.
final class DemoBoard: Sendable {
    private struct State {
        var latest: [Int: WindowSum] = [:]
        var resultsRead = 0
    }

    private let state = Mutex(State())

    /// Records one result read from the output topic.
    func record(_ sum: WindowSum) {
        state.withLock { state in
            state.resultsRead += 1
            if let current = state.latest[sum.id], current.windowStart > sum.windowStart { return }
            state.latest[sum.id] = sum
        }
    }

    /// How many results were read back.
    var resultsRead: Int { state.withLock { $0.resultsRead } }

    /// The sensors with the largest latest-window sums, largest first.
    func top(_ count: Int) -> [WindowSum] {
        let latest = state.withLock { Array($0.latest.values) }
        return Array(latest.sorted { ($0.sum, $1.id) > ($1.sum, $0.id) }.prefix(count))
    }
}
