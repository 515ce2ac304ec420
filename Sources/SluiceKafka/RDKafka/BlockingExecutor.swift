import Dispatch

/// Runs blocking calls (librdkafka's, and the engine's syncing LMDB commits) one at a time
/// on a serial queue of their own, off Swift's cooperative pool.
///
/// A serial `DispatchQueue` created with its own label runs on overcommitting dispatch
/// threads (not always the same one), not on the limited pool that runs Swift tasks, so a
/// call blocking for seconds here never starves other tasks. Calls run one at a time, in
/// submission order. (A dedicated POSIX thread instead made no measurable difference to the
/// producer benchmark.)
package final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    package init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the executor's thread and suspends the caller until it finishes.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs a non-throwing `body` on the executor's thread and suspends the caller until it finishes.
    package func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: body())
            }
        }
    }
}
