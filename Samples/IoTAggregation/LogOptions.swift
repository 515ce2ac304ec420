import ArgumentParser
import Logging

/// The `--log-level` flag and the logging set-up: swift-log's stream handler on standard error,
/// so standard output stays free for results.
struct LogOptions: ParsableArguments {
    /// The lowest level logged.
    @Option(
        name: .long, help: "Lowest log level: trace, debug, info, notice, warning, error or critical (default: info).",
        transform: { text in
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError("use trace, debug, info, notice, warning, error or critical")
            }
            return level
        })
    var logLevel: Logger.Level = .info

    /// Bootstraps logging (once per process) and returns a logger called `label`.
    func makeLogger(label: String) -> Logger {
        Self.makeLogger(label: label, level: logLevel)
    }

    /// Bootstraps logging at `level` (once per process) and returns a logger called `label`.
    static func makeLogger(label: String, level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
