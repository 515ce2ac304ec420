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
