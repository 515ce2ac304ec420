import Foundation
import Synchronization

/// `sluice-broker` (librdkafka's mock cluster in its own process) started for a test.
///
/// Faults are injected through the broker's control channel on its standard
/// input, for example `down 1`, `up 1`, `rtt 1 500ms`.
public final class DevBrokerProcess: Sendable {
    private let process: Process
    private let input: FileHandle
    private let lines: LineBuffer
    /// One command at a time: each answer belongs to the command before it.
    private let commands = CommandLane()
    /// The bootstrap address other clients connect to.
    public let bootstrapServers: [String]

    /// Starts the broker with `topics` (name and partition count) and waits for its bootstrap address.
    ///
    /// Sets SIGPIPE to be ignored in this process, so that a command written after the broker
    /// exited throws (EPIPE) instead of ending the process.
    public init(executable: String, topics: [(name: String, partitions: Int)], brokers: Int = 1, timeout: Duration = .seconds(30)) async throws {
        // A command written after the broker exited must throw (EPIPE), not end this process.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // The broker stops when this process's end of its stdin closes: also when this process dies.
        process.arguments = ["--brokers", String(brokers), "--exit-at-end-of-input"]
            + topics.flatMap { ["--topic", "\($0.name):\($0.partitions)"] }
        let stdout = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = FileHandle.standardError
        let lines = LineBuffer()
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                lines.finish()
            } else {
                lines.append(data)
            }
        }
        try process.run()
        self.process = process
        self.input = stdin.fileHandleForWriting
        self.lines = lines
        guard let first = await lines.nextLine(timeout: timeout), first.hasPrefix("bootstrap=") else {
            process.terminate()
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "sluice-broker did not print its bootstrap address"])
        }
        bootstrapServers = String(first.dropFirst("bootstrap=".count)).split(separator: ",").map(String.init)
    }

    /// Sends one control command and returns the broker's answer line (`ok` or `error: …`).
    ///
    /// Commands from several tasks run one after another. The answer to a command that timed
    /// out is skipped when it arrives, so it is never taken for a later command's.
    @discardableResult
    public func control(_ command: String, timeout: Duration = .seconds(10)) async throws -> String {
        await commands.acquire()
        defer { commands.release() }
        while commands.unansweredCount > 0 {
            guard await lines.nextLine(timeout: timeout) != nil else {
                throw CocoaError(
                    .fileReadUnknown,
                    userInfo: [NSLocalizedDescriptionKey: "sluice-broker has not answered an earlier command; not sending '\(command)'"])
            }
            commands.unansweredCount -= 1
        }
        try input.write(contentsOf: Data((command + "\n").utf8))
        guard let answer = await lines.nextLine(timeout: timeout) else {
            commands.unansweredCount += 1
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "sluice-broker did not answer '\(command)'"])
        }
        return answer
    }

    /// Stops the broker with SIGTERM and waits for it.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Lets one control command at a time talk to the broker, and counts commands whose answer
/// has not been read (see ``DevBrokerProcess/control(_:timeout:)``).
private final class CommandLane: Sendable {
    private struct State {
        var isBusy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var unanswered = 0
    }

    private let state = Mutex(State())

    /// Commands sent whose answer was not read; only touched by the holder of the lane.
    var unansweredCount: Int {
        get { state.withLock { $0.unanswered } }
        set { state.withLock { $0.unanswered = newValue } }
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isFree = state.withLock { state in
                if !state.isBusy {
                    state.isBusy = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if isFree { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.isBusy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// Lines of a child's standard output, delivered in order.
private final class LineBuffer: Sendable {
    private struct State {
        var pending = Data()
        var lines: [String] = []
        var waiter: CheckedContinuation<String?, Never>?
        var isFinished = false
    }

    private let state = Mutex(State())

    func append(_ data: Data) {
        let resume: (CheckedContinuation<String?, Never>, String)? = state.withLock { state in
            state.pending.append(data)
            while let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: state.pending[state.pending.startIndex..<newline], as: UTF8.self)
                state.pending.removeSubrange(state.pending.startIndex...newline)
                state.lines.append(line)
            }
            if let waiter = state.waiter, !state.lines.isEmpty {
                state.waiter = nil
                return (waiter, state.lines.removeFirst())
            }
            return nil
        }
        if let (waiter, line) = resume { waiter.resume(returning: line) }
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<String?, Never>? in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    func nextLine(timeout: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask { await self.nextLine() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.cancelWaiter()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func nextLine() async -> String? {
        await withCheckedContinuation { continuation in
            let ready: String?? = state.withLock { state in
                if !state.lines.isEmpty { return .some(state.lines.removeFirst()) }
                if state.isFinished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func cancelWaiter() {
        let waiter = state.withLock { state -> CheckedContinuation<String?, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
