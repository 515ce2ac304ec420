internal import CRdKafka
public import Logging
import Synchronization

/// A Kafka consumer that reads records in batches, by manual assignment or as a member
/// of a consumer group.
///
/// Every blocking librdkafka call (polling, synchronous commit, offset and metadata
/// queries, close) runs on one of the consumer's two dedicated threads, never on Swift's
/// cooperative pool: polling, seeking and rebalance handling on one, queries and commits on
/// the other, so a commit does not wait behind a long poll.
///
/// Group rebalances are handed to the caller: ``poll(maxRecords:timeout:)`` returns a
/// ``KafkaRebalanceEvent`` and librdkafka's assignment stays as it was until the caller
/// passes that event to ``acknowledge(_:startOffsets:)``. Acknowledge a revocation before
/// polling again, or the next poll may still return records of the revoked partitions.
///
/// Offsets are never committed automatically.
public final class KafkaConsumer: Sendable {
    private let client: RDKafkaClient
    private let consumerQueue: ConsumerQueue
    private let pollThread: BlockingExecutor
    private let controlThread: BlockingExecutor
    private let logger: Logger
    private let hasGroup: Bool
    private let state = Mutex(State())

    private struct State {
        var isClosed = false
        /// Rebalances returned by `poll` and not yet acknowledged.
        var unacknowledged: [RDKafkaContext.Rebalance] = []
    }

