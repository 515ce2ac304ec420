import Foundation
public import Sluice

/// Kills a pipeline process again and again and restarts it, so a test can check
/// afterwards that its output holds every expected result exactly once.
///
/// A run of the harness:
/// 1. ``Configuration/randomKills`` times: start the pipeline, let it run for a
///    random time within ``Configuration/killAfter``, kill it with SIGKILL.
/// 2. Once for each of ``Configuration/crashPoints``: start it with
///    `SLUICE_CRASH_POINT` set, so it kills itself at that point of the checkpoint
///    protocol, and wait for it to die.
/// 3. Start it one last time and wait for it to exit 0 (the pipeline should be
///    configured to stop at the end of its input).
///
/// ``Configuration/beforeRun`` runs before every start, for example to add input
/// or to inject a broker fault. Compare the output with the expected result
/// afterwards, e.g. with ``KafkaTopicReader`` and ``ExactlyOnceReport``.
public struct CrashRecoveryHarness: Sendable {
    /// What to run and how to torment it.
    public struct Configuration: Sendable {
        /// The pipeline executable.
        public var executable: String
        /// Its arguments.
        public var arguments: [String]
        /// Extra environment variables.
        public var environment: [String: String] = [:]
        /// How many random SIGKILLs. Default 10.
        public var randomKills = 10
        /// How long a run lives before its random kill. Default 0.2 to 2 seconds.
        public var killAfter: ClosedRange<Duration> = .milliseconds(200)...(.seconds(2))
        /// Crash points to die at once each. Default: all of them.
        public var crashPoints: [CrashPoint] = CrashPoint.allCases
        /// How long a crash-point run may take to reach its point. Default 60 seconds.
        public var crashPointTimeout: Duration = .seconds(60)
        /// How long the final run may take. Default 120 seconds.
        public var finalRunTimeout: Duration = .seconds(120)
        /// Arguments added to the final run only (for example a flag to stop at the end of input).
        public var finalRunExtraArguments: [String] = []
        /// Seed for the kill times, so a failing run can be repeated.
        public var seed: UInt64 = 42
        /// Where the children's output goes; a temporary file by default.
        public var logPath: String = NSTemporaryDirectory() + "sluice-crash-\(UUID().uuidString).log"
        /// Runs before each start with the run's index and kind.
        public var beforeRun: (@Sendable (Int, RunKind) async throws -> Void)?

        /// Creates a configuration for `executable` with `arguments`.
        public init(executable: String, arguments: [String]) {
            self.executable = executable
            self.arguments = arguments
        }
    }

    /// The kind of a run.
    public enum RunKind: Sendable, Equatable {
        /// Killed with SIGKILL after a random time.
        case randomKill
        /// Dies at a crash point.
        case crashPoint(CrashPoint)
        /// Runs to completion.
        case final
    }

    /// What happened.
    public struct Report: Sendable, CustomStringConvertible {
        /// Runs killed by the harness while they were still running.
        public var killedWhileRunning = 0
        /// Runs that had already exited when their kill time came (with their status).
        public var exitedBeforeKill: [ChildProcess.Termination] = []
        /// For each crash point, how the run ended.
        public var crashPointOutcomes: [CrashPoint: ChildProcess.Termination] = [:]
        /// Crash points whose run was still going at ``Configuration/crashPointTimeout`` and
        /// was killed by the harness: the point was not reached (its SIGKILL is the harness's).
        public var crashPointsTimedOut: [CrashPoint] = []
        /// How the final run ended (`nil` if it timed out and was killed).
        public var finalTermination: ChildProcess.Termination?
        /// The children's log.
        public var logPath = ""

        /// An empty report (the harness fills one in as it runs).
        public init() {}

        /// Crash points at which the process really died by SIGKILL, its own.
        public var crashPointsReached: [CrashPoint] {
            crashPointOutcomes.filter { $0.value.wasKilled && !crashPointsTimedOut.contains($0.key) }.map(\.key)
                .sorted { $0.rawValue < $1.rawValue }
        }

        public var description: String {
            "killed=\(killedWhileRunning) exitedBeforeKill=\(exitedBeforeKill) crashPoints=\(crashPointOutcomes.mapValues(\.description)) timedOut=\(crashPointsTimedOut.map(\.rawValue)) final=\(finalTermination.map(\.description) ?? "timed out") log=\(logPath)"
        }
    }

    /// The configuration.
    public let configuration: Configuration

    /// Creates a harness.
    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs the kills, the crash points and the final run; see the type's documentation.
    public func run() async throws -> Report {
        var report = Report()
        report.logPath = configuration.logPath
        var random = SplitMix64(seed: configuration.seed)
        var index = 0
        let low = configuration.killAfter.lowerBound.wholeMilliseconds
        let high = configuration.killAfter.upperBound.wholeMilliseconds

        for _ in 0..<configuration.randomKills {
            try await configuration.beforeRun?(index, .randomKill)
            let child = try start(index: index, kind: .randomKill, extraEnvironment: [:], extraArguments: [])
            let lifetime = Duration.milliseconds(low + Int64(random.next() % UInt64(max(1, high - low + 1))))
            if let early = await child.wait(timeout: lifetime) {
                report.exitedBeforeKill.append(early)
            } else {
                child.kill(SIGKILL)
                // It may have ended by itself between the timer and the kill: count what it did.
                let termination = await child.wait()
                if termination.wasKilled {
                    report.killedWhileRunning += 1
                } else {
                    report.exitedBeforeKill.append(termination)
                }
            }
            index += 1
        }

        for point in configuration.crashPoints {
            try await configuration.beforeRun?(index, .crashPoint(point))
            let child = try start(
                index: index, kind: .crashPoint(point), extraEnvironment: ["SLUICE_CRASH_POINT": point.rawValue], extraArguments: [])
            if let termination = await child.wait(timeout: configuration.crashPointTimeout) {
                report.crashPointOutcomes[point] = termination
            } else {
                child.kill(SIGKILL)
                report.crashPointOutcomes[point] = await child.wait()
                report.crashPointsTimedOut.append(point)
            }
            index += 1
        }

        try await configuration.beforeRun?(index, .final)
        let final = try start(index: index, kind: .final, extraEnvironment: [:], extraArguments: configuration.finalRunExtraArguments)
        if let termination = await final.wait(timeout: configuration.finalRunTimeout) {
            report.finalTermination = termination
        } else {
            final.kill(SIGKILL)
            _ = await final.wait()
        }
        return report
    }

    private func start(index: Int, kind: RunKind, extraEnvironment: [String: String], extraArguments: [String]) throws -> ChildProcess {
        let banner = "\n===== run \(index): \(kind) =====\n"
        if let handle = FileHandle(forWritingAtPath: configuration.logPath) {
            handle.seekToEndOfFile()
            handle.write(Data(banner.utf8))
            try? handle.close()
        } else {
            _ = FileManager.default.createFile(atPath: configuration.logPath, contents: Data(banner.utf8))
        }
        var environment = configuration.environment
        environment.merge(extraEnvironment) { $1 }
        if case .crashPoint = kind {} else { environment["SLUICE_CRASH_POINT"] = "" }
        return try ChildProcess(
            executable: configuration.executable, arguments: configuration.arguments + extraArguments, environment: environment,
            logPath: configuration.logPath)
    }
}

/// A small, seedable pseudo-random generator (SplitMix64): the same seed gives the same
/// sequence on every machine, so a test scenario (or the harness's kill schedule) can be
/// replayed from the seed a failure reports.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Starts the sequence for `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next value of the sequence.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
