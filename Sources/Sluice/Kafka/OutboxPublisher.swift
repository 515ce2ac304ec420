import Logging
import SluiceKafka
import Synchronization

/// Publishes outbox entries with the idempotent producer and tracks which were confirmed.
///
/// Each record carries two headers: `sluice.writer` (application id and input
/// partition) and `sluice.seq` (the writer's sequence number), which a
/// restarted process reads back to find what was already published. The
/// output partition is the one fixed in the entry.
final class OutboxPublisher: Sendable {
    static let writerHeader = "sluice.writer"
    static let sequenceHeader = "sluice.seq"

    /// Whether a sink may not set a header of this name: one of the two recovery reads.
    static func isReserved(_ headerName: String) -> Bool {
        headerName == writerHeader || headerName == sequenceHeader
    }

    fileprivate struct Tracking {
        /// Outbox key and when it was handed over, by producer id, for records not yet confirmed.
        var inFlight = InFlightRecords()
        /// Time from handing a record over to its confirmation, since the last drain (at most 10,000 kept).
        var latencies: [Duration] = []
        var confirmed: [OutboxKey] = []
        var scanOffsets: [OutputPartition: Int64] = [:]
        /// The output partition of the latest confirmations and the scan offset they give, not
        /// yet in `scanOffsets`: reports come in runs of one partition, so its topic is hashed
        /// once per run rather than once per report.
        var latestScan: (topic: String, partition: Int32, offset: Int64)?
        var failure: KafkaError?
        var publishedCount: UInt64 = 0
    }

    private let applicationID: String
    private let producer: KafkaProducer
    private let tracking: TrackingBox
    private let partitionCounts = Mutex<[String: Int]>([:])

    /// Creates the producer. `onConfirm` is not needed: confirmations are drained at checkpoints.
    init(applicationID: String, configuration: KafkaProducerConfiguration, logger: Logger) throws {
        self.applicationID = applicationID
        let tracking = TrackingBox()
        self.tracking = tracking
        producer = try KafkaProducer(configuration: configuration, logger: logger) { report in
            Self.record(report, in: tracking)
        }
    }

    /// The header value naming a writer.
    static func writerName(applicationID: String, partition: InputPartition) -> String {
        "\(applicationID)|\(partition.topic)|\(partition.partition)"
    }

    /// The number of partitions of `topic` if ``partitionCount(of:)`` knows it already: read
    /// without leaving the caller's actor.
    func cachedPartitionCount(of topic: String) -> Int? {
        partitionCounts.withLock { $0[topic] }
    }

    /// The number of partitions of `topic`, cached.
    func partitionCount(of topic: String) async throws -> Int {
        if let known = partitionCounts.withLock({ $0[topic] }) { return known }
        let count = try await producer.partitionCount(topic: topic, timeout: .seconds(30))
        partitionCounts.withLock { $0[topic] = count }
        return count
    }

    /// The output partition of a record with `key` in a topic of `count` partitions: the
    /// Java-compatible murmur2 choice, or without a key a spread one (`fallback` modulo the count).
    static func partition(forKey key: [UInt8]?, partitionCount count: Int, fallback: Int64) -> Int32 {
        if let key { return KafkaProducer.partition(forKey: key, partitionCount: count) }
        return Int32(truncatingIfNeeded: fallback % Int64(count))
    }

    /// The largest record the producer takes (its `message.max.bytes`), counted as
    /// ``countedSize(of:)`` counts.
    var maxRecordBytes: Int { producer.maxRecordBytes }

    /// The size the producer counts for `entry` as published: with the writer and sequence
    /// headers this publisher adds. Allocates nothing: every result is checked.
    func countedSize(of entry: OutboxEntry) -> Int {
        var size = KafkaProducer.countedSize(keyCount: entry.recordKey?.count ?? 0, valueCount: entry.recordValue.count)
        for header in entry.headers {
            size += KafkaProducer.countedSize(ofHeaderWithNameCount: header.name.utf8.count, valueCount: header.value.count)
        }
        size += KafkaProducer.countedSize(
            ofHeaderWithNameCount: Self.writerHeader.utf8.count, valueCount: writerNameCount(of: entry.key.writer))
        size += KafkaProducer.countedSize(
            ofHeaderWithNameCount: Self.sequenceHeader.utf8.count, valueCount: Self.decimalCount(of: entry.key.sequence))
        return size
    }

    /// Whether `entry`, published, is larger than the producer takes.
    func exceedsLimit(_ entry: OutboxEntry) -> Bool {
        countedSize(of: entry) > maxRecordBytes
    }

