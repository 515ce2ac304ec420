import Synchronization

/// A flag raised once, that tasks can wait for.
final class StopSignal: Sendable {
    private let state = Mutex<(isRaised: Bool, nextTicket: UInt64, waiters: [UInt64: CheckedContinuation<Void, Never>])>(
        (false, 0, [:]))
    private let flag = Atomic<Bool>(false)

    /// Whether the signal was raised (one atomic load).
    var isRaised: Bool { flag.load(ordering: .acquiring) }

    /// Raises the signal and wakes every task waiting for it. Idempotent.
    func raise() {
        let waiters = state.withLock { state in
            state.isRaised = true
            flag.store(true, ordering: .releasing)
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the signal is raised, or when the calling task is cancelled.
    func raised() async {
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Under the lock, so that neither the signal nor a cancellation slips in between.
                let waits = state.withLock { state in
                    guard !state.isRaised, !Task.isCancelled else { return false }
                    state.waiters[ticket] = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume()
        }
    }
}
