import Logging
import SluiceKafka

/// Finds which outbox entries a previous process already published.
///
/// For each output partition with pending entries it reads from the recorded
/// scan offset to the end and keeps, per writer, the highest sequence number
/// seen *in that partition*. The idempotent producer keeps order within a
/// partition only, so the answer is per (writer, output partition).
struct OutputScanner {
    let applicationID: String
    let configuration: KafkaConsumerConfiguration
    let logger: Logger

    struct Result {
        /// Entries found in the output; they must not be published again.
        var alreadyPublished: [OutboxKey]
        /// Per scanned partition, the offset after the last record found from this application.
        var scanOffsets: [OutputPartition: Int64]
    }

    func scan(outbox: [OutboxEntry], from scanOffsets: [OutputPartition: Int64]) async throws -> Result {
        let byPartition = Dictionary(grouping: outbox, by: \.destination)
        guard !byPartition.isEmpty else { return Result(alreadyPublished: [], scanOffsets: [:]) }
        var config = configuration
        config.groupID = nil
        let consumer = try KafkaConsumer(configuration: config, logger: logger)
        do {
            let result = try await scan(byPartition: byPartition, from: scanOffsets, with: consumer)
            await consumer.close()
            return result
        } catch {
            await consumer.close()
            throw error
        }
    }

    private func scan(
        byPartition: [OutputPartition: [OutboxEntry]], from scanOffsets: [OutputPartition: Int64], with consumer: KafkaConsumer
    ) async throws -> Result {
        let outboxCount = byPartition.values.reduce(0) { $0 + $1.count }

        var highestSeen: [OutputPartition: [String: UInt64]] = [:]
        var newScanOffsets: [OutputPartition: Int64] = [:]
        var ends: [KafkaTopicPartition: Int64] = [:]
        var starts: [KafkaTopicPartition: Int64] = [:]
        for partition in byPartition.keys {
            let tp = KafkaTopicPartition(topic: partition.topic, partition: partition.partition)
            let marks = try await consumer.watermarks(for: tp, timeout: .seconds(30))
            let start = Swift.max(scanOffsets[partition] ?? marks.low, marks.low)
            if start < marks.high {
                ends[tp] = marks.high
                starts[tp] = start
            }
        }
        if !starts.isEmpty {
            try consumer.assign(starts)
            var remaining = Set(starts.keys)
            let deadline = ContinuousClock.now + .seconds(120)
            while !remaining.isEmpty {
                if ContinuousClock.now > deadline {
                    throw SluiceError(
                        .sinkFailure,
                        "could not read output partitions \(remaining.map { "\($0.topic)/\($0.partition)" }) to their end within 120 s while recovering; is the broker reachable?")
                }
                for tp in remaining {
                    if let position = consumer.cachedWatermarks(for: tp), let end = ends[tp], position.low >= end { remaining.remove(tp) }
                }
                let polled = try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200))
                for record in polled.records {
                    let tp = record.topicPartition
                    guard let end = ends[tp], record.offset < end else { continue }
                    let partition = OutputPartition(topic: tp.topic, partition: tp.partition)
                    if let writer = record.header(named: OutboxPublisher.writerHeader),
                        let sequenceText = record.header(named: OutboxPublisher.sequenceHeader),
                        let sequence = UInt64(String(decoding: sequenceText, as: UTF8.self))
                    {
                        let name = String(decoding: writer, as: UTF8.self)
                        if name.hasPrefix(applicationID + "|") {
                            highestSeen[partition, default: [:]][name] = Swift.max(
                                highestSeen[partition]?[name] ?? 0, sequence)
                            newScanOffsets[partition] = record.offset + 1
                        }
                    }
                    if record.offset + 1 >= end { remaining.remove(tp) }
                }
            }
        }
        var published: [OutboxKey] = []
        for (partition, entries) in byPartition {
            guard let seen = highestSeen[partition] else { continue }
            for entry in entries {
                let name = OutboxPublisher.writerName(applicationID: applicationID, partition: entry.key.writer)
                if let highest = seen[name], entry.key.sequence <= highest {
                    published.append(entry.key)
                }
            }
        }
        logger.info(
            "Scanned outputs for already-published records",
            metadata: [
                "sluice.outbox": "\(outboxCount)", "sluice.already_published": "\(published.count)",
                "sluice.partitions": "\(byPartition.count)",
            ])
        return Result(alreadyPublished: published, scanOffsets: newScanOffsets)
    }
}
