import Logging
import SluiceKafka

/// Reads whole topics with a plain consumer: every partition from its first retained record
/// up to the high watermark it had when reading began.
struct TopicReader {
    /// Connection settings.
    let kafka: KafkaConfiguration
    /// How long a broker may take to answer a query.
    let requestTimeout: Duration
    /// How long reading one topic may take in all.
    let deadline: Duration
    /// Where the consumer logs.
    let logger: Logger

    /// Calls `body` with every record of `topic` present at the start, partition by partition in
    /// offset order (partitions interleaved); returns how many records were read.
    func read(topic: String, _ body: (KafkaRecord) throws -> Void) async throws -> Int {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: kafka.bootstrapServers)
        configuration.common = kafka
        configuration.isolationLevel = .readUncommitted
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            let count = try await read(topic: topic, consumer: consumer, body)
            await consumer.close()
            return count
        } catch {
            await consumer.close()
            throw error
        }
    }

    private func read(topic: String, consumer: KafkaConsumer, _ body: (KafkaRecord) throws -> Void) async throws -> Int {
        let partitions = try await consumer.partitionCount(topic: topic, timeout: requestTimeout)
        var ends: [Int32: Int64] = [:]
        var starts: [KafkaTopicPartition: Int64] = [:]
        for partition in 0..<Int32(partitions) {
            let topicPartition = KafkaTopicPartition(topic: topic, partition: partition)
            let marks = try await consumer.watermarks(for: topicPartition, timeout: requestTimeout)
            if marks.high > marks.low {
                ends[partition] = marks.high
                starts[topicPartition] = marks.low
            }
        }
        guard !starts.isEmpty else { return 0 }
        try await consumer.assign(starts)
        let clock = ContinuousClock()
        let giveUp = clock.now + deadline
        var read = 0
        while !ends.isEmpty {
            if clock.now > giveUp {
                throw CommandFailure(
                    "reading \(topic) did not reach its end within \(DurationParser.format(deadline)); "
                        + "\(ends.count) partitions unfinished (raise --timeout)")
            }
            let batch = try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200)).records
            for record in batch {
                guard let end = ends[record.partition], record.offset < end else { continue }
                try body(record)
                read += 1
                if record.offset + 1 >= end { ends[record.partition] = nil }
            }
        }
        return read
    }
}
