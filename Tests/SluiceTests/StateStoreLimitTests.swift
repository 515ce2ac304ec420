import Sluice
import Testing

/// `PipelineConfiguration.stateStoreMaximumBytes`: how large the checkpoint store may grow.
@Suite("State store size limit")
struct StateStoreLimitTests {
    /// 30,000 sensors with a window each still open: about 3 MiB of state and timers.
    static let readings = ObservedFixture.memoryReadings(count: 30_000, sensors: 30_000)

    static func configuration(_ directory: String) -> PipelineConfiguration {
        var configuration = ObservedFixture.memoryConfiguration(directory)
        configuration.checkpointInterval = .milliseconds(100)
        return configuration
    }

    @Test("a checkpoint that would grow the store past the limit stops the run with an error naming the setting")
    func checkpointPastTheLimitFails() async throws {
        let scratch = EngineScratchDirectory()
        var configuration = Self.configuration(scratch.path)
        configuration.stateStoreMaximumBytes = 1 << 20
        let service = ObservedFixture.memoryService(Self.readings.map(\.json), name: "store-limit", configuration: configuration)
        let error = await #expect(throws: SluiceError.self) { try await service.run() }
        #expect(error?.code == .checkpointFailure)
        #expect(error?.message.contains("stateStoreMaximumBytes (1048576 bytes)") == true, "\(error?.message ?? "")")
    }

    @Test("the same input fits under the default limit")
    func sameInputFitsByDefault() async throws {
        let scratch = EngineScratchDirectory()
        let service = ObservedFixture.memoryService(
            Self.readings.map(\.json), name: "store-limit", configuration: Self.configuration(scratch.path))
        try await service.run()
        #expect(service.status.router.recordsConsumed == UInt64(Self.readings.count))
    }

    @Test("a limit under 1 MiB is refused before anything starts")
    func tinyLimitIsRefused() {
        var configuration = PipelineConfiguration(stateDirectory: "/unused")
        configuration.stateStoreMaximumBytes = 4096
        let error = #expect(throws: SluiceError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("stateStoreMaximumBytes") == true)
    }
}
