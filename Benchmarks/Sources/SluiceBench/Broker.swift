import Foundation
import Logging
import SluiceKafka
import SluiceTesting

/// The broker the benchmarks run against: `sluice-broker` in a process of its own when it
/// is built (so its CPU and memory stay out of this process's figures), else librdkafka's
/// mock cluster inside this process.
final class BenchBroker: Sendable {
    private let process: DevBrokerProcess?
    private let cluster: KafkaMockCluster?
    let bootstrap: String
    /// Where the broker runs, for the report.
    let placement: String

    private init(process: DevBrokerProcess?, cluster: KafkaMockCluster?, bootstrap: String, placement: String) {
        self.process = process
        self.cluster = cluster
        self.bootstrap = bootstrap
        self.placement = placement
    }

    /// Starts a broker; `executable` overrides where `sluice-broker` is looked for.
    static func start(executable: String?, logger: Logger) async throws -> BenchBroker {
        if let path = executable ?? findBrokerExecutable() {
            let process = try await DevBrokerProcess(executable: path, topics: [])
            progress("broker: sluice-broker in its own process (\(path)), bootstrap \(process.bootstrapServers.joined(separator: ","))")
            return BenchBroker(
                process: process, cluster: nil, bootstrap: process.bootstrapServers.joined(separator: ","),
                placement: "sluice-broker, separate process")
        }
        let cluster = try KafkaMockCluster(brokers: 1, logger: logger)
        progress("broker: sluice-broker not found; mock cluster IN THIS PROCESS (its CPU and memory count in the figures)")
        return BenchBroker(
            process: nil, cluster: cluster, bootstrap: cluster.bootstrapServers.joined(separator: ","),
            placement: "mock cluster in-process")
    }

    /// Creates `topic` with `partitions` partitions.
    func createTopic(_ topic: String, partitions: Int) async throws {
        if let process {
            let answer = try await process.control("topic \(topic) \(partitions)")
            guard answer == "ok" else { throw BenchError("creating topic \(topic): \(answer)") }
        } else {
            try cluster?.createTopic(topic, partitions: partitions)
        }
    }

    func stop() {
        process?.stop()
        cluster?.close()
    }

    /// `sluice-broker` next to this executable (run.sh builds it there), or in the root package's release build.
    private static func findBrokerExecutable() -> String? {
        if let path = ProcessInfo.processInfo.environment["SLUICE_BROKER"], !path.isEmpty { return path }
        let here = URL(fileURLWithPath: Measure.executablePath()).deletingLastPathComponent()
        var candidates = [here.appendingPathComponent("sluice-broker").path]
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/release/sluice-broker").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Topic sizing for the mock cluster, which keeps only about 5 MiB per partition.
enum TopicSizing {
    /// Enough partitions for `records` IoT readings (about 60 bytes each on the broker) to stay
    /// well under 5 MiB per partition: at most 50,000 per partition, rounded up to a power of two.
    static func partitions(forRecords records: Int) -> Int {
        var partitions = 8
        while records / partitions > 50_000 { partitions *= 2 }
        return partitions
    }
}

/// Produces `count` readings of `workload` into `topic` with the C producer, in chunks, and
/// checks that the broker kept every one: low watermark 0 and high watermarks summing to `count`.
func preload(
    _ workload: IoTWorkload, count: Int, topic: String, partitions: Int, broker: BenchBroker
) async throws -> LoopResult {
    progress("preloading \(count) readings (\(workload.sensors) sensors) into \(topic) [\(partitions) partitions]")
    try await broker.createTopic(topic, partitions: partitions)
    let producer = try RawKafka.Producer(bootstrap: broker.bootstrap)
    let chunk = 250_000
    var next = 0
    while next < count {
        let end = min(count, next + chunk)
        try producer.send(workload.chunk(next..<end), topic: topic)
        next = end
    }
    let result = try producer.flush()
    try verifyRetained(topic: topic, partitions: partitions, expected: count, broker: broker)
    progress("preloaded in \(Format.seconds(result.secondsFromStart)) (\(Format.rate(Double(count) / result.secondsFromStart)))")
    return result
}

/// Fails loudly when the mock dropped records (low watermark above 0) or lost any.
func verifyRetained(topic: String, partitions: Int, expected: Int, broker: BenchBroker) throws {
    let marks = try RawKafka.watermarks(bootstrap: broker.bootstrap, topic: topic, partitions: partitions)
    let dropped = marks.low.enumerated().filter { $0.element != 0 }
    guard dropped.isEmpty else {
        throw BenchError(
            "the mock broker dropped data of \(topic): low watermarks \(dropped.map { "p\($0.offset)=\($0.element)" }.joined(separator: ", ")). "
                + "Use more partitions (--partitions); it keeps only about 5 MiB per partition.")
    }
    let total = marks.high.reduce(0, +)
    guard total == Int64(expected) else {
        throw BenchError("\(topic) holds \(total) records, expected \(expected)")
    }
}
