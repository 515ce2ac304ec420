import SluiceKafka
import Testing

@Suite("Admin client")
struct AdminTests {
    @Test("createTopic fails with a clear error in bounded time when the cluster cannot create topics")
    func createTopicBounded() async throws {
        // librdkafka's mock cluster has no CreateTopics support; an unreachable address none at all.
        let cluster = try KafkaMockCluster(logger: testLogger)
        for servers in [cluster.bootstrapServers, ["127.0.0.1:1"]] {
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: servers), logger: testLogger)
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: KafkaError.self) {
                try await admin.createTopic("new-topic", partitions: 3, replicationFactor: 1, timeout: .seconds(1))
            }
            // A guard against hanging, not a speed check: the whole suite shares 2 cores.
        #expect(clock.now - start < .seconds(30))
            #expect(error?.message.contains("new-topic") == true)
        }
    }

    @Test("invalid topic specifications are rejected before any request")
    func invalidSpecification() async throws {
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: ["127.0.0.1:1"]), logger: testLogger)
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopic("t", partitions: 0, replicationFactor: 1, timeout: .seconds(1))
        }
        #expect(error?.code == .invalidArgument)
    }
}
