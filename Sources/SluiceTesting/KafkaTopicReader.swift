public import SluiceKafka
public import Logging

/// A record read back from a topic, copied out of librdkafka's buffers.
public struct ConsumedRecord: Sendable, Equatable {
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset.
    public var offset: Int64
    /// The record key.
    public var key: [UInt8]?
    /// The record value.
    public var value: [UInt8]
    /// The record headers.
    public var headers: [KafkaHeader]

    /// The value as UTF-8 text.
    public var valueText: String { String(decoding: value, as: UTF8.self) }
    /// The key as UTF-8 text, if any.
    public var keyText: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// The value of a header, if present.
    public func header(_ name: String) -> [UInt8]? { headers.first { $0.name == name }?.value }
}

/// Reads whole topics with a plain consumer, as any Kafka tool would see them.
public enum KafkaTopicReader {
    /// Reads every partition of `topic` from its low to its high watermark as of the call.
    ///
    /// A topic that lost records to retention reads as if they had never been written, which
    /// would hide a duplicate whose first copy was deleted: unless `allowsDeletedRecords`, a
    /// partition whose low watermark is above 0 fails the read (the mock cluster deletes
    /// beyond about 5 MiB per partition without a word; size tests to stay below it).
    ///
    /// Throws a `KafkaError` with code `.timeout` when `timeout` passes without a record from
    /// the partitions left to read, and with code `.invalidArgument` for deleted records.
    public static func readAll(
        topic: String, bootstrapServers: [String], timeout: Duration = .seconds(60), allowsDeletedRecords: Bool = false,
        logger: Logger = Logger(label: "sluice.testing")
    ) async throws -> [ConsumedRecord] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers)
        configuration.maxQueuedRecords = 200_000
        configuration.reportsPartitionEnds = true
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            let records = try await read(topic: topic, consumer: consumer, timeout: timeout, allowsDeletedRecords: allowsDeletedRecords)
            await consumer.close()
            return records
        } catch {
            await consumer.close()
            throw error
        }
    }

    private static func read(
        topic: String, consumer: KafkaConsumer, timeout: Duration, allowsDeletedRecords: Bool
    ) async throws -> [ConsumedRecord] {
        let partitionCount = try await consumer.partitionCount(topic: topic, timeout: .seconds(30))
        var ranges: [KafkaTopicPartition: (start: Int64, end: Int64)] = [:]
        for partition in 0..<partitionCount {
            let tp = KafkaTopicPartition(topic: topic, partition: Int32(partition))
            let marks = try await consumer.watermarks(for: tp, timeout: .seconds(30))
            if marks.low > 0 && !allowsDeletedRecords {
                throw KafkaError(
                    .invalidArgument,
                    "\(topic)/\(partition) starts at offset \(marks.low): its first records were deleted (retention; the mock "
                        + "cluster keeps about 5 MiB per partition), so the read cannot tell whether they held duplicates. "
                        + "Write less per partition, or pass allowsDeletedRecords: true")
            }
            ranges[tp] = (marks.low, marks.high)
        }
        var records: [ConsumedRecord] = []
        try await consumer.read(ranges, timeout: timeout) { record in
            records.append(
                ConsumedRecord(partition: record.partition, offset: record.offset, key: record.key, value: record.value, headers: record.headers))
        }
        return records
    }
}
