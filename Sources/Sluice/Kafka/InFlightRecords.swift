/// Outbox records handed to the producer and not yet confirmed, found by producer id.
///
/// The ids of one send are consecutive, so the records are kept as runs of ids, one per send,
/// and a delivery report finds its record by comparing with the few runs in flight instead of
/// hashing its id (the publisher takes one report per result).
struct InFlightRecords {
    private struct Run {
        var first: UInt64
        var keys: [OutboxKey]
        var sentAt: ContinuousClock.Instant
        /// Which of the run's records were confirmed or failed.
        var isDone: [Bool]
        var remaining: Int
    }

    /// Oldest first; a run leaves once every record of it is done.
    private var runs: [Run] = []

    /// Records not yet done.
    private(set) var count = 0

    /// Records the records of one send: `keys[i]` has id `first + i`.
    mutating func register(first: UInt64, keys: [OutboxKey], sentAt: ContinuousClock.Instant) {
        guard !keys.isEmpty else { return }
        runs.append(Run(first: first, keys: keys, sentAt: sentAt, isDone: Array(repeating: false, count: keys.count), remaining: keys.count))
        count += keys.count
    }

    /// The record with `id` and when it was sent, which is then done; `nil` for an id never
    /// registered or already done.
    mutating func take(_ id: UInt64) -> (key: OutboxKey, sentAt: ContinuousClock.Instant)? {
        // Fields are read in place, never through a copy of the run: a copy would share its
        // `isDone`, and marking the record would then copy the whole array.
        for index in runs.indices {
            let first = runs[index].first
            guard id >= first, id - first < UInt64(runs[index].keys.count) else { continue }
            let offset = Int(id - first)
            guard !runs[index].isDone[offset] else { return nil }
            runs[index].isDone[offset] = true
            runs[index].remaining -= 1
            count -= 1
            let found = (key: runs[index].keys[offset], sentAt: runs[index].sentAt)
            if runs[index].remaining == 0 { runs.remove(at: index) }
            return found
        }
        return nil
    }
}
