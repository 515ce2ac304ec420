import Foundation
import PropertyBased
import Sluice
import SluiceTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Shared fixtures of the engine, window and test-driver suites.

/// The input model of most engine tests: a keyed reading with an event time in milliseconds
/// and a unique `id`, so that tests can say exactly which records ended up in which result.
struct KeyedReading: Codable, Sendable, Equatable {
    var key: String
    var time: Int64
    var value: Int
    var id: Int

    init(key: String, time: Int64, value: Int = 1, id: Int = 0) {
        self.key = key
        self.time = time
        self.value = value
        self.id = id
    }

    var eventTime: EventTime { EventTime(millisecondsSinceEpoch: time) }

    /// The JSON bytes the engine decodes.
    var json: [UInt8] { Array(try! JSONEncoder().encode(self)) }

    /// Decodes a record the engine handed back (a late record, for instance).
    init(record: SourceRecord) throws {
        self = try JSONDecoder().decode(KeyedReading.self, from: Data(record.value))
    }
}

/// Milliseconds as an ``EventTime``.
func eventMS(_ milliseconds: Int64) -> EventTime { EventTime(millisecondsSinceEpoch: milliseconds) }

/// Seconds as an ``EventTime``.
func eventSeconds(_ seconds: Int64) -> EventTime { EventTime(millisecondsSinceEpoch: seconds * 1000) }

/// A window in milliseconds.
func windowMS(_ start: Int64, _ end: Int64) -> TimeWindow { TimeWindow(start: eventMS(start), end: eventMS(end)) }

/// The engine's window pipelines over ``KeyedReading``, with the record ids of each window as the accumulator.
enum EnginePipelines {
    typealias IDs = WindowAggregator<String, KeyedReading, [Int]>

    /// A pipeline that collects the ids of each key's window.
    static func ids(
        _ kind: WindowKind, allowedLateness: Duration = .zero, outOfOrderness: Duration = .zero,
        idleTimeout: Duration? = nil
    ) -> PipelineDefinition<IDs> {
        keyed(outOfOrderness: outOfOrderness, idleTimeout: idleTimeout)
            .window(kind, allowedLateness: allowedLateness)
            .aggregate(into: [Int](), { ids, reading in ids.append(reading.id) }, merge: { $0 += $1 })
            .lateRecords(to: .handler { _, _ in })
            .deadLetters(to: .handler { _, _ in })
            .sink(MemorySink { _ in })
    }

    /// ``ids(_:allowedLateness:outOfOrderness:idleTimeout:)`` with the windows and bounds of `scenario`.
    static func ids(for scenario: WindowScenario) -> PipelineDefinition<IDs> {
        ids(
            scenario.kind, allowedLateness: .milliseconds(scenario.allowedLateness),
            outOfOrderness: .milliseconds(scenario.outOfOrderness))
    }

    /// The keyed stage every pipeline here starts from.
    static func keyed(outOfOrderness: Duration = .zero, idleTimeout: Duration? = nil) -> KeyedStage<String, KeyedReading> {
        Pipeline("engine-tests")
            .source(MemorySource([]), decoding: KeyedReading.self)
            .eventTime { (reading: KeyedReading) -> EventTime in reading.eventTime }
            .watermarks(outOfOrderness: outOfOrderness, idleTimeout: idleTimeout)
            .key(by: \.key)
    }
}

/// One emitted window result in a form that compares and sorts: key, window bounds, sorted ids.
struct WindowRow: Hashable, Comparable, CustomStringConvertible {
    var key: String
    var start: Int64
    var end: Int64
    var ids: [Int]

    init(key: String, start: Int64, end: Int64, ids: [Int]) {
        self.key = key
        self.start = start
        self.end = end
        self.ids = ids.sorted()
    }

    init(_ result: WindowResult<String, [Int]>) {
        self.init(
            key: result.key, start: result.window.start.millisecondsSinceEpoch, end: result.window.end.millisecondsSinceEpoch,
            ids: result.value)
    }

    static func < (lhs: WindowRow, rhs: WindowRow) -> Bool {
        if lhs.key != rhs.key { return lhs.key < rhs.key }
        if lhs.start != rhs.start { return lhs.start < rhs.start }
        if lhs.end != rhs.end { return lhs.end < rhs.end }
        return lhs.ids.lexicographicallyPrecedes(rhs.ids)
    }

    var description: String { "\(key)[\(start),\(end)):\(ids)" }
}

extension Array where Element == WindowResult<String, [Int]> {
    /// The results as sorted rows, for comparison as a multiset.
    var rows: [WindowRow] { map(WindowRow.init).sorted() }
}

/// Seeds for ``WindowScenario``. A failing case is reported with its seed as drawn: shrinking a
/// seed toward zero would only rerun unrelated scenarios.
var scenarioSeeds: Generator<UInt64, Shrink.None<UInt64>> { Gen.uint64().withoutShrink() }

/// A seedable generator, so that a property's whole scenario follows from the one seed
/// PropertyBased reports on failure.
typealias EngineTestRandom = SplitMix64

/// A fresh directory under the system temporary directory, removed with everything in it on `deinit`.
final class EngineScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/sluice-engine-tests-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed: \(errno)")
        path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
