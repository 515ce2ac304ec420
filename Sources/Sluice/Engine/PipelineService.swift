public import Logging
public import ServiceLifecycle
import Synchronization

/// Runs a pipeline as a swift-service-lifecycle `Service`.
///
/// `run()` recovers from the last checkpoint and processes until the task is
/// cancelled or graceful shutdown is triggered (for example by SIGTERM through a
/// `ServiceGroup`); then it stops polling, takes a final checkpoint, publishes
/// the outbox and returns. With ``PipelineConfiguration/stopsAtEndOfInput`` it
/// returns by itself once the input present at start is processed.
public final class PipelineService<Processor: KeyedProcessor>: Service, Sendable {
    private let definition: PipelineDefinition<Processor>
    private let configuration: PipelineConfiguration
    private let logger: Logger
    private let clock: any WallClock
    private let control = RunControl()

    /// Creates a service for `pipeline`.
    public init(
        _ pipeline: PipelineDefinition<Processor>, configuration: PipelineConfiguration, logger: Logger,
        clock: any WallClock = SystemWallClock()
    ) {
        self.definition = pipeline
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    /// The pipeline's progress, updated as it runs.
    public var status: PipelineStatus { control.status.withLock { $0 } }

    /// Asks the pipeline to stop after its current batch, checkpoint and publish.
    public func stop() {
        control.requestStop()
    }

    /// Runs until stopped; see the type's documentation.
    public func run() async throws {
        let runner = PipelineRunner<Processor>(
            definition: definition, configuration: configuration, logger: logger, clock: clock, control: control)
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await runner.run()
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }
}
