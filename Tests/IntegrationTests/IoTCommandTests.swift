import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `iot` sample's commands, end to end, as separate processes against `sluice-broker`.
///
/// Binaries come from `SLUICE_BIN_DIR` (set by `make test`), else from `swift build --show-bin-path`.
@Suite("iot sample commands", .serialized)
struct IoTCommandTests {
    @Test("sensors, aggregate --exit-at-end and verify agree; a restart publishes nothing twice", .timeLimit(.minutes(1)))
    func sensorsAggregateVerify() async throws {
        let broker = try await IoTBroker.start()
        defer { broker.stop() }
        let stateDirectory = IoTPaths.temporaryDirectory("iot-e2e")
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }

        let sensors = try await IoTChild.run(
            "iot",
            [
                "sensors", "--brokers", broker.address, "--count", "20000", "--sensors", "100", "--start-time", "1700000000",
                "--time-step", "1", "--rate", "0", "--log-level", "warning",
            ])
        #expect(sensors.status == 0, "\(sensors)")
        #expect(sensors.stdout.contains("sensors: sent=20000 acknowledged=20000 failed=0"), "\(sensors)")

        let aggregate = [
            "aggregate", "--brokers", broker.address, "--window", "10s", "--exit-at-end", "--state-dir", stateDirectory,
            "--log-level", "warning",
        ]
        let first = try await IoTChild.run("iot", aggregate)
        #expect(first.status == 0, "\(first)")
        // 100 sensors × 200 s of readings in 10 s windows.
        #expect(first.stdout.contains("consumed=20000 results=2000 late=0 dead_letters=0"), "\(first)")

