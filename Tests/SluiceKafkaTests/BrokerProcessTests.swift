import Foundation
import SluiceKafka
import Synchronization
import Testing

/// Lines a process writes to a pipe, as they arrive.
private final class LineReader: Sendable {
    private let state = Mutex<(buffer: [UInt8], lines: [String])>(([], []))

    init(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            state.withLock { state in
                state.buffer += data
                while let newline = state.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    state.lines.append(String(decoding: state.buffer[..<newline], as: UTF8.self))
                    state.buffer.removeSubrange(...newline)
                }
            }
        }
    }

    /// The next line, waiting up to `timeout`.
    func next(timeout: Duration = .seconds(10)) async -> String? {
        var line: String?
        _ = await eventually(timeout: timeout) {
            line = state.withLock { $0.lines.isEmpty ? nil : $0.lines.removeFirst() }
            return line != nil
        }
        return line
    }
}

/// A running `sluice-broker`: its stdin, its stdout's lines and its exit status once it exited.
fileprivate final class LaunchedBroker: Sendable {
    let process: Process
    let input: Pipe
    let lines: LineReader
    let exited = Mutex<Int32?>(nil)

    init(process: Process, input: Pipe, lines: LineReader) {
        self.process = process
        self.input = input
        self.lines = lines
    }
}

fileprivate func launchBroker(_ arguments: [String]) throws -> LaunchedBroker {
    let process = Process()
    process.executableURL = brokerExecutable
    process.arguments = arguments
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let launched = LaunchedBroker(process: process, input: input, lines: LineReader(output))
    process.terminationHandler = { process in launched.exited.withLock { $0 = process.terminationStatus } }
    try process.run()
    return launched
}