    /// The length of ``writerName(applicationID:partition:)`` in bytes, without making it.
    private func writerNameCount(of partition: InputPartition) -> Int {
        applicationID.utf8.count + 1 + partition.topic.utf8.count + 1 + Self.decimalCount(of: partition.partition)
    }

    /// The length of `String(value)`, without making it: every result is checked.
    static func decimalCount(of value: Int32) -> Int {
        (value < 0 ? 1 : 0) + decimalCount(of: UInt64(value.magnitude))
    }

    /// The length of `String(value)`: the sequence header's, as ``withDecimalDigits(of:_:)`` writes it.
    static func decimalCount(of value: UInt64) -> Int {
        var rest = value
        var count = 1
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// Hands entries to the producer, in order. `crashPoints` may abort halfway.
    func publish(_ entries: [OutboxEntry], crashPoints: CrashPointSchedule) async throws {
        guard !entries.isEmpty else { return }
        let half = crashPoints.isArmed ? entries.count / 2 : entries.count
        var writerNames: [InputPartition: [UInt8]] = [:]
        try await send(entries[..<half], writerNames: &writerNames)
        if half < entries.count {
            crashPoints.reach(.midPublish)
            try await send(entries[half...], writerNames: &writerNames)
        }
    }

    /// Hands `entries` to the producer, registering their ids before the first is enqueued, so
    /// that their delivery reports find them (registered afterwards, most reports of a large
    /// outbox arrived first and were parked and moved one by one).
    private func send(_ entries: ArraySlice<OutboxEntry>, writerNames: inout [InputPartition: [UInt8]]) async throws {
        let keys = entries.map(\.key)
        try await producer.send(contentsOf: batch(of: entries, writerNames: &writerNames)) { [self] ids in
            register(ids, for: keys)
        }
    }

    /// The records of `entries`, each with the user's headers and then the writer and sequence
    /// headers, in one batch: no arrays of its own per record.
    private func batch(of entries: ArraySlice<OutboxEntry>, writerNames: inout [InputPartition: [UInt8]]) -> KafkaOutgoingBatch {
        var bytes = 0
        for entry in entries { bytes += (entry.recordKey?.count ?? 0) + entry.recordValue.count + 64 }
        var batch = KafkaOutgoingBatch(reservingCapacity: entries.count, bytes: bytes)
        // Entries come in runs of one writer: its name is looked up once per run.
        var lastWriter: (partition: InputPartition, name: [UInt8])?
        for entry in entries {
            let topic = entry.destination.topic
            let partition = entry.destination.partition
            if let key = entry.recordKey {
                batch.append(topic: topic, partition: partition, key: key, value: entry.recordValue)
            } else {
                batch.append(topic: topic, partition: partition, value: entry.recordValue)
            }
            for header in entry.headers { batch.addHeader(name: header.name, value: header.value) }
            // One writer name per input partition, not one string per record.
            let writer = entry.key.writer
            let writerName: [UInt8]
            if let lastWriter, lastWriter.partition == writer {
                writerName = lastWriter.name
            } else if let known = writerNames[writer] {
                writerName = known
                lastWriter = (writer, known)
            } else {
                writerName = Array(Self.writerName(applicationID: applicationID, partition: writer).utf8)
                writerNames[writer] = writerName
                lastWriter = (writer, writerName)
            }
            batch.addHeader(name: Self.writerHeader, value: writerName)
            Self.withDecimalDigits(of: entry.key.sequence) { batch.addHeader(name: Self.sequenceHeader, value: $0) }
        }
        return batch
    }

    /// `value` in decimal ASCII, as `Array(String(value).utf8)`.
    static func decimalDigits(_ value: UInt64) -> [UInt8] {
        withDecimalDigits(of: value) { Array($0) }
    }

    /// Calls `body` with `value` in decimal ASCII, written on the stack.
    static func withDecimalDigits<R>(of value: UInt64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // UInt64.max has 20 digits.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var start = buffer.count
            var rest = value
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            return body(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[start...])))
        }
    }

    private func register(_ ids: Range<UInt64>, for keys: [OutboxKey]) {
        assert(ids.count == keys.count, "one id per record")
        let sentAt = ContinuousClock.now
        tracking.withLock { tracking in
            tracking.inFlight.register(first: ids.lowerBound, keys: keys, sentAt: sentAt)
        }
    }

    /// Marks entries found already published by the recovery scan as confirmed.
    func markPublished(_ keys: [OutboxKey], scanOffsets: [OutputPartition: Int64]) {
        tracking.withLock { tracking in
            tracking.confirmed.append(contentsOf: keys)
            tracking.scanOffsets.merge(scanOffsets) { Swift.max($0, $1) }
        }
    }

    /// Takes the confirmations since the last call: entries to trim and new scan offsets.
    func drainConfirmed() -> (removals: [OutboxKey], scanOffsets: [OutputPartition: Int64]) {
        tracking.withLock { tracking in
            tracking.settleLatestScan()
            defer {
                tracking.confirmed.removeAll(keepingCapacity: true)
                tracking.scanOffsets.removeAll(keepingCapacity: true)
            }
            return (tracking.confirmed, tracking.scanOffsets)
        }
    }

    /// Publish latencies measured since the last call.
    func drainLatencies() -> [Duration] {
        tracking.withLock { tracking in
            defer { tracking.latencies.removeAll(keepingCapacity: true) }
            return tracking.latencies
        }
    }

    /// Client-level errors the producer reported so far.
    var brokerErrorCount: UInt64 { producer.brokerErrorCount }

    /// Times publishing waited for room in the producer's queue.
    var queueFullWaitCount: UInt64 { producer.queueFullWaitCount }

    /// Records handed over but not confirmed.
    var inFlightCount: Int { tracking.withLock { $0.inFlight.count } }

    /// Records confirmed since start.
    var publishedCount: UInt64 { tracking.withLock { $0.publishedCount } }

    /// The first delivery failure or fatal producer error, if any.
    var failure: KafkaError? {
        tracking.withLock { $0.failure } ?? producer.fatalError
    }

    /// Waits until every handed-over record is confirmed (or `timeout` passes).
    ///
    /// - Throws: ``SluiceError`` `.sinkFailure` when a delivery failed or the producer hit a fatal error.
    func waitUntilConfirmed(timeout: Duration) async throws {
        try await producer.flush(timeout: timeout)
        if let failure { throw Self.sinkFailure(failure) }
    }

    /// The error a pipeline stops with when its producer failed.
    static func sinkFailure(_ failure: KafkaError) -> SluiceError {
        SluiceError(.sinkFailure, "the producer failed and cannot continue: \(failure.message)", underlying: failure)
    }

    func close() async {
        await producer.close(timeout: .seconds(5))
    }

    private static func record(_ report: KafkaDeliveryReport, in tracking: TrackingBox) {
        tracking.withLock { tracking in
            guard let sent = tracking.inFlight.take(report.id) else {
                // Not expected: ids are registered before their records are enqueued. A
                // failure is still a failure.
                assertionFailure("delivery report for record \(report.id), which was never registered")
                if let error = report.error, tracking.failure == nil { tracking.failure = error }
                return
            }
            apply(report, key: sent.key, sentAt: sent.sentAt, to: &tracking)
        }
    }

    fileprivate static func apply(
        _ report: KafkaDeliveryReport, key: OutboxKey, sentAt: ContinuousClock.Instant, to tracking: inout Tracking
    ) {
        if let error = report.error {
            if tracking.failure == nil { tracking.failure = error }
            return
        }
        if tracking.latencies.count < 10_000 { tracking.latencies.append(ContinuousClock.now - sentAt) }
        tracking.confirmed.append(key)
        tracking.publishedCount += 1
        if let offset = report.offset {
            if let latest = tracking.latestScan, latest.partition == report.partition, latest.topic == report.topic {
                tracking.latestScan!.offset = Swift.max(latest.offset, offset + 1)
            } else {
                tracking.settleLatestScan()
                tracking.latestScan = (report.topic, report.partition, offset + 1)
            }
        }
    }
}

extension OutboxPublisher.Tracking {
    /// Moves ``latestScan`` into ``scanOffsets``.
    mutating func settleLatestScan() {
        guard let latest = latestScan else { return }
        latestScan = nil
        let partition = OutputPartition(topic: latest.topic, partition: latest.partition)
        scanOffsets[partition] = Swift.max(scanOffsets[partition] ?? 0, latest.offset)
    }
}

/// The publisher's delivery bookkeeping, shared with the producer's delivery callback.
private final class TrackingBox: Sendable {
    private let mutex = Mutex(OutboxPublisher.Tracking())

    func withLock<R>(_ body: (inout OutboxPublisher.Tracking) -> R) -> R {
        mutex.withLock { body(&$0) }
    }
}