        let verify = ["verify", "--brokers", broker.address, "--window", "10s", "--log-level", "warning"]
        let verified = try await IoTChild.run("iot", verify)
        #expect(verified.status == 0, "\(verified)")
        #expect(
            verified.stdout.contains("verify: expected=2000 found=2000 missing=0 duplicates=0 wrong=0 unexpected=0 OK"),
            "\(verified)")

        let restarted = try await IoTChild.run("iot", aggregate)
        #expect(restarted.status == 0, "\(restarted)")
        #expect(restarted.stdout.contains("consumed=0 results=0"), "\(restarted)")
        let reverified = try await IoTChild.run("iot", verify)
        #expect(reverified.status == 0, "\(reverified)")
        #expect(reverified.stdout.contains("expected=2000 found=2000 missing=0 duplicates=0"), "\(reverified)")
    }

    @Test("demo --duration stops gracefully: the final checkpoint is taken and everything it holds published", .timeLimit(.minutes(1)))
    func demoDurationStopsGracefully() async throws {
        let demo = try await IoTChild.run("iot", ["demo", "--duration", "4", "--sensors", "20", "--rate", "2000", "--verbose"])
        #expect(demo.status == 0, "\(demo)")
        // Logged at the end of the graceful stop only; a cancelled run throws before it.
        #expect(demo.stderr.contains("Pipeline stopped cleanly") || demo.stdout.contains("Pipeline stopped cleanly"), "\(demo)")
        #expect(demo.stdout.contains("demo: t="), "\(demo)")
    }

    @Test("malformed readings go to the dead-letter topic and do not disturb the sums", .timeLimit(.minutes(1)))
    func malformedReadingsAreDeadLettered() async throws {
        let broker = try await IoTBroker.start(extraTopics: ["dead:1"])
        defer { broker.stop() }
        let stateDirectory = IoTPaths.temporaryDirectory("iot-dead")
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let sensors = try await IoTChild.run(
            "iot",
            [
                "sensors", "--brokers", broker.address, "--count", "5000", "--sensors", "50", "--start-time", "1700000000",
                "--rate", "0", "--malformed-every", "51", "--log-level", "warning",
            ])
        #expect(sensors.status == 0, "\(sensors)")
        let aggregate = try await IoTChild.run(
            "iot",
            [
                "aggregate", "--brokers", broker.address, "--window", "10s", "--exit-at-end", "--state-dir", stateDirectory,
                "--dead-letter", "dead", "--log-level", "warning",
            ])
        #expect(aggregate.status == 0, "\(aggregate)")
        #expect(aggregate.stdout.contains("consumed=5000 results=500 late=0 dead_letters=98"), "\(aggregate)")
        let verified = try await IoTChild.run(
            "iot", ["verify", "--brokers", broker.address, "--window", "10s", "--log-level", "warning"])
        #expect(verified.status == 0, "\(verified)")
        #expect(verified.stdout.contains("5000 records from sensors (98 malformed)"), "\(verified)")
        #expect(verified.stdout.contains("expected=500 found=500 missing=0 duplicates=0 wrong=0 unexpected=0 OK"), "\(verified)")
        let deadLetters = try await IoTChild.run(
            "iot", ["verify", "--brokers", broker.address, "--input", "dead", "--output", "dead", "--log-level", "warning"])
        #expect(deadLetters.stdout.contains("read 98 records from dead (98 malformed)"), "\(deadLetters)")
    }

    @Test(
        "readings the pipeline cannot sum (values that overflow, a time beyond event time) are dead-lettered and verify agrees; empty topics verify as nothing to check",
        .timeLimit(.minutes(1)))
    func extremeReadingsAndEmptyTopics() async throws {
        let broker = try await IoTBroker.start()
        defer { broker.stop() }
        let stateDirectory = IoTPaths.temporaryDirectory("iot-extreme")
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let verify = ["verify", "--brokers", broker.address, "--window", "10s", "--log-level", "warning"]
        let empty = try await IoTChild.run("iot", verify)
        #expect(empty.status != 0, "\(empty)")
        #expect(empty.stdout.contains("expected=0 found=0 missing=0 duplicates=0 wrong=0 unexpected=0 FAILED (nothing to check)"), "\(empty)")

        // 10 sensors, 20 s of readings: 20 results. Two values that overflow a sum in one
        // window, and a time beyond what event time holds (the aggregate and verify trapped).
        let readings = (0..<200).map { Reading(id: $0 % 10, time: 1_700_000_000 + Double($0 / 10), value: $0 % 100) }
        let extreme = [
            #"{"id":1,"time":1700000000,"value":9223372036854775807}"#, #"{"id":1,"time":1700000001,"value":9223372036854775807}"#,
            #"{"id":2,"time":1e16,"value":1}"#,
        ].map { Array($0.utf8) }
        try await produceReadings(readings, malformed: extreme, to: "sensors", bootstrapServers: [broker.address])
        let aggregate = try await IoTChild.run(
            "iot",
            [
                "aggregate", "--brokers", broker.address, "--window", "10s", "--exit-at-end", "--state-dir", stateDirectory,
                "--log-level", "warning",
            ])
        #expect(aggregate.status == 0, "\(aggregate)")
        #expect(aggregate.stdout.contains("consumed=203 results=20 late=0 dead_letters=3"), "\(aggregate)")
        let verified = try await IoTChild.run("iot", verify)
        #expect(verified.status == 0, "\(verified)")
        #expect(verified.stdout.contains("(3 malformed)"), "\(verified)")
        #expect(verified.stdout.contains("expected=20 found=20 missing=0 duplicates=0 wrong=0 unexpected=0 OK"), "\(verified)")
    }

    @Test("verify fails when the window does not match the output", .timeLimit(.minutes(1)))
    func verifyDetectsMismatch() async throws {
        let broker = try await IoTBroker.start()
        defer { broker.stop() }
        let stateDirectory = IoTPaths.temporaryDirectory("iot-mismatch")
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let sensors = try await IoTChild.run(
            "iot",
            [
                "sensors", "--brokers", broker.address, "--count", "1000", "--sensors", "10", "--start-time", "1700000000",
                "--rate", "0", "--log-level", "warning",
            ])
        #expect(sensors.status == 0, "\(sensors)")
        let aggregate = try await IoTChild.run(
            "iot",
            [
                "aggregate", "--brokers", broker.address, "--window", "10s", "--exit-at-end", "--state-dir", stateDirectory,
                "--log-level", "warning",
            ])
        #expect(aggregate.status == 0, "\(aggregate)")
        let verified = try await IoTChild.run(
            "iot", ["verify", "--brokers", broker.address, "--window", "20s", "--log-level", "warning"])
        #expect(verified.status == 1, "\(verified)")
        #expect(verified.stdout.contains("FAILED"), "\(verified)")
    }

    @Test("bad flags and an unreachable broker exit non-zero with a clear message", .timeLimit(.minutes(1)))
    func badFlags() async throws {
        let stateDirectory = IoTPaths.temporaryDirectory("iot-flags")
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }

        let badWindow = try await IoTChild.run(
            "iot", ["aggregate", "--brokers", "127.0.0.1:9092", "--state-dir", stateDirectory, "--window", "10parsecs"])
        #expect(badWindow.status == 64, "\(badWindow)")
        #expect(badWindow.stderr.contains("'10parsecs' is invalid for '--window"), "\(badWindow)")
        #expect(badWindow.stderr.contains("use ms, s or m"), "\(badWindow)")

        let noBrokers = try await IoTChild.run("iot", ["aggregate", "--state-dir", stateDirectory])
        #expect(noBrokers.status == 64, "\(noBrokers)")
        #expect(noBrokers.stderr.contains("Missing expected argument '--brokers"), "\(noBrokers)")

        let badBroker = try await IoTChild.run("iot", ["verify", "--brokers", "localhost"])
        #expect(badBroker.status == 64, "\(badBroker)")
        #expect(badBroker.stderr.contains("has no port"), "\(badBroker)")

        let unreachable = try await IoTChild.run(
            "iot",
            [
                "aggregate", "--brokers", "127.0.0.1:1", "--state-dir", stateDirectory, "--connect-timeout", "1s",
                "--log-level", "critical",
            ])
        #expect(unreachable.status == 69, "\(unreachable)")
        #expect(unreachable.stderr.contains("iot aggregate: cannot reach Kafka at 127.0.0.1:1"), "\(unreachable)")
    }

    @Test("/metrics and /health answer during a run; a second aggregate on the same state directory is refused; SIGTERM stops cleanly",
          .timeLimit(.minutes(1)))
    func metricsHealthAndLock() async throws {
        let broker = try await IoTBroker.start()
        defer { broker.stop() }
        let stateDirectory = IoTPaths.temporaryDirectory("iot-metrics")
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let sensors = try await IoTChild.run(
            "iot",
            [
                "sensors", "--brokers", broker.address, "--count", "2000", "--sensors", "20", "--start-time", "1700000000",
                "--rate", "0", "--log-level", "warning",
            ])
        #expect(sensors.status == 0, "\(sensors)")

        let aggregate = try IoTChild.launch(
            "iot",
            [
                "aggregate", "--brokers", broker.address, "--state-dir", stateDirectory, "--metrics-port", "0",
                "--log-level", "warning",
            ])
        defer { aggregate.kill() }
        let metricsLine = try await aggregate.waitForLine(startingWith: "metrics=", timeout: .seconds(20))
        let metricsURL = String(metricsLine.dropFirst("metrics=".count))
        let healthURL = metricsURL.replacingOccurrences(of: "/metrics", with: "/health")

        let metrics = try await IoTHTTP.poll(metricsURL, timeout: .seconds(20)) { _, body in
            consumedTotal(in: body) == 2000
                && !body.contains(#"sluice_checkpoints_total{pipeline="iot-aggregate"} 0"#)
        }
        #expect(metrics.status == 200)
        // A slow client, connected first, sends its request a byte at a time and never finishes
        // it: the probe behind it must be answered anyway (one connection at a time, it waited
        // for the slow one's 8 KiB at a byte per 200 ms, past its 5 s timeout).
        let port = try #require(URLComponents(string: metricsURL)?.port)
        let slow = try IoTSlowClient(port: port)
        defer { slow.stop() }
        let health = try await IoTHTTP.get(healthURL)
        #expect(health.status == 200 && health.body == "ok\n", "\(health)")
        #expect(metrics.body.contains("# TYPE sluice_records_consumed_total counter"))
        #expect(metrics.body.contains("sluice_checkpoints_total"))
        let notFound = try await IoTHTTP.get(metricsURL.replacingOccurrences(of: "/metrics", with: "/nothing"))
        #expect(notFound.status == 404)

        let second = try await IoTChild.run(
            "iot", ["aggregate", "--brokers", broker.address, "--state-dir", stateDirectory, "--log-level", "critical"])
        #expect(second.status == 75, "\(second)")
        #expect(second.stderr.contains("is in use by PID \(aggregate.processIdentifier)"), "\(second)")

        aggregate.signal(SIGTERM)
        let stopped = try await aggregate.waitForExit(timeout: .seconds(30))
        #expect(stopped.status == 0, "\(stopped)")
        #expect(stopped.stdout.contains("aggregate: consumed=2000"), "\(stopped)")
    }
}

