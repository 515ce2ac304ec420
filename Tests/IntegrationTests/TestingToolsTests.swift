import Foundation
import SluiceKafka
import Synchronization
import SluiceTesting
import Testing

/// The parts of SluiceTesting that the crash scenarios lean on: the dev broker's control
/// channel and the topic reader.
@Suite("SluiceTesting tools")
struct TestingToolsTests {
    @Test("control commands from several tasks each get their own answer, and one sent after the broker stopped throws")
    func controlFromSeveralTasks() async throws {
        let broker = try await DevBrokerProcess(executable: executable("sluice-broker"), topics: [("control", 1)])
        // Unstructured, so that a call that never returns (an answer lost between them) fails
        // the test at the deadline instead of holding it for ever.
        final class Answers: Sendable { let byCommand = Mutex<[String: String]>([:]) }
        let answers = Answers()
        for command in ["rtt 1 0", "rtt 1 5ms", "bogus"] {
            Task {
                let answer = (try? await broker.control(command)) ?? "threw"
                answers.byCommand.withLock { $0[command] = answer }
            }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while answers.byCommand.withLock({ $0.count }) < 3 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let received = answers.byCommand.withLock { $0 }
        #expect(received["rtt 1 0"] == "ok", "\(received)")
        #expect(received["rtt 1 5ms"] == "ok", "\(received)")
        #expect(received["bogus"]?.hasPrefix("error: ") == true, "\(received)")

        broker.stop()
        await #expect(throws: (any Error).self) { try await broker.control("rtt 1 0") }
    }

    @Test("an output record that is not a result fails the exactly-once report")
    func unparsedRecordsFailTheReport() {
        let expected = ["a": 1, "b": 2]
        let found: [(key: String, value: Int)] = [("a", 1), ("b", 2)]
        #expect(ExactlyOnceReport(expected: expected, found: found).isExactlyOnce)
        let report = ExactlyOnceReport(expected: expected, found: found, unparsed: 1)
        #expect(!report.isExactlyOnce)
        #expect(report.description.contains("unparsed=1"), "\(report)")
    }

    @Test("the topic reader refuses a topic that lost records to retention unless told to allow it")
    func readerRefusesDeletedRecords() async throws {
        let cluster = try KafkaMockCluster(brokers: 1, logger: integrationLogger)
        defer { cluster.close() }
        try cluster.createTopic("retained", partitions: 1)
        // About 7 MiB into one partition: the mock keeps about 5 MiB and deletes the oldest.
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: integrationLogger) { _ in }
        let value = [UInt8](repeating: 7, count: 1_024)
        for _ in 0..<7 {
            _ = try await producer.send(contentsOf: (0..<1_024).map { _ in KafkaOutgoingRecord(topic: "retained", partition: 0, value: value) })
            try await producer.flush(timeout: .seconds(30))
        }
        await producer.close(timeout: .seconds(5))

        let error = await #expect(throws: KafkaError.self) {
            _ = try await KafkaTopicReader.readAll(topic: "retained", bootstrapServers: cluster.bootstrapServers)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("were deleted") == true, "\(error?.message ?? "")")
        let kept = try await KafkaTopicReader.readAll(
            topic: "retained", bootstrapServers: cluster.bootstrapServers, allowsDeletedRecords: true)
        #expect(!kept.isEmpty && kept.count < 7 * 1_024)
    }
}
