import Synchronization

/// State shared between a running pipeline and the code that watches or stops it.
final class RunControl: Sendable {
    let status = Mutex(PipelineStatus())
    private let stopFlag = Atomic<Bool>(false)
    /// Tasks waiting in ``stopRequested()``, by ticket.
    private let stopWaiters = Mutex<(nextTicket: UInt64, waiters: [UInt64: CheckedContinuation<Void, Never>])>((0, [:]))

    var isStopRequested: Bool { stopFlag.load(ordering: .acquiring) }

    func requestStop() {
        let waiters = stopWaiters.withLock { state in
            stopFlag.store(true, ordering: .releasing)
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a stop is requested, or when the calling task is cancelled.
    func stopRequested() async {
        let ticket = stopWaiters.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Under the lock, so that neither a stop nor a cancellation slips in between.
                let waits = stopWaiters.withLock { state in
                    guard !stopFlag.load(ordering: .acquiring), !Task.isCancelled else { return false }
                    state.waiters[ticket] = continuation
                    return true
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            stopWaiters.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume()
        }
    }
}
