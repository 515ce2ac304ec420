import Logging
import SluiceKafka

/// Finds which outbox entries a previous process already published.
///
/// For each output partition with pending entries it reads from the recorded
/// scan offset to the end and keeps, per writer, the highest sequence number
/// seen *in that partition*. The idempotent producer keeps order within a
/// partition only, so the answer is per (writer, output partition).
///
/// Only sequences this outbox holds for the writer and partition count. A writer's name is
/// its input partition, and another life of that partition (another group member that took it
/// over, starting with a clock-based ``PartitionProgress/firstSequence()``) writes under the
/// same name: its records say nothing about ours, and counting them would take entries of ours
/// as published, and lose them. Its sequences may lie anywhere among ours, not only above them:
/// an outbox can hold entries of two lives of its own (the stale state a partition was reopened
/// without keeps its entries), with the other life's numbers between the two.
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
        // A partition whose last offsets are transaction markers (a transactional producer
        // shares the topic) is caught up without a record at its end.
        config.reportsPartitionEnds = true
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
        // Per output partition and writer, the sequences this outbox holds (see the type's documentation).
        var pending: [OutputPartition: [String: Set<UInt64>]] = [:]
        for (partition, entries) in byPartition {
            for entry in entries {
                let name = OutboxPublisher.writerName(applicationID: applicationID, partition: entry.key.writer)
                pending[partition, default: [:]][name, default: []].insert(entry.key.sequence)
            }
        }
        var ranges: [KafkaTopicPartition: (start: Int64, end: Int64)] = [:]
        for partition in byPartition.keys {
            let tp = KafkaTopicPartition(topic: partition.topic, partition: partition.partition)
            let marks = try await consumer.watermarks(for: tp, timeout: .seconds(30))
            ranges[tp] = (Swift.max(scanOffsets[partition] ?? marks.low, marks.low), marks.high)
        }
        do {
            // The timeout counts from the last record read, not from the start: a long range
            // (a shared topic, read from its beginning) may take longer than that in all.
            try await consumer.read(ranges, timeout: .seconds(120)) { record in
                guard let writer = record.header(named: OutboxPublisher.writerHeader),
                    let sequenceText = record.header(named: OutboxPublisher.sequenceHeader),
                    let sequence = UInt64(String(decoding: sequenceText, as: UTF8.self))
                else { return }
                let name = String(decoding: writer, as: UTF8.self)
                guard name.hasPrefix(applicationID + "|") else { return }
                let partition = OutputPartition(topic: record.topic, partition: record.partition)
                newScanOffsets[partition] = record.offset + 1
                guard pending[partition]?[name]?.contains(sequence) ?? false else { return }
                highestSeen[partition, default: [:]][name] = Swift.max(highestSeen[partition]?[name] ?? 0, sequence)
            }
        } catch let error as KafkaError where error.code == .timeout {
            throw SluiceError(.sinkFailure, "recovering the outbox: \(error.message)", underlying: error)
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
