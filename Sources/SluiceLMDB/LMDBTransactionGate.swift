#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps map resizes apart from transactions of this process.
///
/// `mdb_env_set_mapsize` may only be called while no transaction of the
/// process is open, because it remaps the file under any pointer a reader
/// holds. Every transaction enters the gate; a resize waits until none is
/// inside and keeps new ones out while it runs.
///
/// `@unchecked Sendable`: all state is guarded by the pthread mutex, and the
/// mutex and condition are heap-allocated so that they never move.
final class LMDBTransactionGate: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var activeTransactions = 0
    private var isResizing = false

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Registers a transaction, waiting while a resize runs.
    func enter() {
        pthread_mutex_lock(mutex)
        while isResizing {
            pthread_cond_wait(condition, mutex)
        }
        activeTransactions += 1
        pthread_mutex_unlock(mutex)
    }

    /// Unregisters a transaction.
    func leave() {
        pthread_mutex_lock(mutex)
        activeTransactions -= 1
        if activeTransactions == 0 {
            pthread_cond_broadcast(condition)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` while no transaction of this process is open.
    ///
    /// Returns `false` without running `body` if transactions stay open longer than `timeout`.
    func exclusively(timeout: Duration, _ body: () -> Void) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let deadline = Self.deadline(after: timeout)
        while isResizing {
            if !wait(until: deadline) { return false }
        }
        isResizing = true
        defer {
            isResizing = false
            pthread_cond_broadcast(condition)
        }
        while activeTransactions > 0 {
            if !wait(until: deadline) { return false }
        }
        body()
        return true
    }

    private func wait(until deadline: timespec) -> Bool {
        var deadline = deadline
        let result = pthread_cond_timedwait(condition, mutex, &deadline)
        return result != ETIMEDOUT
    }

    private static func deadline(after timeout: Duration) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (seconds, attoseconds) = timeout.components
        var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var wholeSeconds = Int(now.tv_sec) + Int(seconds)
        wholeSeconds += nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        return timespec(tv_sec: wholeSeconds, tv_nsec: nanoseconds)
    }
}
