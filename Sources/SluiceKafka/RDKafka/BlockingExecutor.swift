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
    ///
    /// `body`, and everything it captured, is released before the caller resumes: a caller that
    /// closes something `body` used (an LMDB store, whose directory lock lasts as long as it
    /// does) finds it gone, instead of racing the dispatch thread that still held the closure.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let call = Call<T, any Error>(body)
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: call.runAndRelease())
            }
        }
    }

    /// Runs a non-throwing `body` on the executor's thread and suspends the caller until it
    /// finishes; `body` is released before the caller resumes, as with the throwing variant.
    package func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        let call = Call<T, Never>(body)
        return await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(with: call.runAndRelease())
            }
        }
    }

    /// A closure that is called once and dropped right after.
    private final class Call<T: Sendable, Failure: Error>: @unchecked Sendable {
        // Written once on the caller's thread before the queue sees it (dispatch orders the
        // two), then taken once on the queue's thread.
        private var body: (@Sendable () throws(Failure) -> T)?

        init(_ body: @escaping @Sendable () throws(Failure) -> T) {
            self.body = body
        }

        func runAndRelease() -> Result<T, Failure> {
            let body = self.body.take()!
            return Result { () throws(Failure) -> T in try body() }
        }
    }
}
