import Logging
import ServiceLifecycle
import SluiceKafka

/// Follows the output topic for the demo: reads every partition from the start and puts each
/// window sum on the ``DemoBoard``, until graceful shutdown.
struct SumsFollower: Service {
    /// Connection settings.
    let kafka: KafkaConfiguration
    /// The output topic.
    let topic: String
    /// Where results go.
    let board: DemoBoard
    /// Where the consumer logs.
    let logger: Logger

    func run() async throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: kafka.bootstrapServers)
        configuration.common = kafka
        configuration.fetchMaxWait = .milliseconds(50)
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            let partitions = try await consumer.partitionCount(topic: topic, timeout: .seconds(10))
            try await consumer.assign(
                Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map {
                    (KafkaTopicPartition(topic: topic, partition: $0), KafkaOffset.beginning)
                }))
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                for record in try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100)).records {
                    if let sum = WindowSum(json: record.value) { board.record(sum) }
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }
}
