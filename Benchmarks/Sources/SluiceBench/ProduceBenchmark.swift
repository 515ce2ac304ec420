import Logging
import SluiceKafka

/// The producer comparison: the plain C produce loop against
/// `KafkaProducer.send(contentsOf:)`, same records, same settings (idempotent, linger 5 ms,
/// queue of 100,000, payloads copied), each into a fresh topic. Each producer first sends one
/// uncounted record to its topic and waits for it, so that neither side's figure includes
/// connecting, acquiring the idempotent producer id or learning the topic's partitions.
struct ProduceComparison: Sendable {
    var c: [LoopResult]
    var swift: [LoopResult]

    var cMedian: LoopResult { ConsumeComparison.median(c) }
    var swiftMedian: LoopResult { ConsumeComparison.median(swift) }
    var ratio: Double { swiftMedian.recordsPerSecond / cMedian.recordsPerSecond }

    static func run(
        records count: Int, sensors: Int, partitions: Int, rounds: Int, batch: Int, broker: BenchBroker, logger: Logger
    ) async throws -> ProduceComparison {
        let flat = IoTWorkload(sensors: sensors).chunk(0..<count)
        var c: [LoopResult] = []
        var swift: [LoopResult] = []
        for round in 1...rounds {
            // The broker slows down as it fills; alternate which side goes first.
            let sides = round % 2 == 1 ? [false, true] : [true, false]
            for isSwift in sides {
                let topic = "produce-\(isSwift ? "swift" : "c")-\(round)-\(Measure.wallMilliseconds())"
                try await broker.createTopic(topic, partitions: partitions)
                if isSwift {
                    let outgoing = (0..<count).map { i in
                        KafkaOutgoingRecord(topic: topic, key: Array(flat.key(i)), value: Array(flat.value(i)))
                    }
                    let swiftRun = try await swiftProduce(
                        outgoing, warmUp: KafkaOutgoingRecord(topic: topic, value: Array("warm-up".utf8)), batch: batch,
                        bootstrap: broker.bootstrap, logger: logger)
                    progress("produce round \(round): Swift \(Format.rate(swiftRun.recordsPerSecond)) (cpu \(Format.seconds(swiftRun.cpuSeconds)))")
                    swift.append(swiftRun)
                } else {
                    let producer = try RawKafka.Producer(bootstrap: broker.bootstrap)
                    try producer.warmUp(topic: topic)
                    try producer.send(flat, topic: topic)
                    let cRun = try producer.flush()
                    progress("produce round \(round): C     \(Format.rate(cRun.recordsPerSecond)) (cpu \(Format.seconds(cRun.cpuSeconds)))")
                    c.append(cRun)
                }
                try verifyRetained(topic: topic, partitions: partitions, expected: count + 1, broker: broker)
            }
        }
        return ProduceComparison(c: c, swift: swift)
    }

    static func swiftProduce(
        _ records: [KafkaOutgoingRecord], warmUp: KafkaOutgoingRecord, batch: Int, bootstrap: String, logger: Logger
    ) async throws -> LoopResult {
        let failures = FailureCount()
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: [bootstrap]), logger: logger
        ) { report in
            if report.error != nil { failures.increment() }
        }
        _ = try await producer.send(warmUp)
        try await producer.flush(timeout: .seconds(30))
        // The batches are made before the clock starts and freed after it stops, as the C loop's
        // records are: the comparison is of the two ways of handing records to librdkafka.
        let batches = stride(from: 0, to: records.count, by: batch).map {
            Array(records[$0..<min(records.count, $0 + batch)])
        }
        let cpu = Measure.cpuSeconds()
        let start = Measure.nowNanoseconds()
        var bytes = 0
        for batch in batches {
            _ = try await producer.send(contentsOf: batch)
        }
        try await producer.flush(timeout: .seconds(120))
        let end = Measure.nowNanoseconds()
        let cpuUsed = Measure.cpuSeconds() - cpu
        await producer.close(timeout: .seconds(10))
        withExtendedLifetime(batches) {}
        for record in records { bytes += record.value.count }
        if failures.value > 0 { throw BenchError("Swift producer: \(failures.value) deliveries failed") }
        let seconds = Double(end - start) / 1e9
        return LoopResult(records: records.count, bytes: bytes, seconds: seconds, secondsFromStart: seconds, cpuSeconds: cpuUsed)
    }
}

import Synchronization

/// Counts failed deliveries from the producer's send or delivery thread.
final class FailureCount: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
