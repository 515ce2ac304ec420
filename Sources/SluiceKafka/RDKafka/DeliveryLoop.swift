internal import CRdKafka
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves a producer's main queue: librdkafka hands delivery reports to
/// ``RDKafkaDeliveryReports`` and errors to the error callback while it is served.
///
/// While the producer's send thread enqueues records it serves the queue itself
/// (``servingOnThisThread(_:)``), like a C loop calling `rd_kafka_poll` between sends:
/// serving a report frees librdkafka's copy of the record, which then happens on the thread
/// that allocated it. A flush serves it the same way. The rest of the time a dedicated
/// thread waits for reports and serves them.
///
/// The queue is served only while holding `serving`, so reports reach `onDelivery` one at a
/// time and in librdkafka's order, whichever thread serves them. The delivery thread sleeps
/// in `poll(2)` on a pipe librdkafka writes to when the queue stops being empty, not in
/// `rd_kafka_poll`, so that it never holds `serving` while waiting.
///
/// `@unchecked Sendable`: `queue` and the pipe are created in `init` and released in
/// `deinit`; in between, librdkafka allows serving the queue from any thread; the rest is
/// atomic or lock-protected.
final class DeliveryLoop: @unchecked Sendable {
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private let thread: DispatchQueue
    private let isStopping = Atomic<Bool>(false)
    private let idleWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let serving = Mutex<Void>(())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(client: RDKafkaClient, label: String) {
        self.client = client
        self.queue = rd_kafka_queue_get_main(client.handle)
        self.thread = DispatchQueue(label: label)
        var fds: [Int32] = [-1, -1]
        let created = pipe(&fds)
        precondition(created == 0, "DeliveryLoop: pipe failed with errno \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        self.wakeRead = fds[0]
        self.wakeWrite = fds[1]
        enableWakeUps()
    }

    func start() {
        thread.async { self.run() }
    }

    /// Asks the loop to finish; it serves the reports queued so far first.
    func stop() {
        isStopping.store(true, ordering: .sequentiallyConsistent)
        wake()
    }

    /// Stops the loop and waits until it has handed out every queued report.
    func stopAndWait() async {
        stop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            thread.async { continuation.resume() }
        }
    }

    /// Waits until every report queued now has been served.
    func drained() async {
        guard !isStopping.load(ordering: .relaxed) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            idleWaiters.withLock { $0.append(continuation) }
            wake()
        }
    }

    /// The right to serve the queue, held by the thread running ``servingOnThisThread(_:)``.
    struct Server {
        fileprivate let loop: DeliveryLoop

        /// Serves every queued report, first waiting up to `milliseconds` for one when none is queued.
        func handOutQueued(waitingUpTo milliseconds: Int32) {
            loop.serveQueued(firstWaitingUpTo: milliseconds)
        }
    }

    /// Runs `body` on the calling thread as the only thread serving the queue; the delivery
    /// thread sleeps meanwhile (librdkafka stops waking it) and serves what is left afterwards.
    func servingOnThisThread<Result>(_ body: (Server) throws -> Result) throws -> Result {
        try serving.withLock { _ in
            rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
            defer {
                enableWakeUps()
                wake()
            }
            return try body(Server(loop: self))
        }
    }

    private func enableWakeUps() {
        var signal: UInt8 = 1
        rd_kafka_queue_io_event_enable(queue, wakeWrite, &signal, 1)
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 64)
        var senderWasServing = false
        while true {
            let stopping = isStopping.load(ordering: .sequentiallyConsistent)
            var wait = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
            // The timeout only bounds how long a missed wake-up could delay reports.
            _ = poll(&wait, 1, stopping && !senderWasServing ? 0 : 100)
            while read(wakeRead, &buffer, buffer.count) > 0 {}
            // Never wait for the lock: a send holds it for a whole batch (and Swift's Mutex
            // spins meanwhile), and wakes this thread when it lets go.
            // Emptiness is checked under the lock: no other thread can be handing out a report then.
            let isEmpty = serving.withLockIfAvailable { _ in
                serveQueued(firstWaitingUpTo: 0)
                return rd_kafka_queue_length(queue) == 0
            }
            senderWasServing = isEmpty == nil
            if isEmpty == true {
                for waiter in idleWaiters.withLock({ waiters in defer { waiters = [] }; return waiters }) {
                    waiter.resume()
                }
                if stopping { break }
            }
        }
    }

    /// Serves every queued report and error, waiting up to `milliseconds` for the first.
    /// Call with `serving` held.
    private func serveQueued(firstWaitingUpTo milliseconds: Int32) {
        _ = rd_kafka_poll(client.handle, milliseconds)
    }

    deinit {
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
        rd_kafka_queue_destroy(queue)
        close(wakeRead)
        close(wakeWrite)
    }
}
