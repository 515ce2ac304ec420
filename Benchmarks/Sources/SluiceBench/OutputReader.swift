import Logging
import SluiceKafka

/// The pipeline's results as read back from the output topic.
struct OutputSummary: Sendable {
    var results = 0
    var distinctWindows = 0
    var readingsCounted = 0
    /// Smallest and largest record timestamp (ms since the epoch: when the record was produced).
    var firstTimestampMs: Int64 = .max
    var lastTimestampMs: Int64 = .min
    /// Per result: record timestamp minus `emitted_ms` (window closed, result handed to the sink).
    var closeToPublishMs: [Double] = []
}

enum OutputReader {
    /// Reads every record of `topic` up to its current end and summarises the IoT results.
    static func read(topic: String, partitions: Int, bootstrap: String, logger: Logger) async throws -> OutputSummary {
        let marks = try RawKafka.watermarks(bootstrap: bootstrap, topic: topic, partitions: partitions)
        let dropped = marks.low.enumerated().filter { $0.element != 0 }
        guard dropped.isEmpty else {
            throw BenchError(
                "the mock broker dropped results of \(topic) (low watermarks \(dropped.map { "p\($0.offset)=\($0.element)" }.joined(separator: ", "))): "
                    + "it keeps about 5 MiB per partition; raise outputPartitions")
        }
        var ends: [Int32: Int64] = [:]
        var assignment: [KafkaTopicPartition: Int64] = [:]
        for partition in 0..<partitions where marks.high[partition] > marks.low[partition] {
            ends[Int32(partition)] = marks.high[partition]
            assignment[KafkaTopicPartition(topic: topic, partition: Int32(partition))] = marks.low[partition]
        }
        var summary = OutputSummary()
        guard !assignment.isEmpty else { return summary }
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])
        configuration.isolationLevel = .readUncommitted
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try await consumer.assign(assignment)
        var remaining = Set(ends.keys)
        var windows = Set<Int64>()
        var idle = 0
        while !remaining.isEmpty {
            let batch = try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200)).records
            if batch.isEmpty {
                idle += 1
                if idle > 150 { throw BenchError("reading \(topic): stalled with partitions \(remaining.sorted()) unfinished") }
                continue
            }
            idle = 0
            for record in batch {
                guard let end = ends[record.partition], record.offset < end else { continue }
                if record.offset + 1 >= end { remaining.remove(record.partition) }
                summary.results += 1
                let fields = record.withUnsafeValue { Self.fields($0) }
                summary.readingsCounted += Int(fields.count)
                windows.insert(fields.windowStart / IoTJob.windowMilliseconds &* 10_000_000 &+ fields.id)
                if let timestamp = record.timestamp {
                    summary.firstTimestampMs = min(summary.firstTimestampMs, timestamp)
                    summary.lastTimestampMs = max(summary.lastTimestampMs, timestamp)
                    summary.closeToPublishMs.append(Double(timestamp - fields.emittedMs))
                }
            }
        }
        await consumer.close()
        summary.distinctWindows = windows.count
        return summary
    }

    /// Pulls the integer fields out of `{"id":…,"window_start":…,"sum":…,"count":…,"emitted_ms":…}`.
    private static func fields(_ bytes: UnsafeRawBufferPointer) -> (id: Int64, windowStart: Int64, count: Int64, emittedMs: Int64) {
        var numbers: [Int64] = []
        numbers.reserveCapacity(5)
        var current: Int64 = 0
        var inNumber = false
        var afterColon = false
        for byte in bytes {
            if byte == UInt8(ascii: ":") { afterColon = true; continue }
            if afterColon, byte >= 48, byte <= 57 {
                current = current * 10 + Int64(byte - 48)
                inNumber = true
                continue
            }
            if inNumber { numbers.append(current) }
            current = 0
            inNumber = false
            afterColon = false
        }
        guard numbers.count == 5 else { return (-1, 0, 0, 0) }
        return (numbers[0], numbers[1], numbers[3], numbers[4])
    }
}