@Suite("The sluice-broker executable")
struct BrokerProcessTests {
    @Test(
        "serves a stable bootstrap port, obeys the control channel and exits cleanly on SIGTERM",
        .enabled(if: brokerExecutable != nil, "sluice-broker is not built"))
    func brokerProcess() async throws {
        let broker = try launchBroker(["--topic", "demo:2", "--port", "0"])
        let (process, input, lines) = (broker.process, broker.input, broker.lines)
        defer { if process.isRunning { process.terminate() } }

        let first = try #require(await lines.next())
        #expect(first.hasPrefix("bootstrap=127.0.0.1:"))
        let bootstrap = String(first.dropFirst("bootstrap=".count))

        func command(_ line: String) async -> String? {
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            return await lines.next()
        }

        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: [bootstrap])
        producerConfiguration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: testLogger, onDelivery: { _ in })
        #expect(try await producer.partitionCount(topic: "demo", timeout: .seconds(10)) == 2)
        _ = try await producer.send(
            contentsOf: (0..<20).map { KafkaOutgoingRecord(topic: "demo", key: [UInt8]("k\($0)"), value: [UInt8]("\($0)")) })
        try await producer.flush(timeout: .seconds(10))

        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap])
        consumerConfiguration.maxQueuedRecords = 10_000
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: testLogger)
        try await consumer.assign(allPartitions("demo", count: 2))
        let received = try await consume(consumer, count: 20)
        #expect(Set(received.map(\.valueString)) == Set((0..<20).map { "\($0)" }))

        #expect(await command("down 1") == "ok")
        #expect(await command("up 1") == "ok")
        #expect(await command("rtt 1 5ms") == "ok")
        #expect(await command("errors produce NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT") == "ok")
        #expect(await command("clear produce") == "ok")
        #expect(await command("topic extra 3") == "ok")
        #expect(await command("bogus")?.hasPrefix("error: ") == true)
        #expect(await command("down") == "error: usage: down <broker>")
        // Values that used to trap the broker (Int32 and Duration conversions) are refused.
        #expect(await command("topic huge 3000000000")?.hasPrefix("error: createTopic huge: need 1 <= partitions <= 10000") == true)
        #expect(await command("rtt 1 infs")?.hasPrefix("error: usage: rtt") == true)
        #expect(await command("rtt 1 1e30ms")?.hasPrefix("error: usage: rtt") == true)
        #expect(await command("rtt 1 0") == "ok")
        // Values the mock would take as something else (or as nothing) are refused, not answered `ok`.
        #expect(await command("rtt 1 0.5ms")?.hasPrefix("error: usage: rtt") == true)
        #expect(await command("errors 99 REQUEST_TIMED_OUT")?.hasPrefix("error: ") == true)
        #expect(await command("errors produce 40000")?.hasPrefix("error: ") == true)
        #expect(await command("clear 300")?.hasPrefix("error: ") == true)
        #expect(try await producer.partitionCount(topic: "extra", timeout: .seconds(10)) == 3)
        await consumer.close()
        await producer.close(timeout: .seconds(5))

        process.terminate()  // SIGTERM
        #expect(await eventually(timeout: .seconds(10)) { broker.exited.withLock { $0 } != nil })
        #expect(broker.exited.withLock { $0 } == 0)
    }

    @Test(
        "a command whose answer nobody reads any more (stdout closed) ends the control channel, not the broker",
        .enabled(if: brokerExecutable != nil, "sluice-broker is not built"))
    func brokerSurvivesAClosedStdout() async throws {
        let process = Process()
        process.executableURL = brokerExecutable
        process.arguments = ["--topic", "demo:1"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let exited = Mutex<Int32?>(nil)
        process.terminationHandler = { process in exited.withLock { $0 = process.terminationStatus } }
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The first line by hand, then the reading end closed, as `sluice-broker | head -1` does.
        var first: [UInt8] = []
        while first.last != UInt8(ascii: "\n") {
            let byte = try #require(try output.fileHandleForReading.read(upToCount: 1))
            first += byte
        }
        let bootstrap = String(decoding: first.dropLast(), as: UTF8.self)
        #expect(bootstrap.hasPrefix("bootstrap="))
        try output.fileHandleForReading.close()

        input.fileHandleForWriting.write(Data("rtt 1 0\nrtt 1 0\n".utf8))
        // Still serving: a client gets the topic's metadata, and the process has not ended.
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: [String(bootstrap.dropFirst("bootstrap=".count))]),
            logger: testLogger, onDelivery: { _ in })
        #expect(try await producer.partitionCount(topic: "demo", timeout: .seconds(10)) == 1)
        await producer.close(timeout: .seconds(5))
        #expect(exited.withLock { $0 } == nil)
    }

    @Test(
        "with --exit-at-end-of-input it stops cleanly when its standard input ends, as when its parent dies",
        .enabled(if: brokerExecutable != nil, "sluice-broker is not built"))
    func brokerStopsAtEndOfInput() async throws {
        for exitsAtEnd in [true, false] {
            let broker = try launchBroker(["--topic", "demo:1"] + (exitsAtEnd ? ["--exit-at-end-of-input"] : []))
            let (process, input, lines) = (broker.process, broker.input, broker.lines)
            defer { if process.isRunning { process.terminate() } }
            let first = try #require(await lines.next())
            #expect(first.hasPrefix("bootstrap="))
            try input.fileHandleForWriting.close()
            if exitsAtEnd {
                #expect(await eventually(timeout: .seconds(10)) { broker.exited.withLock { $0 } != nil })
                #expect(broker.exited.withLock { $0 } == 0)
            } else {
                // Without the flag it keeps serving after its input ended: a client still gets answers.
                let producer = try KafkaProducer(
                    configuration: KafkaProducerConfiguration(bootstrapServers: [String(first.dropFirst("bootstrap=".count))]),
                    logger: testLogger, onDelivery: { _ in })
                #expect(try await producer.partitionCount(topic: "demo", timeout: .seconds(10)) == 1)
                await producer.close(timeout: .seconds(5))
                #expect(broker.exited.withLock { $0 } == nil)
            }
        }
    }
}
