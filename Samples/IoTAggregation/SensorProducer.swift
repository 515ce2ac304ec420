import Logging
import ServiceLifecycle
import SluiceKafka
import Synchronization

/// Sends a ``SensorSimulator``'s records to a topic at a steady rate, as a `Service`:
/// it stops after `count` records, or on graceful shutdown, and then waits for every
/// record to be acknowledged.
final class SensorProducer: Service, Sendable {
    /// Delivery counts so far.
    struct Progress: Sendable {
        /// Records handed to the producer.
        var sent: Int
        /// Records the broker confirmed.
        var acknowledged: Int
        /// Records that failed for good.
        var failed: Int
    }

    private let producer: KafkaProducer
    private let topic: String
    private let simulator: Mutex<SensorSimulator>
    private let count: Int?
    private let rate: Int
    private let flushTimeout: Duration
    private let sent = Atomic<Int>(0)
    private let deliveries = Deliveries()

    /// Delivery outcomes, shared with the producer's send or delivery thread.
    private final class Deliveries: Sendable {
        let acknowledged = Atomic<Int>(0)
        let failures = Mutex<(count: Int, first: KafkaError?)>((0, nil))

        func record(_ report: KafkaDeliveryReport) {
            if let error = report.error {
                failures.withLock { failures in
                    if failures.first == nil { failures.first = error }
                    failures.count += 1
                }
            } else {
                acknowledged.add(1, ordering: .relaxed)
            }
        }
    }

    /// A producer of `count` records (or until shutdown when `nil`) at `rate` records per
    /// second in total (0: as fast as the producer takes them).
    init(
        kafka: KafkaConfiguration, topic: String, simulator: SensorSimulator, count: Int?, rate: Int,
        flushTimeout: Duration = .seconds(60), logger: Logger
    ) throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: kafka.bootstrapServers)
        configuration.common = kafka
        configuration.linger = .milliseconds(20)
        self.topic = topic
        self.simulator = Mutex(simulator)
        self.count = count
        self.rate = rate
        self.flushTimeout = flushTimeout
        let deliveries = deliveries
        producer = try KafkaProducer(configuration: configuration, logger: logger) { deliveries.record($0) }
    }

    /// Delivery counts so far.
    var progress: Progress {
        Progress(
            sent: sent.load(ordering: .relaxed), acknowledged: deliveries.acknowledged.load(ordering: .relaxed),
            failed: deliveries.failures.withLock { $0.count })
    }

    /// The first delivery failure, if any.
    var firstFailure: KafkaError? { deliveries.failures.withLock { $0.first } }

    /// Checks that a broker answers and the topic exists; returns its partition count.
    func checkTopic(timeout: Duration) async throws -> Int {
        try await producer.partitionCount(topic: topic, timeout: timeout)
    }

    /// Sends until done or shut down, then flushes and closes the producer.
    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let batchSize = rate == 0 ? 1_000 : max(1, min(1_000, rate / 100))
        do {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let done = sent.load(ordering: .relaxed)
                var due = count.map { $0 - done } ?? batchSize
                if due <= 0 { break }
                if rate > 0 {
                    let elapsed = clock.now - started
                    let target = Int(Double(rate) * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                    due = min(due, target - done)
                    if due <= 0 {
                        try await Task.sleep(for: .milliseconds(5))
                        continue
                    }
                }
                let records = simulator.withLock { simulator in
                    (0..<min(due, batchSize)).map { _ in
                        let record = simulator.next()
                        return KafkaOutgoingRecord(topic: topic, key: record.key, value: record.value)
                    }
                }
                _ = try await producer.send(contentsOf: records)
                sent.add(records.count, ordering: .relaxed)
            }
        } catch is CancellationError {
            // Shutting down: flush what was sent.
        }
        do {
            try await producer.flush(timeout: flushTimeout)
        } catch {
            await producer.close(timeout: .zero)
            throw error
        }
        await producer.close(timeout: flushTimeout)
    }
}
