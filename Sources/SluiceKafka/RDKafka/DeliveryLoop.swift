internal import CRdKafka
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves a producer's main event queue: delivery reports go to `onDelivery`, errors to the log.
///
/// While the producer's send thread enqueues records it serves the events itself
/// (``servingOnThisThread(_:)``), like a C loop calling `rd_kafka_poll` between sends:
/// serving a report frees librdkafka's copy of the record, which then happens on the thread
/// that allocated it. The rest of the time a dedicated thread waits for events and serves them.
///
/// Events are taken off the queue and handed out only while holding `serving`, so reports
/// reach `onDelivery` one at a time and in librdkafka's order, whichever thread serves them.
/// The delivery thread sleeps in `poll(2)` on a pipe librdkafka writes to when the queue
/// stops being empty, not in `rd_kafka_queue_poll`, so that it never holds `serving` while
/// waiting.
///
/// `@unchecked Sendable`: `queue` and the pipe are created in `init` and released in
/// `deinit`; in between, librdkafka allows polling the queue from any thread; the rest is
/// atomic or lock-protected.
final class DeliveryLoop: @unchecked Sendable {
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private let thread: DispatchQueue
    private let onDelivery: @Sendable (KafkaDeliveryReport) -> Void
    private let isStopping = Atomic<Bool>(false)
    /// Whether the loop has ended, and the callers of ``drained()`` waiting for it to find the
    /// queue empty. One lock for both, so that no waiter arrives after the loop's last look.
    private let idleWaiters = Mutex<(hasEnded: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let serving = Mutex<Void>(())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(client: RDKafkaClient, label: String, onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void) {
        self.client = client
        self.queue = rd_kafka_queue_get_main(client.handle)
        self.thread = DispatchQueue(label: label)
        self.onDelivery = onDelivery
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

    /// Asks the loop to finish; it serves the events queued so far first.
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

    /// Waits until every event queued now has been served.
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let hasEnded = idleWaiters.withLock { state in
                if !state.hasEnded { state.waiters.append(continuation) }
                return state.hasEnded
            }
            // After the loop ended, ``stopAndWait()`` has served what was queued.
            if hasEnded { continuation.resume() } else { wake() }
        }
    }

    /// The right to hand out events, held by the thread running ``servingOnThisThread(_:)``.
    struct Server {
        fileprivate let loop: DeliveryLoop

        /// Hands out every queued event, first waiting up to `milliseconds` for one when none is queued.
        func handOutQueued(waitingUpTo milliseconds: Int32) {
            loop.serveQueued(firstWaitingUpTo: milliseconds)
        }
    }

    /// Runs `body` on the calling thread as the only thread handing out events; the delivery
    /// thread sleeps meanwhile (librdkafka stops waking it) and serves what is left afterwards.
    func servingOnThisThread<Result>(_ body: (Server) throws -> Result) throws -> Result {
        // After the lock is released: woken while it is still held, the delivery thread finds it
        // taken and sleeps up to its 100 ms timeout, and reports queued meanwhile wait as long.
        defer {
            enableWakeUps()
            wake()
        }
        return try serving.withLock { _ in
            rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
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
                let waiters = idleWaiters.withLock { state in
                    if stopping { state.hasEnded = true }
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
                if stopping { break }
            }
        }
    }

    /// Hands out every queued event, waiting up to `milliseconds` for the first. Call with `serving` held.
    private func serveQueued(firstWaitingUpTo milliseconds: Int32) {
        var timeout = milliseconds
        while let event = rd_kafka_queue_poll(queue, timeout) {
            handle(event)
            rd_kafka_event_destroy(event)
            timeout = 0
        }
    }

    /// The part of a delivered (or failed) record's message a report needs.
    private struct Outcome {
        var id: UInt64
        var topic: OpaquePointer?
        var partition: Int32
        var offset: Int64
        var err: rd_kafka_resp_err_t
    }

    /// How many reports are read from librdkafka's messages before they are handed out.
    private static let reportChunk = 512

    /// Hands out the delivery reports of a `RD_KAFKA_EVENT_DR` event.
    ///
    /// In two passes per chunk: first the messages' fields are read into a local array, then
    /// the reports are made and handed out. The messages were last written by librdkafka's
    /// broker thread, so reading them misses the cache. With a report's retain of its topic
    /// name (an atomic instruction, which waits for every earlier load) between two reads,
    /// each report waited for its own miss: that one retain had about 8 % of the sending
    /// threads' samples in a profile. Read in a row, the misses overlap (454 → 62 samples).
    private func handOutReports(of event: OpaquePointer) {
        withUnsafeTemporaryAllocation(of: Outcome.self, capacity: Self.reportChunk) { outcomes in
            // One report, updated in place for each record: no copy of its topic name per record.
            var topicHandle: OpaquePointer?
            var report = KafkaDeliveryReport(id: 0, topic: "", partition: 0, offset: nil, error: nil)
            while true {
                var count = 0
                while count < outcomes.count, let message = rd_kafka_event_message_next(event) {
                    outcomes.initializeElement(
                        at: count,
                        to: Outcome(
                            id: UInt64(UInt(bitPattern: message.pointee._private)), topic: message.pointee.rkt,
                            partition: message.pointee.partition, offset: message.pointee.offset, err: message.pointee.err))
                    count += 1
                }
                guard count > 0 else { return }
                for outcome in outcomes[..<count] {
                    if topicHandle != outcome.topic || report.topic.isEmpty {
                        // Reports mostly share a topic: its name is made once per run of them.
                        topicHandle = outcome.topic
                        report.topic = outcome.topic.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                    }
                    let delivered = outcome.err == RD_KAFKA_RESP_ERR_NO_ERROR
                    report.id = outcome.id
                    report.partition = outcome.partition
                    report.offset = delivered && outcome.offset >= 0 ? outcome.offset : nil
                    report.error = delivered
                        ? nil : KafkaError.rdKafka(outcome.err, "delivering record \(outcome.id) to \(report.topic)")
                    onDelivery(report)
                }
                // Outcome is a trivial type: the chunk needs no deinitialization before reuse.
            }
        }
    }

    deinit {
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
        rd_kafka_queue_destroy(queue)
        close(wakeRead)
        close(wakeWrite)
    }

    private func handle(_ event: OpaquePointer) {
        switch Int32(rd_kafka_event_type(event)) {
        case Int32(RD_KAFKA_EVENT_DR):
            handOutReports(of: event)
        case Int32(RD_KAFKA_EVENT_ERROR):
            let err = rd_kafka_event_error(event)
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            client.context.errorCount.add(1, ordering: .relaxed)
            client.context.logger.log(
                level: rd_kafka_event_error_is_fatal(event) != 0 ? .error : .warning,
                "producer error: \(text)",
                metadata: [
                    "sluice.kafka.error": "\(String(cString: rd_kafka_err2name(err)))",
                    "sluice.kafka.fatal": "\(rd_kafka_event_error_is_fatal(event) != 0)",
                ])
        default:
            break
        }
    }
}
