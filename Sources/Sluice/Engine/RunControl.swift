import Synchronization

/// State shared between a running pipeline and the code that watches or stops it.
final class RunControl: Sendable {
    let status = Mutex(PipelineStatus())
    /// Whether a ``PipelineService/run()`` of this service is under way.
    let isRunning = Mutex(false)
    /// Raised by ``requestStop()``; never lowered.
    let stop = StopSignal()

    var isStopRequested: Bool { stop.isRaised }

    func requestStop() { stop.raise() }
}
