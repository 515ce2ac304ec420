import Logging
import SluiceKafka

/// The producer comparison: the plain C produce loop against `KafkaProducer.send(contentsOf:)`
/// with `KafkaOutgoingRecord`s and with a `KafkaOutgoingBatch`, same records, same settings
/// (idempotent, linger 5 ms, queue of 100,000, payloads copied), each into a fresh topic. The C
/// loop reads its records from flat arrays, as a batch holds them; `KafkaOutgoingRecord`s hold
/// each key and value in an array of its own. Each producer first sends one uncounted record
/// to its topic and waits for it, so that no side's figure includes connecting, acquiring the
/// idempotent producer id or learning the topic's partitions.
struct ProduceComparison: Sendable {
    enum Side: CaseIterable {
        case c, records, batch
    }

    var c: [LoopResult]
    var swift: [LoopResult]
    var swiftBatch: [LoopResult]

    var cMedian: LoopResult { ConsumeComparison.median(c) }
    var swiftMedian: LoopResult { ConsumeComparison.median(swift) }
    var swiftBatchMedian: LoopResult { ConsumeComparison.median(swiftBatch) }
    var ratio: Double { swiftMedian.recordsPerSecond / cMedian.recordsPerSecond }
    var batchRatio: Double { swiftBatchMedian.recordsPerSecond / cMedian.recordsPerSecond }

    static func run(
        records count: Int, sensors: Int, partitions: Int, rounds: Int, batch: Int, broker: BenchBroker, logger: Logger
    ) async throws -> ProduceComparison {
        let flat = IoTWorkload(sensors: sensors).chunk(0..<count)
        var c: [LoopResult] = []
        var swift: [LoopResult] = []
        var swiftBatch: [LoopResult] = []
        for round in 1...rounds {
            // The broker slows down as it fills; rotate which side goes first.
            let order = Side.allCases
            let sides = (0..<order.count).map { order[(round - 1 + $0) % order.count] }
            for side in sides {
                let topic = "produce-\(side)-\(round)-\(Measure.wallMilliseconds())"
                try await broker.createTopic(topic, partitions: partitions)
                switch side {
                case .records:
                    let outgoing = (0..<count).map { i in
                        KafkaOutgoingRecord(topic: topic, key: Array(flat.key(i)), value: Array(flat.value(i)))
                    }
                    let batches = stride(from: 0, to: count, by: batch).map { Array(outgoing[$0..<min(count, $0 + batch)]) }
                    let run = try await swiftProduce(
                        count: count, bytes: outgoing.reduce(0) { $0 + $1.value.count },
                        warmUp: KafkaOutgoingRecord(topic: topic, value: Array("warm-up".utf8)), bootstrap: broker.bootstrap,
                        logger: logger
                    ) { producer in
                        for batch in batches { _ = try await producer.send(contentsOf: batch) }
                    }
                    withExtendedLifetime(batches) {}
                    progress("produce round \(round): Swift records \(Format.rate(run.recordsPerSecond)) (cpu \(Format.seconds(run.cpuSeconds)))")
                    swift.append(run)
                case .batch:
                    let batches = stride(from: 0, to: count, by: batch).map { start in
                        var outgoing = KafkaOutgoingBatch()
                        for i in start..<min(count, start + batch) { outgoing.append(topic: topic, key: flat.key(i), value: flat.value(i)) }
                        return outgoing
                    }
                    let run = try await swiftProduce(
                        count: count, bytes: (0..<count).reduce(0) { $0 + flat.value($1).count },
                        warmUp: KafkaOutgoingRecord(topic: topic, value: Array("warm-up".utf8)), bootstrap: broker.bootstrap,
                        logger: logger
                    ) { producer in
                        for batch in batches { try await producer.send(contentsOf: batch) }
                    }
                    withExtendedLifetime(batches) {}
                    progress("produce round \(round): Swift batch   \(Format.rate(run.recordsPerSecond)) (cpu \(Format.seconds(run.cpuSeconds)))")
                    swiftBatch.append(run)
                case .c:
                    let producer = try RawKafka.Producer(bootstrap: broker.bootstrap)
                    try producer.warmUp(topic: topic)
                    try producer.send(flat, topic: topic)
                    let cRun = try producer.flush()
                    progress("produce round \(round): C             \(Format.rate(cRun.recordsPerSecond)) (cpu \(Format.seconds(cRun.cpuSeconds)))")
                    c.append(cRun)
                }
                try verifyRetained(topic: topic, partitions: partitions, expected: count + 1, broker: broker)
            }
        }
        return ProduceComparison(c: c, swift: swift, swiftBatch: swiftBatch)
    }

    /// Runs `send` (the sends of `count` records made beforehand) with a fresh producer and
    /// measures from its first send to the end of the flush that follows it.
    static func swiftProduce(
        count: Int, bytes: Int, warmUp: KafkaOutgoingRecord, bootstrap: String, logger: Logger,
        send: (KafkaProducer) async throws -> Void
    ) async throws -> LoopResult {
        let failures = FailureCount()
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: [bootstrap]), logger: logger
        ) { report in
            if report.error != nil { failures.increment() }
        }
        _ = try await producer.send(warmUp)
        try await producer.flush(timeout: .seconds(30))
        let cpu = Measure.cpuSeconds()
        let start = Measure.nowNanoseconds()
        try await send(producer)
        try await producer.flush(timeout: .seconds(120))
        let end = Measure.nowNanoseconds()
        let cpuUsed = Measure.cpuSeconds() - cpu
        await producer.close(timeout: .seconds(10))
        if failures.value > 0 { throw BenchError("Swift producer: \(failures.value) deliveries failed") }
        let seconds = Double(end - start) / 1e9
        return LoopResult(records: count, bytes: bytes, seconds: seconds, secondsFromStart: seconds, cpuSeconds: cpuUsed)
    }
}

import Synchronization

/// Counts failed deliveries from the producer's send or delivery thread.
final class FailureCount: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
