import ArgumentParser

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
}
