/// Outbox records handed to the producer and not yet confirmed, found by producer id.
///
/// The ids of one send are consecutive, so the records are kept as runs of ids, one per send,
/// sorted by first id, and a delivery report finds its run by a binary search instead of
/// hashing its id (the publisher takes one report per result). Runs stay as long as any of
/// their records is unconfirmed, which can be many while one output partition's leader is away.
struct InFlightRecords {
    private struct Run {
        var first: UInt64
        var keys: [OutboxKey]
        var sentAt: ContinuousClock.Instant
        /// Which of the run's records were confirmed or failed.
        var isDone: [Bool]
        var remaining: Int
    }

    /// Sorted by `first`; runs never overlap. A run leaves once every record of it is done.
    private var runs: [Run] = []

    /// Records not yet done.
    private(set) var count = 0

    /// Records the records of one send: `keys[i]` has id `first + i`.
    mutating func register(first: UInt64, keys: [OutboxKey], sentAt: ContinuousClock.Instant) {
        guard !keys.isEmpty else { return }
        let run = Run(first: first, keys: keys, sentAt: sentAt, isDone: Array(repeating: false, count: keys.count), remaining: keys.count)
        // Sends reserve ids in increasing order and almost always register in that order too.
        if let last = runs.last, last.first > first {
            runs.insert(run, at: position(after: first))
        } else {
            runs.append(run)
        }
        count += keys.count
    }

    /// The record with `id` and when it was sent, which is then done; `nil` for an id never
    /// registered or already done.
    mutating func take(_ id: UInt64) -> (key: OutboxKey, sentAt: ContinuousClock.Instant)? {
        // The last run that starts at or before `id`.
        let index = position(after: id) - 1
        guard index >= 0 else { return nil }
        // Fields are read in place, never through a copy of the run: a copy would share its
        // `isDone`, and marking the record would then copy the whole array.
        let offset = id - runs[index].first
        guard offset < UInt64(runs[index].keys.count) else { return nil }
        let position = Int(offset)
        guard !runs[index].isDone[position] else { return nil }
        runs[index].isDone[position] = true
        runs[index].remaining -= 1
        count -= 1
        let found = (key: runs[index].keys[position], sentAt: runs[index].sentAt)
        if runs[index].remaining == 0 { runs.remove(at: index) }
        return found
    }

    /// The index of the first run that starts after `id`.
    private func position(after id: UInt64) -> Int {
        var low = 0
        var high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if runs[middle].first <= id { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
