public import Logging
public import ServiceLifecycle
import Synchronization

/// Runs a pipeline as a swift-service-lifecycle `Service`.
///
/// `run()` recovers from the last checkpoint and processes until graceful shutdown
/// is triggered (for example by SIGTERM through a `ServiceGroup`) or ``stop()`` is
/// called; then it stops polling, takes a final checkpoint, publishes the outbox and
/// returns, within ``PipelineConfiguration/shutdownTimeout``. With
/// ``PipelineConfiguration/stopsAtEndOfInput`` it returns by itself once the input
/// present at start is processed.
///
/// Cancelling the task that runs it stops it without waiting for the producer: it
/// throws `CancellationError`, and whatever was not published stays in the checkpoint's
/// outbox, or is computed again from the input, for the next run to publish.
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
    ///
    /// A stop is final, as `KafkaStreams.close()` is: one requested before ``run()`` begins
    /// (a signal that races start-up) is not lost, and a later ``run()`` of this service stops
    /// as soon as it has recovered and published what the last checkpoint held. To run the
    /// pipeline again, make a new service.
    public func stop() {
        control.requestStop()
    }

    /// Runs until stopped; see the type's documentation.
    ///
    /// - Throws: ``SluiceError`` `.invalidConfiguration` at once when another `run()` of this
    ///   service is under way (one service runs one pipeline; its status is shared).
    public func run() async throws {
        let isFirst = control.isRunning.withLock { isRunning in
            defer { isRunning = true }
            return !isRunning
        }
        guard isFirst else {
            throw SluiceError(
                .invalidConfiguration,
                "pipeline '\(definition.name)' is already running in this service: a PipelineService runs one pipeline at a time")
        }
        defer { control.isRunning.withLock { $0 = false } }
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
