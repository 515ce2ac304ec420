internal import CRdKafka
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Kafka producer: idempotent by default, with headers, Java-compatible key
/// partitioning and a delivery report for every record.
///
/// ``send(_:)`` only enqueues: it hands the record to librdkafka and returns an id at
/// once. The outcome arrives later through the `onDelivery` handler, one report at a time,
/// in the order librdkafka reports them: on the producer's send thread while a send runs
/// (it hands out reports between records, like a C loop calling `rd_kafka_poll` between
/// sends), else on its delivery thread. Records are enqueued on the send thread, never on
/// the cooperative pool; when librdkafka's queue is full, `send` waits there until there is
/// room, so no record is rejected for lack of space.
public final class KafkaProducer: Sendable {
    private let client: RDKafkaClient
    private let deliveryLoop: DeliveryLoop
    private let topicHandles: RDKafkaTopicHandles
    private let sendThread: BlockingExecutor
    private let controlThread: BlockingExecutor
    private let nextID = Atomic<UInt64>(1)
    private let isClosed = Atomic<Bool>(false)
    /// Whether the first ``close(timeout:)`` has finished, and the later calls waiting for it.
    private let closeProgress = Mutex<(isDone: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let logger: Logger

    /// The largest record this producer accepts (its `message.max.bytes`, 1,000,000 unless
    /// set), as ``countedSize(keyCount:valueCount:headerSizes:)`` counts a record. librdkafka
    /// refuses a larger record when it is sent (`MSG_SIZE_TOO_LARGE`).
    public let maxRecordBytes: Int

    /// Creates a producer and starts its delivery thread. It connects lazily.
    ///
    /// - Parameters:
    ///   - configuration: The producer settings.
    ///   - logger: Where the producer and librdkafka log.
    ///   - onDelivery: Called once per record with its final outcome, one call at a time, on
    ///     the producer's send or delivery thread. Keep it short and non-blocking; it delays
    ///     later reports and sends.
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration`` when the
    ///   configuration is invalid.
    public convenience init(
        configuration: KafkaProducerConfiguration, logger: Logger,
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void
    ) throws {
        try self.init(
            configuration: configuration, logger: logger, topicHandleLimit: RDKafkaTopicHandles.defaultLimit,
            onDelivery: onDelivery)
    }

    /// Creates a producer that keeps topic handles for at most `topicHandleLimit` topics and
    /// sends records to any other topic by name (tests use 0 to take that path).
    init(
        configuration: KafkaProducerConfiguration, logger: Logger, topicHandleLimit: Int,
        onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void
    ) throws {
        try configuration.validate()
        let client = try RDKafkaClient(
            type: RD_KAFKA_PRODUCER, properties: configuration.librdkafkaProperties(), logger: logger
        ) { conf in
            // Delivery reports and errors as events on the main queue, served by DeliveryLoop.
            rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
        }
        self.client = client
        self.logger = logger
        self.maxRecordBytes = client.integerProperty("message.max.bytes") ?? 1_000_000
        let name = client.name
        self.deliveryLoop = DeliveryLoop(client: client, label: "sluice.kafka.producer.delivery.\(name)", onDelivery: onDelivery)
        self.topicHandles = RDKafkaTopicHandles(client: client, limit: topicHandleLimit)
        self.sendThread = BlockingExecutor(label: "sluice.kafka.producer.send.\(name)")
        self.controlThread = BlockingExecutor(label: "sluice.kafka.producer.control.\(name)")
        deliveryLoop.start()
    }

    deinit {
        deliveryLoop.stop()
    }

    /// Enqueues `record` and returns the id its ``KafkaDeliveryReport`` will carry.
    ///
    /// Prefer ``send(contentsOf:)`` for many records: each call moves to the send thread.
    ///
    /// - Throws: ``KafkaError/Code/closed`` after ``close(timeout:)``,
    ///   ``KafkaError/Code/fatal`` after a fatal producer error, or the error librdkafka
    ///   gives for an unacceptable record (for example one larger than `message.max.bytes`).
    public func send(_ record: KafkaOutgoingRecord) async throws -> UInt64 {
        try await send(contentsOf: [record])[0]
    }

    /// Enqueues `records` in order and returns their ids, in the same order.
    ///
    /// ``send(contentsOf:)-(KafkaOutgoingBatch)`` sends records stored in one buffer instead.
    ///
    /// The records are handed to librdkafka on the producer's send thread, which also hands
    /// out the delivery reports queued meanwhile, as a C loop calling `rd_kafka_poll` between
    /// sends would: librdkafka then frees its copies of delivered records on the thread that
    /// allocated them. (A plain C loop serving reports on a second thread instead ran about
    /// 30 % slower and used about 40 % more CPU here.) While librdkafka's queue is full the
    /// send thread serves reports until there is room.
    ///
    /// - Throws: as ``send(_:)``; records before the one that failed were enqueued.
    public func send(contentsOf records: [KafkaOutgoingRecord]) async throws -> [UInt64] {
        let client = client
        let topics = topicHandles
        let first = try await enqueue(count: records.count) { first, serve in
            // Through a pointer, so that no record is copied (four retains and releases each).
            try records.withUnsafeBufferPointer { records in
                for offset in records.indices {
                    try Self.produce(
                        records.baseAddress.unsafelyUnwrapped + offset, id: first + UInt64(offset), client: client,
                        topics: topics, serve: serve)
                    Self.handOutNowAndThen(after: offset, serve: serve)
                }
            }
        }
        return (0..<UInt64(records.count)).map { first + $0 }
    }

    /// Enqueues the records of `batch` in order and returns their ids, one per record in order.
    ///
    /// As ``send(contentsOf:)-([KafkaOutgoingRecord])``, reading each record's key, value and
    /// headers from the batch's one buffer.
    ///
    /// - Throws: as ``send(_:)``; records before the one that failed were enqueued.
    @discardableResult
    public func send(contentsOf batch: KafkaOutgoingBatch) async throws -> Range<UInt64> {
        try await send(contentsOf: batch) { _ in }
    }

    /// As ``send(contentsOf:)-(KafkaOutgoingBatch)``, first calling `beforeEnqueueing` with the
    /// ids the batch's records will have, on the send thread before any of them is enqueued: a
    /// caller that tracks records by id can register them there, so that no delivery report
    /// arrives for an id it does not know yet. Not called for an empty batch, nor when the send
    /// throws before enqueueing (the producer closed or failed).
    @discardableResult
    public func send(
        contentsOf batch: KafkaOutgoingBatch, beforeEnqueueing: @escaping @Sendable (Range<UInt64>) -> Void
    ) async throws -> Range<UInt64> {
        let client = client
        let topics = topicHandles
        let count = UInt64(batch.count)
        let first = try await enqueue(count: batch.count) { [self] first, serve in
            // Checked again on the send thread, where a close or fatal error since the call
            // began would otherwise show only at the first record, after the ids were handed out.
            // (close() marks the producer closed before it sets the client's closing flag.)
            try checkOpen()
            beforeEnqueueing(first..<first + count)
            // Each distinct topic of the batch is looked up once, not once per record.
            let handles = batch.topics.map { topics.handle(named: $0) }
            try batch.bytes.withUnsafeBytes { bytes in
                try batch.entries.withUnsafeBufferPointer { entries in
                    for offset in entries.indices {
                        let entry = entries[offset]
                        let id = first + UInt64(offset)
                        let topic = Int(entry.topic)
                        let key = entry.keyCount < 0 ? nil : UnsafeRawBufferPointer(rebasing: bytes[entry.keyStart..<entry.keyStart + entry.keyCount])
                        let value = UnsafeRawBufferPointer(rebasing: bytes[entry.valueStart..<entry.valueStart + entry.valueCount])
                        try Self.produce(
                            id: id, topicName: batch.topics[topic], topicHandle: handles[topic], client: client, serve: serve
                        ) { destination in
                            let headers = entry.headerCount == 0 ? nil : Self.headers(of: entry, in: batch, bytes: bytes)
                            return Self.produceva(
                                to: destination, partition: entry.partition, key: key, value: value, headers: headers, id: id,
                                handle: client.handle)
                        }
                        Self.handOutNowAndThen(after: offset, serve: serve)
                    }
                }
            }
        }
        return first..<first + UInt64(batch.count)
    }

    /// Reserves ids for `count` records and runs `body` with the first of them on the send
    /// thread, as the only thread handing out delivery reports; hands out the reports queued
    /// by the end. Returns the first id (nothing runs when `count` is 0).
    private func enqueue(
        count: Int, _ body: @escaping @Sendable (_ first: UInt64, _ serve: DeliveryLoop.Server) throws -> Void
    ) async throws -> UInt64 {
        try checkOpen()
        guard count > 0 else { return 0 }
        let first = nextID.add(UInt64(count), ordering: .relaxed).oldValue
        let deliveryLoop = deliveryLoop
        try await sendThread.run { () throws -> Void in
            try deliveryLoop.servingOnThisThread { serve in
                try body(first, serve)
                serve.handOutQueued(waitingUpTo: 0)
            }
        }
        return first
    }

    /// Hands out the queued delivery reports after every ``serveInterval`` records.
    @inline(__always)
    private static func handOutNowAndThen(after offset: Int, serve: DeliveryLoop.Server) {
        if offset % serveInterval == serveInterval - 1 { serve.handOutQueued(waitingUpTo: 0) }
    }

    /// Waits until every record sent so far has a delivery report (delivered or failed).
    ///
    /// - Throws: ``KafkaError/Code/timeout`` when records remain after `timeout`;
    ///   ``KafkaError/Code/closed`` when ``close(timeout:)`` begins meanwhile (close then
    ///   waits for the records itself, or purges them).
    public func flush(timeout: Duration) async throws {
        try await flush(timeout: timeout, givingUpWhenClosing: true)
    }

    /// How long one `rd_kafka_flush` call waits before a flush that gives up when the
    /// producer closes looks again.
    private static let flushSlice: Duration = .milliseconds(100)

    private func flush(timeout: Duration, givingUpWhenClosing: Bool) async throws {
        let client = client
        try await controlThread.run { () throws -> Void in
            let deadline = ContinuousClock.now + timeout
            while true {
                let left = deadline - ContinuousClock.now
                let wait = givingUpWhenClosing ? Swift.min(left, Self.flushSlice) : left
                let err = rd_kafka_flush(client.handle, Swift.max(wait, .zero).timeoutMilliseconds)
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
                guard err == RD_KAFKA_RESP_ERR__TIMED_OUT else { throw KafkaError.rdKafka(err, "flush") }
                if givingUpWhenClosing && client.context.isClosing.load(ordering: .relaxed) {
                    throw KafkaError(
                        .closed,
                        "flush: the producer closed with \(rd_kafka_outq_len(client.handle)) records undelivered")
                }
                if ContinuousClock.now >= deadline {
                    throw KafkaError(
                        .timeout,
                        "flush: \(rd_kafka_outq_len(client.handle)) records still undelivered after \(timeout)",
                        rdKafkaCode: err.rawValue, isRetriable: true)
                }
            }
        }
        // The reports are now queued; wait until the delivery thread has handed them out.
        await deliveryLoop.drained()
    }

    /// The number of partitions of `topic`.
    ///
    /// - Throws: ``KafkaError/Code/connection`` when no broker answers within `timeout`.
    public func partitionCount(topic: String, timeout: Duration) async throws -> Int {
        try checkOpen()
        let client = client
        return try await controlThread.run { () throws -> Int in
            try RDKafkaMetadata.partitionCount(client: client, topic: topic, timeout: timeout)
        }
    }

    /// The fatal error the producer raised, if any. Once set, the producer is unusable:
    /// create a new one.
    public var fatalError: KafkaError? {
        guard rd_kafka_fatal_error(client.handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var text = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(client.handle, &text, text.count)
        let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var error = KafkaError.rdKafka(err, "the producer hit a fatal error; create a new one", detail: reason)
        error.code = .fatal
        error.isFatal = true
        return error
    }

    /// Stops accepting records, waits up to `timeout` for outstanding deliveries, then stops
    /// the delivery thread. Idempotent: a later call returns once the first has finished.
    ///
    /// A send running meanwhile stops at its next record and throws ``KafkaError/Code/closed``;
    /// the records it enqueued before that are among those reported.
    ///
    /// Every record sent gets exactly one report before `close` returns: records still
    /// undelivered after `timeout` are purged and reported as failed (librdkafka's
    /// `_PURGE_QUEUE` / `_PURGE_INFLIGHT`; with an idempotent producer an in-flight one may
    /// nevertheless have been written).
    public func close(timeout: Duration) async {
        guard !isClosed.exchange(true, ordering: .sequentiallyConsistent) else {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isDone = closeProgress.withLock { progress in
                    if !progress.isDone { progress.waiters.append(continuation) }
                    return progress.isDone
                }
                if isDone { continuation.resume() }
            }
            return
        }
        defer {
            let waiters = closeProgress.withLock { progress in
                progress.isDone = true
                defer { progress.waiters = [] }
                return progress.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        client.context.isClosing.store(true, ordering: .sequentiallyConsistent)
        // A send already on the send thread stops at its next record; wait for it, so that every
        // record it enqueued is in the flush below and a later send finds the producer closing.
        await sendThread.run {}
        do {
            try await flush(timeout: timeout, givingUpWhenClosing: false)
        } catch {
            logger.info("closing producer: \(error); purging undelivered records")
            let client = client
            await controlThread.run { () -> Void in
                _ = rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                _ = rd_kafka_flush(client.handle, 1_000)
            }
        }
        await deliveryLoop.stopAndWait()
    }

    private func checkOpen() throws {
        if isClosed.load(ordering: .relaxed) {
            throw KafkaError(.closed, "the producer is closed")
        }
        if let fatalError { throw fatalError }  // Cheap when there is none: one read lock.
    }

    /// The size librdkafka counts against ``maxRecordBytes`` for a record: key, value, each
    /// header's name and value with their two length prefixes, and the record's framing at its
    /// largest (librdkafka's `rd_kafka_msg_max_wire_size`).
    ///
    /// - Parameters:
    ///   - keyCount: The key's length in bytes (0 for no key).
    ///   - valueCount: The value's length in bytes.
    ///   - headerSizes: Each header's name and value length in bytes.
    public static func countedSize(
        keyCount: Int, valueCount: Int, headerSizes: [(nameCount: Int, valueCount: Int)] = []
    ) -> Int {
        // Length, attributes, timestamp delta, offset delta, key length, value length and
        // header count, each at its longest varint.
        let framing = 5 + 1 + 10 + 5 + 5 + 5 + 5
        var size = framing + keyCount + valueCount
        for header in headerSizes {
            size += countedSize(ofHeaderWithNameCount: header.nameCount, valueCount: header.valueCount)
        }
        return size
    }

    /// What one header adds to ``countedSize(keyCount:valueCount:headerSizes:)``: its name and
    /// value and their two length prefixes.
    public static func countedSize(ofHeaderWithNameCount nameCount: Int, valueCount: Int) -> Int {
        nameCount + valueCount + zigzagVarintSize(nameCount) + zigzagVarintSize(valueCount)
    }

    /// The length of `value` as a zigzag varint, as librdkafka writes header lengths.
    private static func zigzagVarintSize(_ value: Int) -> Int {
        var rest = UInt64(bitPattern: Int64(value) << 1) ^ UInt64(bitPattern: Int64(value) >> 63)
        var size = 1
        while rest >= 0x80 {
            rest >>= 7
            size += 1
        }
        return size
    }

    // MARK: Producing

    /// How many records the send thread enqueues between handing out delivery reports.
    private static let serveInterval = 1_024

    /// Enqueues `record`, handing out delivery reports while librdkafka's queue is full.
    private static func produce(
        _ record: UnsafePointer<KafkaOutgoingRecord>, id: UInt64, client: RDKafkaClient, topics: RDKafkaTopicHandles,
        serve: DeliveryLoop.Server
    ) throws {
        try produce(
            id: id, topicName: record.pointee.topic, topicHandle: topics.handle(forTopicOf: record), client: client, serve: serve
        ) { destination in
            withValueBytes(of: record) { value in
                withKeyBytes(of: record) { key in
                    produceva(
                        to: destination, partition: record.pointee.partition, key: key, value: value,
                        headers: headers(of: record.pointee.headers), id: id, handle: client.handle)
                }
            }
        }
    }

    /// Calls `attempt` with the record's destination (its topic's handle, else its name) until
    /// librdkafka takes the record, handing out delivery reports while librdkafka's queue is full.
    /// The name is only made when needed: with a handle, not even a retain of it per record.
    @inline(__always)
    private static func produce(
        id: UInt64, topicName: @autoclosure () -> String, topicHandle: OpaquePointer?, client: RDKafkaClient,
        serve: DeliveryLoop.Server,
        attempt: (rd_kafka_vu_t) -> OpaquePointer?
    ) throws {
        while true {
            // No record is enqueued once close has begun (close flushes only what came before),
            // also not after waiting for queue space.
            if client.context.isClosing.load(ordering: .relaxed) {
                throw KafkaError(.closed, "the producer closed before \(topicName()) record \(id) was sent")
            }
            let error: OpaquePointer?
            var destination = rd_kafka_vu_t()
            if let topicHandle {
                destination.vtype = RD_KAFKA_VTYPE_RKT
                destination.u.rkt = topicHandle
                error = attempt(destination)
            } else {
                error = topicName().withCString { name in
                    destination.vtype = RD_KAFKA_VTYPE_TOPIC
                    destination.u.cstr = name
                    return attempt(destination)
                }
            }
            guard let error else { return }
            guard rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw KafkaError.consuming(error, "sending to \(topicName())")
            }
            rd_kafka_error_destroy(error)
            client.context.queueFullWaits.add(1, ordering: .relaxed)
            // Room appears as delivery reports are handed out (librdkafka then frees the records).
            serve.handOutQueued(waitingUpTo: 1)
        }
    }

    /// librdkafka headers holding `headers`, or `nil` when there are none.
    private static func headers(of headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let list = rd_kafka_headers_new(headers.count)
        for header in headers {
            var name = header.name
            name.withUTF8 { name in
                header.value.withUnsafeBytes { value in addHeader(to: list, name: UnsafeRawBufferPointer(name), value: value) }
            }
        }
        return list
    }

    /// librdkafka headers holding the headers of a batch's `entry`.
    private static func headers(
        of entry: KafkaOutgoingBatch.Entry, in batch: KafkaOutgoingBatch, bytes: UnsafeRawBufferPointer
    ) -> OpaquePointer? {
        let list = rd_kafka_headers_new(Int(entry.headerCount))
        for header in batch.headers[Int(entry.headerStart)..<Int(entry.headerStart) + Int(entry.headerCount)] {
            addHeader(
                to: list, name: UnsafeRawBufferPointer(rebasing: bytes[header.nameStart..<header.nameStart + header.nameCount]),
                value: UnsafeRawBufferPointer(rebasing: bytes[header.valueStart..<header.valueStart + header.valueCount]))
        }
        return list
    }

    /// Adds a header to `list` (librdkafka copies name and value). An empty value is sent as
    /// an empty value, not a null one: librdkafka takes a value without an address for null,
    /// so an empty one gets some valid address (none of it is read).
    private static func addHeader(to list: OpaquePointer?, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { scratch in
            let somewhere = UnsafeRawPointer(scratch.baseAddress!)
            _ = rd_kafka_header_add(
                list, (name.baseAddress ?? somewhere).assumingMemoryBound(to: CChar.self), name.count,
                value.baseAddress ?? somewhere, value.count)
        }
    }

    /// Calls `rd_kafka_produceva` and returns its error, if any. On success librdkafka owns
    /// `headers`; on failure they are destroyed here.
    @inline(__always)
    private static func produceva(
        to destination: rd_kafka_vu_t, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: OpaquePointer?, id: UInt64, handle: OpaquePointer
    ) -> OpaquePointer? {
        let error = withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { vus in
            var count = 0
            func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var vu = rd_kafka_vu_t()
                vu.vtype = type
                fill(&vu)
                (vus.baseAddress! + count).initialize(to: vu)
                count += 1
            }
            vus.baseAddress!.initialize(to: destination)
            count += 1
            if let partition {
                append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition }
            }
            append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            append(RD_KAFKA_VTYPE_VALUE) {
                // An empty value goes without an address: librdkafka sends it as a null value.
                $0.u.mem.ptr = value.isEmpty ? nil : UnsafeMutableRawPointer(mutating: value.baseAddress)
                $0.u.mem.size = value.count
            }
            if let key {
                append(RD_KAFKA_VTYPE_KEY) {
                    // An empty key needs an address, or librdkafka sends no key: any valid one
                    // will do (none of it is read), such as this call's own scratch space.
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress) ?? UnsafeMutableRawPointer(vus.baseAddress!)
                    $0.u.mem.size = key.count
                }
            }
            append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(id)) }
            if let headers {
                append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers }
            }
            return rd_kafka_produceva(handle, vus.baseAddress, count)
        }
        if error != nil, let headers { rd_kafka_headers_destroy(headers) }
        return error
    }
}

