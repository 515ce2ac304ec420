import Foundation
import Logging
import Sluice
import SluiceKafka
import SluiceTesting

/// A logger for tests: silent unless `SLUICE_TEST_LOG` names a level.
let integrationLogger: Logger = {
    guard let levelName = ProcessInfo.processInfo.environment["SLUICE_TEST_LOG"] else {
        return Logger(label: "sluice.integration", factory: { _ in SwiftLogNoOpLogHandler() })
    }
    var logger = Logger(label: "sluice.integration", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = Logger.Level(rawValue: levelName) ?? .info
    return logger
}()

/// One IoT reading, as the sample's sensors write it.
struct Reading: Codable, Sendable, Equatable {
    let id: Int
    let time: Double
    let value: Int
}

/// A window's sum and count.
struct SumCount: Codable, Sendable, Hashable {
    var sum = 0
    var count = 0
}

/// (sensor, window start in ms) → expected sum and count, from input readings.
func groundTruth(_ readings: [Reading], windowMilliseconds: Int64) -> [WindowKey: SumCount] {
    var expected: [WindowKey: SumCount] = [:]
    for reading in readings {
        let t = EventTime(secondsSinceEpoch: reading.time).millisecondsSinceEpoch
        let start = Int64((Double(t) / Double(windowMilliseconds)).rounded(.down)) * windowMilliseconds
        expected[WindowKey(sensor: reading.id, windowStart: start), default: SumCount()].sum += reading.value
        expected[WindowKey(sensor: reading.id, windowStart: start), default: SumCount()].count += 1
    }
    return expected
}

struct WindowKey: Hashable, Sendable, CustomStringConvertible {
    var sensor: Int
    var windowStart: Int64
    var description: String { "\(sensor)@\(windowStart)" }
}

/// A fresh temporary directory.
func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "sluice-\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The directory holding the package's built executables: `SLUICE_BIN_DIR` (set by
/// `make test`), else what `swift build --show-bin-path` says for this package.
let binaryDirectory: String = {
    if let directory = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"], !directory.isEmpty { return directory }
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["swift", "build", "--show-bin-path"]
    process.currentDirectoryURL = packageRoot
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try? process.run()
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
}()

/// The path of a built executable of this package.
func executable(_ name: String) -> String { binaryDirectory + "/" + name }

/// Produces readings (and raw malformed values) to `topic`, keyed by sensor id, and waits for every acknowledgement.
func produceReadings(_ readings: [Reading], malformed: [[UInt8]] = [], to topic: String, bootstrapServers: [String]) async throws {
    var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
    configuration.linger = .milliseconds(5)
    let producer = try KafkaProducer(configuration: configuration, logger: integrationLogger) { _ in }
    var records = readings.map { reading in
        KafkaOutgoingRecord(
            topic: topic, key: Array(String(reading.id).utf8),
            value: Array("{\"id\": \(reading.id), \"time\": \(reading.time), \"value\": \(reading.value)}".utf8))
    }
    records += malformed.map { KafkaOutgoingRecord(topic: topic, key: Array("malformed".utf8), value: $0) }
    _ = try await producer.send(contentsOf: records)
    try await producer.flush(timeout: .seconds(60))
    await producer.close(timeout: .seconds(5))
}

/// Parses `iot` results: `{"id": 17, "window_start": 1700000000, "window_end": 1700000010, "sum": 412, "count": 10}`.
func parseIoTResults(_ records: [ConsumedRecord]) -> [(key: WindowKey, value: SumCount)] {
    records.compactMap { record in
        guard let object = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any],
            let id = (object["id"] as? NSNumber)?.intValue, let start = (object["window_start"] as? NSNumber)?.doubleValue,
            let sum = (object["sum"] as? NSNumber)?.intValue, let count = (object["count"] as? NSNumber)?.intValue
        else { return nil }
        return (WindowKey(sensor: id, windowStart: Int64((start * 1000).rounded())), SumCount(sum: sum, count: count))
    }
}

/// An in-process mock cluster with `topics` (name and partition count) created.
func mockCluster(_ topics: [(name: String, partitions: Int)]) throws -> KafkaMockCluster {
    let cluster = try KafkaMockCluster(brokers: 1, logger: integrationLogger)
    for topic in topics { try cluster.createTopic(topic.name, partitions: topic.partitions) }
    return cluster
}