    /// Creates a consumer. It connects lazily, on the first assignment or subscription.
    ///
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration`` when the
    ///   configuration is invalid.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger) throws {
        try configuration.validate()
        // librdkafka needs a group for assign() and committed-offset look-ups even when the
        // consumer never joins it; a private one keeps such consumers apart.
        let groupID = configuration.groupID ?? "sluice-unjoined-\(UInt64.random(in: 0...UInt64.max))"
        let client = try RDKafkaClient(
            type: RD_KAFKA_CONSUMER, properties: configuration.librdkafkaProperties(groupID: groupID),
            logger: logger
        ) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, kafkaConsumerRebalanceCallback)
            rd_kafka_conf_set_offset_commit_cb(conf, kafkaConsumerCommitCallback)
        }
        // Serve errors and callbacks from the consumer queue, which poll() drains.
        rd_kafka_poll_set_consumer(client.handle)
        guard let queue = rd_kafka_queue_get_consumer(client.handle) else {
            throw KafkaError(.configuration, "librdkafka created a consumer without a consumer group queue")
        }
        self.client = client
        self.consumerQueue = ConsumerQueue(queue: queue, client: client)
        self.logger = logger
        self.hasGroup = configuration.groupID != nil
        let name = client.name
        self.pollThread = BlockingExecutor(label: "sluice.kafka.consumer.poll.\(name)")
        self.controlThread = BlockingExecutor(label: "sluice.kafka.consumer.control.\(name)")
    }

    deinit {
        client.context.isClosing.store(true, ordering: .sequentiallyConsistent)
    }

    // MARK: Assignment

    /// Replaces the consumer's assignment with `partitions`, each starting at the given offset.
    ///
    /// Offsets may be real offsets or ``KafkaOffset`` values. Use this or
    /// ``subscribe(topics:)``, not both. librdkafka's main thread applies the assignment while
    /// the call waits, so it runs on the consumer's control thread, off the cooperative pool.
    public func assign(_ partitions: [KafkaTopicPartition: Int64]) async throws {
        try checkOpen()
        let client = client
        try await controlThread.run { () throws -> Void in
            let err = RDKafkaTopicPartitionList.with(partitions) { rd_kafka_assign(client.handle, $0) }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.rdKafka(err, "assigning \(partitions.count) partitions failed")
            }
        }
    }

    /// Joins the consumer group and subscribes to `topics`. Assignments then arrive as
    /// ``KafkaRebalanceEvent``s from ``poll(maxRecords:timeout:)``. Like ``assign(_:)``, it
    /// waits for librdkafka's main thread, on the consumer's control thread.
    ///
    /// - Throws: ``KafkaError/Code/invalidArgument`` when the configuration has no `groupID`.
    public func subscribe(topics: [String]) async throws {
        try checkOpen()
        guard hasGroup else {
            throw KafkaError(.invalidArgument, "subscribe needs a consumer group: set KafkaConsumerConfiguration.groupID")
        }
        guard !topics.isEmpty else {
            throw KafkaError(.invalidArgument, "subscribe needs at least one topic")
        }
        let client = client
        try await controlThread.run { () throws -> Void in
            let list = RDKafkaTopicPartitionList.make(topics.map { KafkaTopicPartition(topic: $0, partition: -1) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_subscribe(client.handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.rdKafka(err, "subscribing to \(topics) failed")
            }
        }
    }

    // MARK: Polling

    /// Reads up to `maxRecords` records, waiting at most `timeout` for the first one.
    ///
    /// Returns as soon as any records are available (with every record already fetched, up
    /// to `maxRecords`), when a rebalance happens, or when `timeout` passes (with an empty
    /// batch). A returned ``KafkaPollResult/rebalance`` must be passed to
    /// ``acknowledge(_:startOffsets:)``.
    ///
    /// - Throws: ``KafkaError/Code/fatal`` when the consumer hit a fatal error,
    ///   ``KafkaError/Code/closed`` after ``close()``.
    public func poll(maxRecords: Int, timeout: Duration) async throws -> KafkaPollResult {
        precondition(maxRecords > 0, "maxRecords must be positive")
        try checkOpen()
        let queue = consumerQueue
        let result = try await pollThread.run { [self] () throws -> PolledBatch in
            let polled = try queue.poll(maxRecords: maxRecords, timeoutMs: timeout.timeoutMilliseconds)
            // Registered on the poll thread, so that a close() queued behind this poll finds it
            // (librdkafka waits for every rebalance it handed out to be applied before closing).
            if let rebalance = polled.rebalance { state.withLock { $0.unacknowledged.append(rebalance) } }
            return polled
        }
        if let rebalance = result.rebalance {
            logger.debug(
                "rebalance \(rebalance.event)",
                metadata: ["sluice.kafka.cooperative": "\(rebalance.isCooperative)"])
        }
        return KafkaPollResult(records: result.batch, rebalance: result.rebalance?.event, partitionEnds: result.partitionEnds)
    }

    /// Applies a rebalance that ``poll(maxRecords:timeout:)`` returned.
    ///
    /// For `.assigned`, partitions start at `startOffsets[partition]` when given (an offset
    /// or a ``KafkaOffset`` value), else at the committed offset, else at
    /// `autoOffsetReset`. `startOffsets` is ignored for `.revoked`.
    ///
    /// - Throws: ``KafkaError/Code/invalidArgument`` when `event` was not returned by a poll
    ///   or was already acknowledged; ``KafkaError/Code/closed`` once ``close()`` began (it
    ///   applies every rebalance still unacknowledged).
    public func acknowledge(_ event: KafkaRebalanceEvent, startOffsets: [KafkaTopicPartition: Int64]) async throws {
        try checkUnacknowledged(event)
        let client = client
        try await pollThread.run { [self] () throws -> Void in
            // Taken on the poll thread, where close() applies whatever is left: taken any earlier,
            // a close() between taking and applying it would leave it unapplied, and librdkafka's
            // close would wait for it forever.
            try checkUnacknowledged(event)
            let rebalance = state.withLock { state in state.unacknowledged.first { $0.event == event }! }
            // Forgotten only once applied: an event whose assignment librdkafka refused (say, a
            // start offset it rejects) can be acknowledged again, and close() still applies it
            // (librdkafka's close waits for every rebalance to be applied).
            try Self.apply(rebalance, startOffsets: startOffsets, client: client)
            state.withLock { state in
                if let index = state.unacknowledged.firstIndex(where: { $0.event == event }) { state.unacknowledged.remove(at: index) }
            }
        }
    }

    private func checkUnacknowledged(_ event: KafkaRebalanceEvent) throws {
        try state.withLock { state in
            if state.isClosed {
                throw KafkaError(.closed, "acknowledge: the consumer is closed (closing applied \(event))")
            }
            guard state.unacknowledged.contains(where: { $0.event == event }) else {
                throw KafkaError(
                    .invalidArgument, "acknowledge: \(event) was not returned by poll or is already acknowledged")
            }
        }
    }

    /// Carries out a rebalance in librdkafka. Runs on the poll thread (or in a callback).
    fileprivate static func apply(
        _ rebalance: RDKafkaContext.Rebalance, startOffsets: [KafkaTopicPartition: Int64], client: RDKafkaClient
    ) throws {
        let rk = client.handle
        switch rebalance.event {
        case .assigned(let partitions):
            var offsets: [KafkaTopicPartition: Int64] = [:]
            for partition in partitions { offsets[partition] = startOffsets[partition] ?? KafkaOffset.committed }
            try RDKafkaTopicPartitionList.with(offsets) { list in
                if rebalance.isCooperative {
                    if let error = rd_kafka_incremental_assign(rk, list) {
                        throw KafkaError.consuming(error, "incremental assign")
                    }
                } else {
                    let err = rd_kafka_assign(rk, list)
                    if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, "assign") }
                }
            }
        case .revoked(let partitions):
            if rebalance.isCooperative {
                let list = RDKafkaTopicPartitionList.make(partitions)
                defer { rd_kafka_topic_partition_list_destroy(list) }
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    throw KafkaError.consuming(error, "incremental unassign")
                }
            } else {
                let err = rd_kafka_assign(rk, nil)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, "unassign") }
            }
        }
    }

    /// Moves the read position of an assigned partition to `offset` (an offset or a
    /// ``KafkaOffset`` value); the next poll returns records from there.
    public func seek(_ partition: KafkaTopicPartition, to offset: Int64) async throws {
        try checkOpen()
        let client = client
        try await pollThread.run { () throws -> Void in
            let list = RDKafkaTopicPartitionList.make([partition: offset])
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(client.handle, list, 10_000) {
                throw KafkaError.consuming(error, "seek \(partition) to \(offset)")
            }
            try RDKafkaTopicPartitionList.throwFirstError(list, "seek")
        }
    }

    /// Stops fetching `partitions` until ``resume(_:)``; records already fetched for them
    /// are discarded and fetched again after resuming.
    ///
    /// Runs on the consumer's control thread: librdkafka waits for each partition's broker
    /// thread to take the pause, which may be busy connecting.
    public func pause(_ partitions: [KafkaTopicPartition]) async throws {
        try await setFetching(partitions, paused: true)
    }

    /// Resumes fetching partitions paused with ``pause(_:)``, on the control thread as it.
    public func resume(_ partitions: [KafkaTopicPartition]) async throws {
        try await setFetching(partitions, paused: false)
    }

    private func setFetching(_ partitions: [KafkaTopicPartition], paused: Bool) async throws {
        try checkOpen()
        let client = client
        try await controlThread.run { () throws -> Void in
            let list = RDKafkaTopicPartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let operation = paused ? "pause" : "resume"
            let err = paused ? rd_kafka_pause_partitions(client.handle, list) : rd_kafka_resume_partitions(client.handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, operation) }
            try RDKafkaTopicPartitionList.throwFirstError(list, operation)
        }
    }

    // MARK: Offsets

    /// Commits `offsets` (each the offset of the next record to read) to the group and
    /// waits for the broker to confirm, at most `timeout`.
    ///
    /// - Throws: ``KafkaError/Code/timeout`` when no answer came in time (librdkafka's own
    ///   commit waits without limit while no group coordinator is reachable); the commit may
    ///   still land later.
    public func commit(_ offsets: [KafkaTopicPartition: Int64], timeout: Duration) async throws {
        try checkOpen()
        try requireGroup("commit")
        guard !offsets.isEmpty else { return }
        let client = client
        try await controlThread.run { () throws -> Void in
            // The result comes as an event on a queue of this call's own, which it waits on
            // with a limit; a late result finds the queue gone and is dropped.
            guard let queue = rd_kafka_queue_new(client.handle) else {
                throw KafkaError(.broker, "commit: librdkafka could not make a queue")
            }
            defer { rd_kafka_queue_destroy(queue) }
            try RDKafkaTopicPartitionList.with(offsets) { list in
                let err = rd_kafka_commit_queue(client.handle, list, queue, nil, nil)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, "commit") }
            }
            guard let event = rd_kafka_queue_poll(queue, timeout.timeoutMilliseconds) else {
                throw KafkaError(
                    .timeout, "commit: the group coordinator did not confirm within \(timeout); is it reachable?", isRetriable: true)
            }
            defer { rd_kafka_event_destroy(event) }
            let err = rd_kafka_event_error(event)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, "commit") }
            if let list = rd_kafka_event_topic_partition_list(event) {
                try RDKafkaTopicPartitionList.throwFirstError(list, "commit")
            }
        }
    }

    /// Starts committing `offsets` (each the offset of the next record to read) without
    /// waiting; a failure is logged.
    public func commitAsync(_ offsets: [KafkaTopicPartition: Int64]) throws {
        try checkOpen()
        try requireGroup("commitAsync")
        guard !offsets.isEmpty else { return }
        let err = RDKafkaTopicPartitionList.with(offsets) { rd_kafka_commit(client.handle, $0, 1) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, "commitAsync") }
    }

    /// The group's committed offsets (next offset to read) for `partitions`; a partition
    /// without a committed offset is absent from the result.
    public func committedOffsets(
        for partitions: [KafkaTopicPartition], timeout: Duration
    ) async throws -> [KafkaTopicPartition: Int64] {
        try checkOpen()
        try requireGroup("committedOffsets")
        let client = client
        return try await controlThread.run { () throws -> [KafkaTopicPartition: Int64] in
            let list = RDKafkaTopicPartitionList.make(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(client.handle, list, timeout.timeoutMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError.rdKafka(err, "reading committed offsets") }
            try RDKafkaTopicPartitionList.throwFirstError(list, "reading committed offset of")
            var result: [KafkaTopicPartition: Int64] = [:]
            for element in RDKafkaTopicPartitionList.elements(list) where element.offset >= 0 {
                result[KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)] =
                    element.offset
            }
            return result
        }
    }

    /// The low and high watermarks of `partition`, asked of its leader: the first retained
    /// offset and the offset the next record will get.
    public func watermarks(
        for partition: KafkaTopicPartition, timeout: Duration
    ) async throws -> (low: Int64, high: Int64) {
        try checkOpen()
        let client = client
        let pair = try await controlThread.run { () throws -> [Int64] in
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_query_watermark_offsets(
                client.handle, partition.topic, partition.partition, &low, &high, timeout.timeoutMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.rdKafka(err, "querying watermarks of \(partition)")
            }
            return [low, high]
        }
        return (pair[0], pair[1])
    }

    /// The watermarks librdkafka last saw for `partition` while fetching, without asking a
    /// broker; `nil` when it has seen none yet.
    public func cachedWatermarks(for partition: KafkaTopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// The number of partitions of `topic`.
    ///
    /// - Throws: ``KafkaError/Code/connection`` when no broker answers within `timeout`,
    ///   ``KafkaError/Code/unknownTopicOrPartition`` when the topic does not exist.
    public func partitionCount(topic: String, timeout: Duration) async throws -> Int {
        try checkOpen()
        let client = client
        return try await controlThread.run { () throws -> Int in
            try RDKafkaMetadata.partitionCount(client: client, topic: topic, timeout: timeout)
        }
    }

    // MARK: Closing

    /// Leaves the group (revoking the assignment without further events) and stops fetching.
    /// Idempotent; every later call throws ``KafkaError/Code/closed``.
    public func close() async {
        let isFirst = state.withLock { state -> Bool in
            if state.isClosed { return false }
            state.isClosed = true
            return true
        }
        guard isFirst else { return }
        client.context.isClosing.store(true, ordering: .sequentiallyConsistent)
        let client = client
        let logger = logger
        let queue = consumerQueue
        await pollThread.run { [self] () -> Void in
            // librdkafka waits for unacknowledged rebalances; apply them before leaving. Every
            // poll and acknowledgement queued before this block has run, so the lists are complete.
            var leftovers = state.withLock { state in
                defer { state.unacknowledged = [] }
                return state.unacknowledged
            }
            leftovers += client.context.undeliveredRebalances.withLock { pending in
                defer { pending = [] }
                return pending
            }
            for rebalance in leftovers {
                do { try Self.apply(rebalance, startOffsets: [:], client: client) } catch {
                    logger.debug("applying \(rebalance.event) during close failed: \(error)")
                }
            }
            let err = rd_kafka_consumer_close(client.handle)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.info("closing consumer \(client.name): \(String(cString: rd_kafka_err2str(err)))")
            }
            queue.destroy()
        }
    }

    private func checkOpen() throws {
        if state.withLock({ $0.isClosed }) {
            throw KafkaError(.closed, "the consumer is closed")
        }
    }

    private func requireGroup(_ operation: String) throws {
        guard hasGroup else {
            throw KafkaError(.invalidArgument, "\(operation) needs a consumer group: set KafkaConsumerConfiguration.groupID")
        }
    }
}

