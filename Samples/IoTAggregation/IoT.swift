import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The `iot` sample: simulated sensors, a windowed-sum pipeline, a verifier and a demo.
///
/// Each subcommand lives in its own file; `iot help <subcommand>` lists its flags.
@main
struct IoT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iot",
        abstract: "Sluice's IoT sample: sensors emit readings, a pipeline sums each sensor's values per window.",
        discussion: """
            Try `iot demo` first: it needs no broker. Against Kafka, run `iot sensors`, `iot aggregate` \
            and `iot verify` with the same --brokers.
            """,
        subcommands: [SensorsCommand.self, AggregateCommand.self, VerifyCommand.self, DemoCommand.self]
    )

    /// Ignores SIGPIPE (a scraper hanging up on /metrics must not kill the pipeline), then runs.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