// The record's key and value are read in place through a `Span`: `withUnsafeBytes` on the
// array itself retains and releases it around the call (an atomic each; ~12 ns apiece on
// these machines, paid per record).

/// Calls `body` with the value's bytes in place. (`produceva` sends an empty value as null,
/// as ``KafkaOutgoingRecord/value`` promises.)
@inline(__always)
private func withValueBytes<R>(
    of record: UnsafePointer<KafkaOutgoingRecord>, _ body: (UnsafeRawBufferPointer) -> R
) -> R {
    if #available(macOS 26, *) { return record.pointee.value.span.withUnsafeBytes(body) }
    return record.pointee.value.withUnsafeBytes(body)
}

/// Calls `body` with the key's bytes in place, or with `nil` when there is no key. (`produceva`
/// keeps an empty key distinct from no key.)
@inline(__always)
private func withKeyBytes<R>(
    of record: UnsafePointer<KafkaOutgoingRecord>, _ body: (UnsafeRawBufferPointer?) -> R
) -> R {
    if #available(macOS 26, *) {
        guard let key = record.pointee.key?.span else { return body(nil) }
        return key.withUnsafeBytes { body($0) }
    }
    guard let key = record.pointee.key else { return body(nil) }
    return key.withUnsafeBytes { body($0) }
}

extension KafkaProducer {
    /// How many client-level errors librdkafka reported so far (broker connections failing,
    /// requests failing before a retry, fatal errors); for metrics. librdkafka retries most
    /// of them by itself.
    public var brokerErrorCount: UInt64 { client.context.errorCount.load(ordering: .relaxed) }

    /// How many times a send found librdkafka's queue full (``KafkaProducerConfiguration/maxQueuedRecords``)
    /// and waited for delivery reports to make room; for metrics. A count that keeps growing
    /// means the broker or the network cannot keep up with the records sent.
    public var queueFullWaitCount: UInt64 { client.context.queueFullWaits.load(ordering: .relaxed) }
}