// MARK: - Poll machinery

/// What one poll of the consumer queue produced.
private struct PolledBatch: Sendable {
    var batch: KafkaBatch
    var rebalance: RDKafkaContext.Rebalance?
    var partitionEnds: [KafkaTopicPartition: Int64] = [:]
}

/// The consumer queue handle, used only on the poll thread.
///
/// `@unchecked Sendable`: it is created before the consumer is shared and is then touched
/// only by blocks running on the consumer's serial poll thread.
private final class ConsumerQueue: @unchecked Sendable {
    private var queue: OpaquePointer?
    private let client: RDKafkaClient

    init(queue: OpaquePointer, client: RDKafkaClient) {
        self.queue = queue
        self.client = client
    }

    deinit { destroy() }

    func destroy() {
        if let queue { rd_kafka_queue_destroy(queue) }
        queue = nil
    }

    func poll(maxRecords: Int, timeoutMs: Int32) throws -> PolledBatch {
        guard let queue else { throw KafkaError(.closed, "the consumer is closed") }
        let context = client.context
        if let rebalance = takeRebalance(context) {
            return PolledBatch(batch: KafkaBatch(), rebalance: rebalance)
        }
        let buffer = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: maxRecords)
        // First take whatever is already fetched; if nothing is, wait for one record and
        // then take what arrived with it. (consume_batch_queue alone would wait for a full batch.)
        var count = max(0, consumeBatch(queue, into: buffer, maxRecords: maxRecords, context: context))
        if count == 0 && timeoutMs > 0 && !hasRebalance(context) {
            if let first = rd_kafka_consume_queue(queue, timeoutMs) {
                buffer[0] = first
                count = 1
                if maxRecords > 1 && !hasRebalance(context) {
                    count += max(0, consumeBatch(queue, into: buffer + 1, maxRecords: maxRecords - 1, context: context))
                }
            }
        }
        // Drop error messages, keeping the rest in order; partition ends are reported.
        var kept = 0
        var fatal: KafkaError?
        var partitionEnds: [KafkaTopicPartition: Int64] = [:]
        for index in 0..<count {
            let message = buffer[index]!
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                buffer[kept] = message
                kept += 1
                continue
            }
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                // The message's offset is the partition's fetch position (past transaction markers).
                if let topic = message.pointee.rkt.flatMap({ rd_kafka_topic_name($0) }) {
                    let partition = KafkaTopicPartition(topic: String(cString: topic), partition: message.pointee.partition)
                    partitionEnds[partition] = Swift.max(partitionEnds[partition] ?? .min, message.pointee.offset)
                }
            } else if err == RD_KAFKA_RESP_ERR__FATAL {
                fatal = fatalError()
            } else {
                let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
                context.errorCount.add(1, ordering: .relaxed)
                context.logger.warning(
                    "consumer error: \(text)",
                    metadata: [
                        "sluice.kafka.error": "\(String(cString: rd_kafka_err2name(err)))",
                        "sluice.kafka.partition": "\(message.pointee.partition)",
                    ])
            }
            rd_kafka_message_destroy(message)
        }
        if kept == 0 {
            buffer.deallocate()
        }
        let batch = kept == 0 ? KafkaBatch() : KafkaBatch(messages: buffer, count: kept, client: client)
        if let fatal { throw fatal }
        return PolledBatch(batch: batch, rebalance: takeRebalance(context), partitionEnds: partitionEnds)
    }

    /// Takes up to `maxRecords` already fetched records without waiting. A rebalance callback
    /// served meanwhile records its event without yielding (see
    /// ``RDKafkaContext/isConsumingBatch``); the records after it in the queue come with this
    /// batch, before the event is returned. librdkafka pauses the assigned partitions before it
    /// queues a rebalance, so they are records fetched before it.
    private func consumeBatch(
        _ queue: OpaquePointer, into buffer: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, maxRecords: Int,
        context: RDKafkaContext
    ) -> Int {
        context.isConsumingBatch.store(true, ordering: .relaxed)
        defer { context.isConsumingBatch.store(false, ordering: .relaxed) }
        return rd_kafka_consume_batch_queue(queue, 0, buffer, maxRecords)
    }

    private func fatalError() -> KafkaError {
        var text = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(client.handle, &text, text.count)
        let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var error = KafkaError.rdKafka(err, "the consumer hit a fatal error; create a new one", detail: reason)
        error.code = .fatal
        error.isFatal = true
        return error
    }

    private func hasRebalance(_ context: RDKafkaContext) -> Bool {
        context.undeliveredRebalances.withLock { !$0.isEmpty }
    }

    private func takeRebalance(_ context: RDKafkaContext) -> RDKafkaContext.Rebalance? {
        context.undeliveredRebalances.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
}

