public import Foundation
import Synchronization

/// A child process for multi-process tests: started, watched, killed, awaited.
public final class ChildProcess: Sendable {
    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)

        /// Whether it exited with status 0.
        public var isSuccess: Bool { self == .exited(0) }
        /// Whether SIGKILL ended it.
        public var wasKilled: Bool { self == .signaled(SIGKILL) }

        public var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "ended by signal \(signal)"
            }
        }
    }

    private let process: Process
    private let ended: ExitState
    /// The path standard output and standard error are written to.
    public let logPath: String

    /// Starts `executable` with `arguments`; its output goes to `logPath` (appended).
    public init(executable: String, arguments: [String], environment: [String: String] = [:], logPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        process.environment = merged
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let ended = ExitState()
        process.terminationHandler = { finished in
            let termination: Termination =
                finished.terminationReason == .uncaughtSignal
                ? .signaled(finished.terminationStatus) : .exited(finished.terminationStatus)
            let (waiters, timedWaiters) = ended.state.withLock { state in
                state.termination = termination
                defer {
                    state.waiters.removeAll()
                    state.timedWaiters.removeAll()
                }
                return (state.waiters, Array(state.timedWaiters.values))
            }
            for waiter in waiters { waiter.resume(returning: termination) }
            for waiter in timedWaiters { waiter.resume(returning: termination) }
        }
        self.process = process
        self.ended = ended
        self.logPath = logPath
        try process.run()
    }

    /// The child's process id.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// How the child ended, or `nil` while it runs.
    public var termination: Termination? { ended.state.withLock { $0.termination } }

    /// Sends `signal` to the child (SIGKILL by default), and to its process group when it leads
    /// one (Foundation starts children in a group of their own): a child that is a wrapper
    /// (a shell script, `swift run`) then takes the processes it started along.
    public func kill(_ signal: Int32 = SIGKILL) {
        guard termination == nil else { return }
        let pid = process.processIdentifier
        if getpgid(pid) == pid { Foundation.kill(-pid, signal) }
        Foundation.kill(pid, signal)
    }

    /// Waits until the child ends.
    public func wait() async -> Termination {
        await withCheckedContinuation { continuation in
            let done = ended.state.withLock { state -> Termination? in
                if let termination = state.termination { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Waits until the child ends or `timeout` passes; `nil` on timeout.
    public func wait(timeout: Duration) async -> Termination? {
        let id = UUID()
        let ended = self.ended
        return await withCheckedContinuation { (continuation: CheckedContinuation<Termination?, Never>) in
            let done = ended.state.withLock { state -> Termination? in
                if let termination = state.termination { return termination }
                state.timedWaiters[id] = continuation
                return nil
            }
            if let done {
                continuation.resume(returning: done)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                if let expired = ended.state.withLock({ $0.timedWaiters.removeValue(forKey: id) }) {
                    expired.resume(returning: nil)
                }
            }
        }
    }

    /// The last lines of the child's log, for failure messages.
    public func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// How a child ended and who waits for it; shared with Foundation's termination handler.
private final class ExitState: Sendable {
    struct State {
        var termination: ChildProcess.Termination?
        var waiters: [CheckedContinuation<ChildProcess.Termination, Never>] = []
        var timedWaiters: [UUID: CheckedContinuation<ChildProcess.Termination?, Never>] = [:]
    }

    let state = Mutex(State())
}
