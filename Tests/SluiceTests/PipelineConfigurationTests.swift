import Sluice
import SluiceKafka
import Testing

/// `PipelineConfiguration.validate()`, which a pipeline's start runs.
@Suite("Pipeline configuration")
struct PipelineConfigurationTests {
    static func configuration(_ properties: [String: String]) -> PipelineConfiguration {
        var kafka = KafkaConfiguration(bootstrapServers: ["127.0.0.1:9092"])
        kafka.properties = properties
        return PipelineConfiguration(stateDirectory: "/tmp/unused", kafka: kafka)
    }

    @Test(
        "raw producer properties that would weaken the delivery guarantee are refused, naming the property",
        arguments: [
            ("enable.idempotence", "false"), ("acks", "1"), ("request.required.acks", "0"), ("message.timeout.ms", "30000"),
            ("delivery.timeout.ms", "120000"), ("enable.gapless.guarantee", "false"),
        ])
    func weakeningPropertiesAreRefused(name: String, value: String) {
        let error = #expect(throws: SluiceError.self) { try Self.configuration([name: value]).validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("'\(name)' to '\(value)'") == true, "\(String(describing: error?.message))")
    }

    @Test("the values the guarantee needs, and other properties, are accepted")
    func requiredValuesAndOthersAreAccepted() throws {
        try Self.configuration([
            "enable.idempotence": "true", "acks": "all", "request.required.acks": "-1", "message.timeout.ms": "0",
            "delivery.timeout.ms": "0", "enable.gapless.guarantee": "true", "linger.ms": "20",
        ]).validate()
        try Self.configuration(["acks": "ALL"]).validate()
    }
}
