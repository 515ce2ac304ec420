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
        let service = PipelineService(
            ObservedFixture.memoryPipeline(readings.map(\.json), name: "stop-before-run"), configuration: configuration,
            logger: ObservedFixture.silentLogger)
        service.stop()
        try await service.run()
        #expect(service.status.router.recordsConsumed == 0, "a stop that raced start-up must not be lost")
        try await service.run()
        #expect(service.status.router.recordsConsumed == 0, "a stop is final for its service")

        let fresh = PipelineService(
            ObservedFixture.memoryPipeline(readings.map(\.json), name: "stop-before-run"), configuration: configuration,
            logger: ObservedFixture.silentLogger)
        try await fresh.run()
        #expect(fresh.status.router.recordsConsumed == UInt64(readings.count))
    }
}
