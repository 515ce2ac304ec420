import Foundation
import Sluice
import SluiceKafka
import SluiceTesting
import Testing

/// Recovery finds published results by the `sluice.writer` and `sluice.seq` headers, reading the
/// first of each name. A sink that set one of them itself made recovery read its value instead:
/// results published twice, or unpublished ones taken as published.
@Suite("Headers Sluice reserves")
struct ReservedHeaderTests {
    @Test("a sink that sets sluice.seq stops the pipeline before anything is checkpointed; a fixed sink then publishes every result once")
    func sinkSettingAReservedHeaderStops() async throws {
        let readings = KafkaPipelineTests.readings(count: 200, sensors: 4)
        let (cluster, _, configuration) = try await KafkaPipelineTests.sumsJob(readings, partitions: 2, state: "reserved-header")
        let name = "reserved-\(UUID().uuidString.prefix(8))"
        func pipeline(header: String) -> PipelineDefinition<WindowAggregator<Int, Reading, SumCount>> {
            KafkaPipelineTests.makePipeline(
                input: "sensors", output: "sums", window: .seconds(10), name: name,
                headers: [OutputHeader(name: header, value: Array("1".utf8))])
        }

        let error = await #expect(throws: SluiceError.self) {
            try await PipelineService(pipeline(header: "sluice.seq"), configuration: configuration, logger: integrationLogger).run()
        }
        #expect(error?.code == .encoding)
        #expect(error?.message.contains("'sluice.seq'") == true)
        let published = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers, logger: integrationLogger)
        #expect(published.isEmpty)

        try await PipelineService(pipeline(header: "sequence"), configuration: configuration, logger: integrationLogger).run()
        try await KafkaPipelineTests.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }
}
