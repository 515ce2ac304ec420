import Foundation
import Sluice
import SluiceKafka
import SluiceTesting
import Testing

/// `shutdownTimeout` bounds a stop also when the producer cannot hand over records: before,
/// a publish waiting for room in librdkafka's queue (the broker refusing every request) kept
/// the deadline, which waits for the work it cancels, from ever ending.
@Suite("Shutdown deadline")
struct ShutdownDeadlineTests {
    @Test(
        "a stop while every produce request fails and the producer's queue is full ends with shutdownTimeout; a restart publishes every result once",
        .timeLimit(.minutes(1)), arguments: [PipelineConfiguration.DeliveryGuarantee.exactlyOnce, .atLeastOnce])
    func stopEndsWhileTheQueueIsFull(guarantee: PipelineConfiguration.DeliveryGuarantee) async throws {
        // 200 sensors within one 10 s window: every result is made at the end of the input,
        // twice as many as the producer's queue holds.
        let readings = KafkaPipelineTests.readings(count: 2_000, sensors: 200)
        let (cluster, pipeline, bounded) = try await KafkaPipelineTests.sumsJob(readings, partitions: 2, state: "deadline")
        var configuration = bounded
        configuration.kafka?.properties["queue.buffering.max.messages"] = "100"
        configuration.shutdownTimeout = .seconds(2)
        configuration.guarantee = guarantee
        // NOT_ENOUGH_REPLICAS is retriable: the producer retries without end and nothing is delivered.
        try cluster.pushRequestErrors(
            apiKey: KafkaMockCluster.APIKey.produce,
            errors: Array(repeating: KafkaMockCluster.ErrorCode.notEnoughReplicas, count: 100_000))

        let stuck = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        let error = try await #require(throws: SluiceError.self) { try await stuck.run() }
        #expect(error.code == .shutdownTimeout, "\(error)")
        #expect(stuck.status.producerQueueFullWaits > 0)
        #expect(try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers).isEmpty)

        try cluster.clearRequestErrors(apiKey: KafkaMockCluster.APIKey.produce)
        var restarted = configuration
        restarted.shutdownTimeout = .seconds(30)
        try await PipelineService(pipeline, configuration: restarted, logger: integrationLogger).run()
        try await KafkaPipelineTests.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }

    @Test("cancelling the task that runs a pipeline ends it with CancellationError and loses nothing: a restart publishes every result once", .timeLimit(.minutes(1)))
    func cancellationLosesNothing() async throws {
        let readings = KafkaPipelineTests.readings(count: 20_000, sensors: 50)
        let (cluster, pipeline, bounded) = try await KafkaPipelineTests.sumsJob(readings, partitions: 2, state: "cancelled")
        var unbounded = bounded
        unbounded.stopsAtEndOfInput = false
        let service = PipelineService(pipeline, configuration: unbounded, logger: integrationLogger)
        let running = Task { try await service.run() }
        // Until some results were published (the run goes on reading and checkpointing).
        let deadline = ContinuousClock.now + .seconds(30)
        while service.status.recordsPublished == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(service.status.recordsPublished > 0)
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(!service.status.isRunning)

        try await PipelineService(pipeline, configuration: bounded, logger: integrationLogger).run()
        try await KafkaPipelineTests.expectEachResultOnce(of: readings, in: "sums", cluster: cluster)
    }
}