// MARK: - C callbacks

/// Records a rebalance for `poll` to return and makes a waiting consume call return.
/// While the consumer closes, applies the change at once instead.
private let kafkaConsumerRebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { rk, err, partitions, opaque in
        guard let rk, let opaque else { return }
        let context = Unmanaged<RDKafkaContext>.fromOpaque(opaque).takeUnretainedValue()
        let isCooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let list = partitions.map { RDKafkaTopicPartitionList.partitions($0) } ?? []
        let event: KafkaRebalanceEvent
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: event = .assigned(list)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: event = .revoked(list)
        default:
            context.logger.warning("rebalance failed: \(String(cString: rd_kafka_err2str(err))); clearing assignment")
            _ = rd_kafka_assign(rk, nil)
            return
        }
        if case .revoked = event, rd_kafka_assignment_lost(rk) != 0 {
            context.logger.warning("partitions lost (session timed out): \(list)")
        }
        if context.isClosing.load(ordering: .sequentiallyConsistent) {
            applyImmediately(rk: rk, event: event, isCooperative: isCooperative, partitions: partitions)
            return
        }
        context.undeliveredRebalances.withLock {
            $0.append(RDKafkaContext.Rebalance(event: event, isCooperative: isCooperative))
        }
        // A waiting single-record consume returns at once; a batch consume (which does not
        // wait) must not be told to yield.
        if !context.isConsumingBatch.load(ordering: .relaxed) { rd_kafka_yield(rk) }
    }

private func applyImmediately(
    rk: OpaquePointer, event: KafkaRebalanceEvent, isCooperative: Bool,
    partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
) {
    switch (event, isCooperative) {
    case (.assigned, true): if let error = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(error) }
    case (.revoked, true): if let error = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(error) }
    case (.assigned, false): _ = rd_kafka_assign(rk, partitions)
    case (.revoked, false): _ = rd_kafka_assign(rk, nil)
    }
}

/// Logs failed offset commits (successes are silent).
private let kafkaConsumerCommitCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { _, err, _, opaque in
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__NO_OFFSET, let opaque else { return }
        let context = Unmanaged<RDKafkaContext>.fromOpaque(opaque).takeUnretainedValue()
        context.logger.warning("offset commit failed: \(String(cString: rd_kafka_err2str(err)))")
    }

extension KafkaConsumer {
    /// How many client-level errors librdkafka reported so far (broker connections failing,
    /// requests failing before a retry, fatal errors); for metrics. librdkafka retries most
    /// of them by itself.
    public var brokerErrorCount: UInt64 { client.context.errorCount.load(ordering: .relaxed) }
}
