import Foundation
import Sluice
import SluiceKafka
import SluiceTesting
import Testing

/// What happens when local state and the consumer group disagree, and group assignment.
@Suite("Missing state and consumer-group mode")
struct RecoveryPolicyTests {
    typealias Job = KafkaPipelineTests

    private func configuration(_ cluster: KafkaMockCluster, state: String) -> PipelineConfiguration {
        var configuration = PipelineConfiguration(stateDirectory: state, kafka: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers))
        configuration.checkpointInterval = .milliseconds(100)
        configuration.stopsAtEndOfInput = true
        return configuration
    }

    @Test("a lost state directory is refused while the group has offsets, unless told to rebuild")
    func lostStateIsNeverSilent() async throws {
        let cluster = try mockCluster([("sensors", 2), ("sums", 1)])
        let readings = Job.readings(count: 400, sensors: 4)
        try await Job.produce(readings, to: "sensors", cluster: cluster)
        let pipeline = Job.makePipeline(input: "sensors", output: "sums", window: .seconds(10))
        try await PipelineService(pipeline, configuration: configuration(cluster, state: temporaryDirectory("lost-a")), logger: integrationLogger).run()

        // The same pipeline (same group) on an empty state directory.
        let refused = await #expect(throws: SluiceError.self) {
            try await PipelineService(pipeline, configuration: configuration(cluster, state: temporaryDirectory("lost-b")), logger: integrationLogger)
                .run()
        }
        #expect(refused?.code == .missingState)
        #expect(refused?.message.contains("sensors/0") == true)
        #expect(refused?.message.contains("rebuildFromEarliest") == true)

        // Rebuilding reprocesses from the earliest offset: every window is computed again.
        var rebuild = configuration(cluster, state: temporaryDirectory("lost-c"))
        rebuild.missingState = .rebuildFromEarliest
        let rebuilt = PipelineService(pipeline, configuration: rebuild, logger: integrationLogger)
        try await rebuilt.run()
        #expect(rebuilt.status.router.recordsProcessed == UInt64(readings.count))

        // Accepting the loss continues from the committed offsets: nothing left to read.
        var accept = configuration(cluster, state: temporaryDirectory("lost-d"))
        accept.missingState = .acceptLoss
        let accepted = PipelineService(pipeline, configuration: accept, logger: integrationLogger)
        try await accepted.run()
        #expect(accepted.status.router.recordsConsumed == 0)
    }

    @Test("local state older than the group's progress is discarded, never silently reused")
    func staleStateIsDiscarded() async throws {
        let cluster = try mockCluster([("sensors", 2), ("sums", 1)])
        let first = Job.readings(count: 200, sensors: 4)
        try await Job.produce(first, to: "sensors", cluster: cluster)
        let pipeline = Job.makePipeline(input: "sensors", output: "sums", window: .seconds(10))
        let oldState = temporaryDirectory("stale-a")
        try await PipelineService(pipeline, configuration: configuration(cluster, state: oldState), logger: integrationLogger).run()

        // Another process of the same group moves on past the old state's offsets.
        try await Job.produce(Job.readings(count: 200, sensors: 4, start: 1_700_001_000), to: "sensors", cluster: cluster)
        var elsewhere = configuration(cluster, state: temporaryDirectory("stale-b"))
        elsewhere.missingState = .rebuildFromEarliest
        try await PipelineService(pipeline, configuration: elsewhere, logger: integrationLogger).run()

        // The old state directory is now stale: reusing it would publish results again.
        let refused = await #expect(throws: SluiceError.self) {
            try await PipelineService(pipeline, configuration: configuration(cluster, state: oldState), logger: integrationLogger).run()
        }
        #expect(refused?.code == .missingState)

        // Told to accept the loss, it starts from the group's offsets with nothing left to read.
        var accept = configuration(cluster, state: oldState)
        accept.missingState = .acceptLoss
        let resumed = PipelineService(pipeline, configuration: accept, logger: integrationLogger)
        try await resumed.run()
        #expect(resumed.status.router.recordsConsumed == 0)
    }

    @Test(
        "in a bounded run, a group member the group gives no partition finishes instead of waiting for ever",
        .timeLimit(.minutes(1)))
    func memberWithoutPartitionsFinishes() async throws {
        // One input partition, held by a running member: a second member joining gets nothing.
        let cluster = try mockCluster([("sensors", 1), ("sums", 1)])
        let readings = Job.readings(count: 300, sensors: 3)
        try await Job.produce(readings, to: "sensors", cluster: cluster)
        let name = "idle-member-\(UUID().uuidString.prefix(6))"
        let pipeline = Job.makePipeline(
            input: "sensors", output: "sums", window: .seconds(10), assignment: .consumerGroup(.cooperativeSticky), name: name)
        var holderConfiguration = configuration(cluster, state: temporaryDirectory("idle-member-holder"))
        holderConfiguration.sessionTimeout = .seconds(6)
        holderConfiguration.stopsAtEndOfInput = false
        let holder = PipelineService(pipeline, configuration: holderConfiguration, logger: integrationLogger)
        let holding = Task { try await holder.run() }
        // Until the group's offset shows the whole partition processed, so that whichever member
        // holds the partition later starts at its end.
        let offsets = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: name), logger: integrationLogger)
        let partition = KafkaTopicPartition(topic: "sensors", partition: 0)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await offsets.committedOffsets(for: [partition], timeout: .seconds(5))[partition] != Int64(readings.count) {
            try #require(ContinuousClock.now < deadline, "the first member did not process and commit the partition")
            try await Task.sleep(for: .milliseconds(50))
        }
        await offsets.close()

        // Bounded. The sticky assignor leaves the partition with its holder, so this member is
        // given nothing; should the holder be slow to rejoin and lose it, this member gets it at
        // its end (without the holder's state, which it is told to accept) and reads nothing.
        var idleConfiguration = configuration(cluster, state: temporaryDirectory("idle-member-idle"))
        idleConfiguration.sessionTimeout = .seconds(6)
        idleConfiguration.missingState = .acceptLoss
        let idle = PipelineService(pipeline, configuration: idleConfiguration, logger: integrationLogger)
        try await idle.run()
        #expect(idle.status.router.recordsConsumed == 0)

        holder.stop()
        try await holding.value
        // The holder was stopped, not at the end of a bounded input: its last windows stay open.
        let output = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers)
        let report = ExactlyOnceReport(expected: groundTruth(readings, windowMilliseconds: 10_000), found: Job.parse(output))
        #expect(report.foundCount > 0 && report.duplicated.isEmpty && report.wrong.isEmpty && report.unexpected.isEmpty, "\(report)")
        #expect(Set(report.missing.map(\.windowStart)).count == 1, "only the last window is still open: \(report)")
    }

    @Test("consumer-group assignment processes every partition and commits offsets to the group")
    func consumerGroupMode() async throws {
        let cluster = try mockCluster([("sensors", 3), ("sums", 2)])
        let readings = Job.readings(count: 900, sensors: 9)
        try await Job.produce(readings, to: "sensors", cluster: cluster)
        let name = "group-job-\(UUID().uuidString.prefix(6))"
        let pipeline = Job.makePipeline(
            input: "sensors", output: "sums", window: .seconds(10), assignment: .consumerGroup(.cooperativeSticky), name: name)
        var configuration = configuration(cluster, state: temporaryDirectory("group"))
        configuration.sessionTimeout = .seconds(6)
        let service = PipelineService(pipeline, configuration: configuration, logger: integrationLogger)
        try await service.run()

        let output = try await KafkaTopicReader.readAll(topic: "sums", bootstrapServers: cluster.bootstrapServers)
        let report = ExactlyOnceReport(expected: groundTruth(readings, windowMilliseconds: 10_000), found: Job.parse(output))
        #expect(report.isExactlyOnce, "\(report)")

        // Progress is visible to standard Kafka tools through the group's committed offsets.
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: name), logger: integrationLogger)
        let partitions = (0..<3).map { KafkaTopicPartition(topic: "sensors", partition: Int32($0)) }
        let committed = try await consumer.committedOffsets(for: partitions, timeout: .seconds(10))
        await consumer.close()
        let total = partitions.reduce(Int64(0)) { $0 + (committed[$1] ?? 0) }
        #expect(total == Int64(readings.count))
    }
}
