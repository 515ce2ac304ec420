import Foundation
import Logging
import SluiceKafka
import Synchronization

/// A logger for tests: silent unless `SLUICE_TEST_LOG` is set (to a level such as `debug`).
let testLogger: Logger = {
    guard let levelName = ProcessInfo.processInfo.environment["SLUICE_TEST_LOG"] else {
        return Logger(label: "sluice.kafka.tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }
    var logger = Logger(label: "sluice.kafka.tests", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = Logger.Level(rawValue: levelName) ?? .info
    return logger
}()

/// A consumed record, copied out of its batch.
struct Received: Sendable, Equatable {
    var topic: String
    var partition: Int32
    var offset: Int64
    var key: [UInt8]?
    var value: [UInt8]
    var isValueNull: Bool
    var headers: [KafkaHeader]
    var timestamp: Int64?

    init(_ record: KafkaRecord) {
        topic = record.topic
        partition = record.partition
        offset = record.offset
        key = record.key
        value = record.value
        isValueNull = record.isValueNull
        headers = record.headers
        timestamp = record.timestamp
    }

    var valueString: String { String(decoding: value, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    init(_ string: String) { self = Array(string.utf8) }
}

/// Consumer settings for tests: small timeouts the mock cluster still accepts.
func consumerConfiguration(
    _ cluster: KafkaMockCluster, group: String? = nil,
    strategy: KafkaConsumerConfiguration.RebalanceStrategy = .eager
) -> KafkaConsumerConfiguration {
    consumerConfiguration(bootstrapServers: cluster.bootstrapServers, group: group, strategy: strategy)
}

/// Consumer settings for tests against any broker address.
func consumerConfiguration(
    bootstrapServers: [String], group: String? = nil,
    strategy: KafkaConsumerConfiguration.RebalanceStrategy = .eager
) -> KafkaConsumerConfiguration {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: group)
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .milliseconds(500)
    configuration.rebalanceStrategy = strategy
    configuration.maxQueuedRecords = 100_000
    configuration.common.properties["reconnect.backoff.max.ms"] = "500"
    configuration.common.properties["topic.metadata.refresh.interval.ms"] = "1000"
    return configuration
}

/// Producer settings for tests.
func producerConfiguration(_ cluster: KafkaMockCluster) -> KafkaProducerConfiguration {
    producerConfiguration(bootstrapServers: cluster.bootstrapServers)
}

/// A producer on `cluster` with the tests' settings and logger.
func testProducer(
    for cluster: KafkaMockCluster, onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void = { _ in }
) throws -> KafkaProducer {
    try KafkaProducer(configuration: producerConfiguration(cluster), logger: testLogger, onDelivery: onDelivery)
}

/// Producer settings for tests against any broker address.
func producerConfiguration(bootstrapServers: [String]) -> KafkaProducerConfiguration {
    var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
    configuration.common.properties["reconnect.backoff.max.ms"] = "500"
    configuration.linger = .milliseconds(2)
    return configuration
}

/// Collects delivery reports.
final class DeliveryCollector: Sendable {
    private let reports = Mutex<[UInt64: KafkaDeliveryReport]>([:])

    var handler: @Sendable (KafkaDeliveryReport) -> Void {
        { report in self.reports.withLock { $0[report.id] = report } }
    }

    var all: [UInt64: KafkaDeliveryReport] { reports.withLock { $0 } }
}

/// Polls `consumer` until `count` records arrived or `timeout` passed; returns what arrived.
/// Rebalance events are acknowledged with default offsets.
func consume(
    _ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(20)
) async throws -> [Received] {
    var received: [Received] = []
    let deadline = ContinuousClock.now + timeout
    while received.count < count && ContinuousClock.now < deadline {
        let result = try await consumer.poll(maxRecords: 500, timeout: .milliseconds(100))
        received += result.records.map(Received.init)
        if let event = result.rebalance {
            try await consumer.acknowledge(event, startOffsets: [:])
        }
    }
    return received
}

/// Re-evaluates `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// All partitions of `topic`, each mapped to `offset`.
func allPartitions(_ topic: String, count: Int, at offset: Int64 = KafkaOffset.beginning) -> [KafkaTopicPartition: Int64] {
    Dictionary(uniqueKeysWithValues: (0..<count).map { (KafkaTopicPartition(topic: topic, partition: Int32($0)), offset) })
}

/// The built `sluice-broker` executable, next to the test bundle or in `SLUICE_BIN_DIR`.
let brokerExecutable: URL? = {
    var directories: [URL] = []
    if let binDir = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"] {
        directories.append(URL(fileURLWithPath: binDir))
    }
    directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    directories.append(Bundle.main.bundleURL)
    for directory in directories {
        for name in ["sluice-broker", "SluiceBroker"] {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
    }
    return nil
}()