// MARK: - Support

/// Where the binaries and scratch directories are.
private enum IoTPaths {
    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The directory holding `iot` and `sluice-broker`.
    static let binDirectory: String = {
        if let directory = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"], !directory.isEmpty { return directory }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--show-bin-path"]
        process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return packageRoot + "/.build/debug" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? packageRoot + "/.build/debug" : path
    }()

    /// A fresh, empty directory path under the system's temporary directory (not created).
    static func temporaryDirectory(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }
}

/// A child process whose standard output and error go to files (no pipes, so nothing depends
/// on end-of-file delivery), read back while it runs and after it exits.
///
/// `@unchecked Sendable`: after launch the `Process` is only queried (running, status, pid),
/// which Foundation allows from any thread; every other property is immutable.
private final class IoTChild: @unchecked Sendable, CustomStringConvertible {
    /// What a child printed, and its status once it exited.
    struct Outcome: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String

        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr.suffix(3_000))" }
    }

    private let process: Process
    private let name: String
    private let outputDirectory: String

    private init(process: Process, name: String, outputDirectory: String) {
        self.process = process
        self.name = name
        self.outputDirectory = outputDirectory
    }

    deinit {
        try? FileManager.default.removeItem(atPath: outputDirectory)
    }

    var processIdentifier: Int32 { process.processIdentifier }

    var description: String { "\(name) (pid \(process.processIdentifier))" }

    /// Starts `binary` from the bin directory with `arguments`.
    static func launch(_ binary: String, _ arguments: [String]) throws -> IoTChild {
        let path = IoTPaths.binDirectory + "/" + binary
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw IoTTestFailure("\(path) is missing: build with `swift build --build-tests` or set SLUICE_BIN_DIR")
        }
        let directory = IoTPaths.temporaryDirectory("iot-child")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        try process.run()
        return IoTChild(process: process, name: "\(binary) \(arguments.first ?? "")", outputDirectory: directory)
    }

    /// Runs `binary` to completion (at most `timeout`).
    static func run(_ binary: String, _ arguments: [String], timeout: Duration = .seconds(40)) async throws -> Outcome {
        let child = try launch(binary, arguments)
        defer { child.kill() }
        return try await child.waitForExit(timeout: timeout)
    }

    /// What the child printed so far, and its status (-1 while it runs).
    private var current: Outcome {
        let status = process.isRunning ? -1 : process.terminationStatus
        func read(_ name: String) -> String {
            let data = FileManager.default.contents(atPath: outputDirectory + "/" + name) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        return Outcome(status: status, stdout: read("stdout"), stderr: read("stderr"))
    }

    /// Waits until the process has exited.
    func waitForExit(timeout: Duration) async throws -> Outcome {
        try await IoTWait.until("\(self) exits", timeout: timeout, state: { self.current }) { _ in !self.process.isRunning }
        return current
    }

    /// Waits for a line of standard output starting with `prefix` and returns it.
    func waitForLine(startingWith prefix: String, timeout: Duration) async throws -> String {
        var found: String?
        try await IoTWait.until("\(self) prints \(prefix)…", timeout: timeout, state: { self.current }) { outcome in
            found = outcome.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
            if found == nil && outcome.status != -1 { throw IoTTestFailure("\(self) exited early: \(outcome)") }
            return found != nil
        }
        return found!
    }

    /// Sends `signal` to the process if it still runs.
    func signal(_ signal: Int32) {
        if process.isRunning {
            #if canImport(Glibc)
            _ = Glibc.kill(process.processIdentifier, signal)
            #else
            _ = Darwin.kill(process.processIdentifier, signal)
            #endif
        }
    }

    /// Kills the process if it still runs.
    func kill() {
        signal(SIGKILL)
    }
}

