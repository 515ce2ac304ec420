import Logging
import SluiceKafka

/// The consumer comparison: the plain C count loop against SluiceKafka's batch poll loop,
/// alternating on the same broker and topic in the same run.
struct ConsumeComparison: Sendable {
    var c: [LoopResult]
    var swift: [LoopResult]

    /// The median run of each side by rate.
    var cMedian: LoopResult { Self.median(c) }
    var swiftMedian: LoopResult { Self.median(swift) }
    var ratio: Double { swiftMedian.recordsPerSecond / cMedian.recordsPerSecond }

    static func median(_ runs: [LoopResult]) -> LoopResult {
        runs.sorted { $0.recordsPerSecond < $1.recordsPerSecond }[runs.count / 2]
    }

    static func run(
        topic: String, partitions: Int, records: Int, rounds: Int, broker: BenchBroker, logger: Logger
    ) async throws -> ConsumeComparison {
        var c: [LoopResult] = []
        var swift: [LoopResult] = []
        for round in 1...rounds {
            let cRun = try RawKafka.consumeCount(bootstrap: broker.bootstrap, topic: topic, partitions: partitions, expected: records)
            progress("consume round \(round): C     \(Format.rate(cRun.recordsPerSecond)) (\(Format.seconds(cRun.seconds)), cpu \(Format.seconds(cRun.cpuSeconds)))")
            c.append(cRun)
            let swiftRun = try await swiftConsume(
                bootstrap: broker.bootstrap, topic: topic, partitions: partitions, expected: records, logger: logger)
            progress("consume round \(round): Swift \(Format.rate(swiftRun.recordsPerSecond)) (\(Format.seconds(swiftRun.seconds)), cpu \(Format.seconds(swiftRun.cpuSeconds)))")
            swift.append(swiftRun)
        }
        return ConsumeComparison(c: c, swift: swift)
    }

    /// `KafkaConsumer.poll(maxRecords:timeout:)` in a loop, touching every key and value in place.
    static func swiftConsume(
        bootstrap: String, topic: String, partitions: Int, expected: Int, logger: Logger
    ) async throws -> LoopResult {
        let cpu = Measure.cpuSeconds()
        let configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])  // maxQueuedRecords 1,000,000
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        var assignment: [KafkaTopicPartition: Int64] = [:]
        for partition in 0..<partitions {
            assignment[KafkaTopicPartition(topic: topic, partition: Int32(partition))] = KafkaOffset.beginning
        }
        let start = Measure.nowNanoseconds()
        try await consumer.assign(assignment)
        var count = 0
        var bytes = 0
        var checksum: UInt64 = 0
        var first: Int64 = 0
        var last: Int64 = 0
        var idleSince = start
        while count < expected {
            let batch = try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100)).records
            let now = Measure.nowNanoseconds()
            if batch.isEmpty {
                if now - idleSince > 30_000_000_000 { throw BenchError("Swift consume loop: no records for 30 s after \(count)") }
                continue
            }
            idleSince = now
            if first == 0 { first = now }
            for record in batch {
                bytes += record.withUnsafeValue { value in
                    checksum &+= UInt64(value.first ?? 0)
                    return value.count
                }
                checksum &+= record.withUnsafeKey { key in UInt64(key?.last ?? 0) }
            }
            count += batch.count
            last = now
        }
        await consumer.close()
        if checksum == 42 { progress("") }  // keeps the reads observable
        return LoopResult(
            records: count, bytes: bytes, seconds: Double(last - first) / 1e9, secondsFromStart: Double(last - start) / 1e9,
            cpuSeconds: Measure.cpuSeconds() - cpu)
    }
}
