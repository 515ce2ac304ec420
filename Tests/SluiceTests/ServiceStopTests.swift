import MetricsTestKit
import Sluice
import Testing

/// What `PipelineService.stop()` promises: a stop is never lost, and it is final.
@Suite("Stopping a pipeline service")
struct ServiceStopTests {
    @Test("a stop before run() is kept, a later run() of the same service stops too, and a new service reads everything")
    func stopIsKeptAndFinal() async throws {
        let scratch = EngineScratchDirectory()
        let readings = ObservedFixture.memoryReadings(count: 40, sensors: 4)
        let configuration = ObservedFixture.memoryConfiguration(scratch.path)
        // The input ends, so a run that missed the stop would read all 40 records and return.
        let service = ObservedFixture.memoryService(readings.map(\.json), name: "stop-before-run", configuration: configuration)
        service.stop()
        try await service.run()
        #expect(service.status.router.recordsConsumed == 0, "a stop that raced start-up must not be lost")
        try await service.run()
        #expect(service.status.router.recordsConsumed == 0, "a stop is final for its service")

        let fresh = ObservedFixture.memoryService(readings.map(\.json), name: "stop-before-run", configuration: configuration)
        try await fresh.run()
        #expect(fresh.status.router.recordsConsumed == UInt64(readings.count))
    }

    @Test("a second run() while the first is under way is refused at once; the first goes on and stops cleanly")
    func concurrentRunIsRefused() async throws {
        let scratch = EngineScratchDirectory()
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.stopsAtEndOfInput = false
        let readings = ObservedFixture.memoryReadings(count: 40, sensors: 4)
        let service = ObservedFixture.memoryService(readings.map(\.json), name: "concurrent-runs", configuration: configuration)
        let first = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !(service.status.isRunning && service.status.router.recordsConsumed == UInt64(readings.count)) {
            try #require(ContinuousClock.now < deadline, "the first run did not read its input")
            try await Task.sleep(for: .milliseconds(10))
        }
        let error = await #expect(throws: SluiceError.self) { try await service.run() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("already running") == true)
        // The first run's status is its own, untouched by the refused one.
        #expect(service.status.isRunning)
        #expect(service.status.failure == nil)
        service.stop()
        try await first.value
    }

    @Test("a second run of a service reports its own progress: its status starts afresh and its checkpoints are counted once")
    func secondRunReportsItsOwnProgress() async throws {
        let scratch = EngineScratchDirectory()
        let metrics = TestMetrics()
        var configuration = ObservedFixture.memoryConfiguration(scratch.path)
        configuration.metricsFactory = metrics
        let readings = ObservedFixture.memoryReadings(count: 40, sensors: 4)
        let service = ObservedFixture.memoryService(readings.map(\.json), name: "two-runs", configuration: configuration)
        func checkpointsCounted() throws -> Int64 { try metrics.total("sluice_checkpoints_total", [("pipeline", "two-runs")]) }

        try await service.run()
        let first = service.status
        #expect(first.checkpointsCompleted > 0)
        #expect(try checkpointsCounted() == Int64(first.checkpointsCompleted))

        // The input ended, and nothing stopped the service: it may run again (from its checkpoint).
        try await service.run()
        let second = service.status
        // Checkpoint ids go on from the store, one per checkpoint: the second run took exactly the difference.
        let secondRunCheckpoints = second.lastCheckpointID - first.lastCheckpointID
        #expect(second.checkpointsCompleted == secondRunCheckpoints, "the status counts this run's checkpoints only")
        #expect(try checkpointsCounted() == Int64(first.checkpointsCompleted + secondRunCheckpoints), "each checkpoint counted once")
        #expect(second.router.recordsConsumed == 0, "everything was read by the first run")
    }
}