/// A `sluice-broker` child process.
private struct IoTBroker {
    let child: IoTChild
    /// The bootstrap address, `host:port`.
    let address: String

    static func start(extraTopics: [String] = []) async throws -> IoTBroker {
        let topics = ["sensors:4", "sums:2"] + extraTopics
        let child = try IoTChild.launch("sluice-broker", topics.flatMap { ["--topic", $0] } + ["--log-level", "warning"])
        do {
            let line = try await child.waitForLine(startingWith: "bootstrap=", timeout: .seconds(20))
            return IoTBroker(child: child, address: String(line.dropFirst("bootstrap=".count)))
        } catch {
            child.kill()
            throw error
        }
    }

    func stop() {
        child.signal(SIGTERM)
    }
}

/// A client that connects at once and then sends one byte every 200 ms until stopped.
private final class IoTSlowClient: Sendable {
    private let task: Task<Void, Never>

    init(port: Int) throws {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw IoTTestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        _ = inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw IoTTestFailure("connect to \(port): \(errno)")
        }
        task = Task.detached {
            var byte = UInt8(ascii: "G")
            while !Task.isCancelled {
                #if canImport(Glibc)
                _ = send(fd, &byte, 1, Int32(MSG_NOSIGNAL))
                #else
                _ = send(fd, &byte, 1, 0)
                #endif
                // The client's pace, not a wait for something to happen.
                try? await Task.sleep(for: .milliseconds(200))
            }
            close(fd)
        }
    }

    func stop() { task.cancel() }
}

