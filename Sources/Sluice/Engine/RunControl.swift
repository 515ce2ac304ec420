import Synchronization

/// State shared between a running pipeline and the code that watches or stops it.
final class RunControl: Sendable {
    let status = Mutex(PipelineStatus())
    private let stopFlag = Atomic<Bool>(false)

    var isStopRequested: Bool { stopFlag.load(ordering: .acquiring) }

    func requestStop() { stopFlag.store(true, ordering: .releasing) }
}
