import Logging
import SluiceKafka
import Testing

@testable import Sluice

/// The recovery scan that tells which outbox entries a previous process already published.
@Suite("Output scan at recovery")
struct OutputScannerTests {
    static let application = "scan-app"
    static let writer = InputPartition(topic: "sensors", partition: 3)
    static let output = OutputPartition(topic: "sums", partition: 0)

    /// A record as the publisher writes it for `sequence` of ``writer``.
    static func published(_ sequence: UInt64) -> KafkaOutgoingRecord {
        KafkaOutgoingRecord(
            topic: output.topic, partition: output.partition, value: Array("result \(sequence)".utf8),
            headers: [
                KafkaHeader(name: OutboxPublisher.writerHeader, value: Array(OutboxPublisher.writerName(applicationID: application, partition: writer).utf8)),
                KafkaHeader(name: OutboxPublisher.sequenceHeader, value: Array(String(sequence).utf8)),
            ])
    }

    /// A mock cluster with ``output``'s topic.
    static func outputCluster() throws -> KafkaMockCluster {
        let cluster = try KafkaMockCluster(brokers: 1, logger: ObservedFixture.silentLogger)
        try cluster.createTopic(output.topic, partitions: 1)
        return cluster
    }

    /// A scanner of ``application``'s outputs on `cluster`.
    static func scanner(_ cluster: KafkaMockCluster) -> OutputScanner {
        OutputScanner(
            applicationID: application, configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers),
            logger: ObservedFixture.silentLogger)
    }

    static func entry(_ sequence: UInt64) -> OutboxEntry {
        OutboxEntry(key: OutboxKey(writer: writer, sequence: sequence), destination: output, recordKey: nil, recordValue: [1])
    }

    @Test("records of another life of the same input partition (higher sequences) do not mark this outbox as published")
    func anotherLifeOfTheWriterIsIgnored() async throws {
        let cluster = try Self.outputCluster()
        defer { cluster.close() }
        // This process published 100 and 101 of its outbox 100...103 before it died. Then another
        // member took the input partition over without its state and published under the same
        // writer name, with sequences from the clock of its own start: far above ours.
        try await ObservedFixture.produce(
            [Self.published(100), Self.published(101), Self.published(9_000_000), Self.published(9_000_001)],
            bootstrapServers: cluster.bootstrapServers)

        let scanner = Self.scanner(cluster)
        let result = try await scanner.scan(outbox: (100...103).map(Self.entry), from: [:])

        #expect(Set(result.alreadyPublished.map(\.sequence)) == [100, 101], "102 and 103 were never published: they must go out")
        #expect(result.scanOffsets[Self.output] == 4, "the scan read past every record of the application")
    }

    @Test("records of another life numbered between two lives this outbox holds do not mark it as published")
    func anotherLifeBetweenTwoOwnLivesIsIgnored() async throws {
        let cluster = try Self.outputCluster()
        defer { cluster.close() }
        // The outbox holds 100 and 101 from a life whose state was later found stale and
        // dropped, and 20,000,000 and 20,000,001 from the life that reopened the partition. In
        // between, another member held the input partition and published 9,000,000 and
        // 9,000,001 under the same writer name. None of this outbox's entries is in the output.
        try await ObservedFixture.produce(
            [Self.published(9_000_000), Self.published(9_000_001)], bootstrapServers: cluster.bootstrapServers)

        let scanner = Self.scanner(cluster)
        let outbox = [100, 101, 20_000_000, 20_000_001].map(Self.entry)
        let result = try await scanner.scan(outbox: outbox, from: [:])
        #expect(result.alreadyPublished.isEmpty, "nothing of this outbox was published: every entry must go out")

        // Once one of its own entries is there, it and every earlier entry of the writer count.
        try await ObservedFixture.produce([Self.published(20_000_000)], bootstrapServers: cluster.bootstrapServers)
        let rescanned = try await scanner.scan(outbox: outbox, from: [:])
        #expect(Set(rescanned.alreadyPublished.map(\.sequence)) == [100, 101, 20_000_000])
    }

    @Test("an entry is published when a later one of its own writer is in the partition")
    func laterOwnRecordMarksEarlierEntries() async throws {
        let cluster = try Self.outputCluster()
        defer { cluster.close() }
        try await ObservedFixture.produce([Self.published(102)], bootstrapServers: cluster.bootstrapServers)

        let scanner = Self.scanner(cluster)
        let result = try await scanner.scan(outbox: (100...103).map(Self.entry), from: [:])

        #expect(Set(result.alreadyPublished.map(\.sequence)) == [100, 101, 102])
    }
}