/// Plain HTTP GETs against the sample's metrics server.
private enum IoTHTTP {
    struct Response {
        var status: Int
        var body: String
    }

    static func get(_ url: String) async throws -> Response {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        return Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self))
    }

    /// GETs `url` until `accept` says yes (connection errors count as no) or `timeout` passes.
    static func poll(_ url: String, timeout: Duration, accept: (Int, String) -> Bool) async throws -> Response {
        var last = Response(status: 0, body: "")
        try await IoTWait.until("GET \(url) answers as expected", timeout: timeout, state: { last }) { _ in
            if let response = try? await get(url) { last = response }
            return accept(last.status, last.body)
        }
        return last
    }
}

/// Polls a condition until it holds or a deadline passes.
private enum IoTWait {
    static func until<State>(
        _ what: String, timeout: Duration, state: () -> State, _ condition: (State) async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try await condition(state()) { return }
            if ContinuousClock.now >= deadline {
                throw IoTTestFailure("timed out after \(timeout) waiting until \(what); last state: \(state())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

private struct IoTTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The sum of `sluice_records_consumed_total` over its per-partition series in a Prometheus text body.
private func consumedTotal(in body: String) -> Int {
    body.split(separator: "\n")
        .filter { $0.hasPrefix("sluice_records_consumed_total{") }
        .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        .reduce(0, +)
}
