import Logging
import SluiceKafka
import Testing

@testable import Sluice

/// The size the publisher checks a result against: what the producer will count, headers it
/// adds included.
@Suite("Outbox record size")
struct OutboxRecordSizeTests {
    @Test("the counted size is the producer's count of the record as published, sequence digits exactly")
    func countedSizeMatchesPublishedRecord() async throws {
        let publisher = try OutboxPublisher(
            applicationID: "size-app", configuration: KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"]),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let writer = InputPartition(topic: "readings", partition: 12)
        let writerName = OutboxPublisher.writerName(applicationID: "size-app", partition: writer)
        for sequence: UInt64 in [0, 7, 1_234_567, 1_764_000_000_000_000, .max] {
            let entry = OutboxEntry(
                key: OutboxKey(writer: writer, sequence: sequence), destination: OutputPartition(topic: "sums", partition: 1),
                recordKey: Array("17".utf8), recordValue: Array(repeating: 0x61, count: 300),
                headers: [OutputHeader(name: "trace", value: Array("abc".utf8))])
            let published = KafkaProducer.countedSize(
                keyCount: 2, valueCount: 300,
                headerSizes: [
                    (nameCount: 5, valueCount: 3),
                    (nameCount: OutboxPublisher.writerHeader.utf8.count, valueCount: writerName.utf8.count),
                    (nameCount: OutboxPublisher.sequenceHeader.utf8.count, valueCount: String(sequence).utf8.count),
                ])
            #expect(publisher.countedSize(of: entry) == published, "sequence \(sequence)")
        }
        #expect(OutboxPublisher.decimalCount(of: Int32.min) == String(Int32.min).count)
        #expect(OutboxPublisher.decimalCount(of: Int32(-7)) == 2)
        await publisher.close()
    }
}
