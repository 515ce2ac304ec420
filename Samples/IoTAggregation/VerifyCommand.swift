import ArgumentParser
import Logging

/// `iot verify`: checks the exactly-once claim from the outside, on any cluster.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every (sensor, window) sum appears exactly once with the right sum and count.",
        discussion: """
            Reads the input and output topics up to their ends at start, recomputes every window's sum and count \
            from the valid readings and compares. Use the same --window as aggregate, after it has finished \
            (for example with --exit-at-end). Readings that arrived too late for their window count as expected \
            results too, so run without lateness (jitter below --out-of-orderness). Exit 0 when everything matches, 1 otherwise.
            """)

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The topic of sensor readings.")
    var input = "sensors"

    @Option(help: "The topic of window sums.")
    var output = "sums"

    @Option(help: ArgumentHelp("Tumbling window size, as given to aggregate (default: 10s).", valueName: "duration"),
            transform: { try DurationParser.parse($0) })
    var window: Duration = .seconds(10)

    @Option(help: ArgumentHelp("How long reading each topic may take (default: 60s).", valueName: "duration"), transform: { try DurationParser.parse($0) })
    var timeout: Duration = .seconds(60)

    @Option(help: "How many problems to list.")
    var show = 10

    @OptionGroup var log: LogOptions

    func validate() throws {
        if window < .milliseconds(1) { throw ValidationError("--window must be at least 1ms") }
        if show < 0 { throw ValidationError("--show must be 0 or more") }
    }

    func run() async throws {
        let logger = log.makeLogger(label: "iot.verify")
        let report: Verification.Report
        do {
            report = try await verify(logger: logger)
        } catch {
            throw CommandFailure(error, brokers: kafka.description).report(command: "verify")
        }
        for example in report.examples.prefix(show) { Console.line("  \(example)") }
        if report.examples.count > show { Console.line("  … and \(report.examples.count - show) more") }
        Console.line(report.summary)
        if !report.isOK { throw ExitCode.failure }
    }

    private func verify(logger: Logger) async throws -> Verification.Report {
        let reader = TopicReader(
            kafka: kafka.configuration(clientID: "iot-verify"), requestTimeout: .seconds(10), deadline: timeout, logger: logger)
        var verification = Verification(window: window)
        let inputCount = try await reader.read(topic: input) { verification.addInput($0.value) }
        let outputCount = try await reader.read(topic: output) { verification.addOutput($0.value) }
        Console.line(
            "verify: read \(inputCount) records from \(input) (\(verification.malformedInput) malformed) "
                + "and \(outputCount) from \(output)")
        return verification.report()
    }
}
