import SluiceKafka
import Testing

@Suite("Configuration and connection errors")
struct ConfigurationErrorTests {
    @Test("a bootstrap server without a port is rejected with an actionable message")
    func missingPort() throws {
        let configuration = KafkaConsumerConfiguration(bootstrapServers: ["localhost"], groupID: "g")
        let error = try #require(throws: KafkaError.self) { try configuration.validate() }
        #expect(error.code == .configuration)
        #expect(error.message.contains("host:port"))
        #expect(throws: KafkaError.self) { _ = try KafkaConsumer(configuration: configuration, logger: testLogger) }
    }

    @Test("typed settings out of range are rejected")
    func outOfRange() throws {
        var consumer = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:9092"], groupID: "g")
        consumer.sessionTimeout = .milliseconds(10)
        #expect(throws: KafkaError.self) { try consumer.validate() }
        var producer = KafkaProducerConfiguration(bootstrapServers: [])
        #expect(throws: KafkaError.self) { try producer.validate() }
        producer.common.bootstrapServers = ["127.0.0.1:99999"]
        #expect(throws: KafkaError.self) { try producer.validate() }
        var common = KafkaConfiguration(bootstrapServers: ["127.0.0.1:9092"])
        common.security.saslUsername = "user"
        let error = try #require(throws: KafkaError.self) { try common.validate() }
        #expect(error.message.contains("saslPlaintext"))
        common.security.protocol = .saslSSL
        common.security.saslMechanism = "SCRAM-SHA-512"
        #expect(throws: KafkaError.self) { try common.validate() }  // no password
        common.security.saslPassword = "secret"
        try common.validate()
    }

    @Test("librdkafka's rejection of a raw property names the property")
    func unknownProperty() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:9092"])
        configuration.common.properties["no.such.setting"] = "1"
        let unknown = try #require(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: configuration, logger: testLogger, onDelivery: { _ in })
        }
        #expect(unknown.code == .configuration)
        #expect(unknown.message.contains("no.such.setting"))

        configuration.common.properties = ["compression.codec": "brotli"]
        let invalid = try #require(throws: KafkaError.self) {
            _ = try KafkaProducer(configuration: configuration, logger: testLogger, onDelivery: { _ in })
        }
        #expect(invalid.code == .configuration)
        #expect(invalid.message.contains("compression.codec"))
    }

    @Test("an unreachable broker gives a connection error within the timeout")
    func unreachableBroker() async throws {
        let clock = ContinuousClock()
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"]), logger: testLogger)
        let start = clock.now
        let error = await #expect(throws: KafkaError.self) {
            _ = try await consumer.partitionCount(topic: "anything", timeout: .seconds(2))
        }
        // A guard against hanging, not a speed check: the whole suite shares 2 cores.
        #expect(clock.now - start < .seconds(30))
        #expect(error?.code == .connection)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("127.0.0.1:1") == true)

        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"]), logger: testLogger,
            onDelivery: { _ in })
        let producerError = await #expect(throws: KafkaError.self) {
            _ = try await producer.partitionCount(topic: "anything", timeout: .seconds(1))
        }
        #expect(producerError?.code == .connection)
        await consumer.close()
        await producer.close(timeout: .milliseconds(100))
    }

    @Test("misuse is reported: no group, unknown event, closed consumer")
    func misuse() async throws {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"]), logger: testLogger)
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        await #expect(throws: KafkaError.self) { try await consumer.subscribe(topics: ["t"]) }
        await #expect(throws: KafkaError.self) { try await consumer.commit([partition: 1], timeout: .seconds(5)) }
        let error = await #expect(throws: KafkaError.self) {
            try await consumer.acknowledge(.assigned([partition]), startOffsets: [:])
        }
        #expect(error?.code == .invalidArgument)
        await consumer.close()
        let closed = await #expect(throws: KafkaError.self) { _ = try await consumer.poll(maxRecords: 1, timeout: .zero) }
        #expect(closed?.code == .closed)
    }
}
