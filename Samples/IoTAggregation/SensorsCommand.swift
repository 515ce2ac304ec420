import ArgumentParser
import Logging
import ServiceLifecycle

/// `iot sensors`: simulated sensors writing readings to a topic.
struct SensorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "Simulate sensors: write JSON readings {\"id\":17,\"time\":1700000000.25,\"value\":7} keyed by sensor id.",
        discussion: """
            Reading i comes from sensor i % --sensors. With --start-time, event time is synthetic and replayable: \
            start + (i / sensors) * --time-step; otherwise it is the wall clock. Without --count it runs until \
            SIGTERM or Ctrl-C. At the end it waits for every record to be acknowledged and prints the counts.
            """)

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The topic to write to.")
    var topic = "sensors"

    @Option(help: "The number of sensors.")
    var sensors = 1_000

    @Option(help: "Readings per second in total; 0 sends as fast as possible.")
    var rate = 1_000

    @Option(help: "How many readings to send; runs until stopped when absent.")
    var count: Int?

    @Option(help: ArgumentHelp("Synthetic event time of the first readings, seconds since the epoch.", valueName: "seconds"))
    var startTime: Double?

    @Option(help: ArgumentHelp("Synthetic event time between one sensor's readings.", valueName: "seconds"))
    var timeStep: Double = 1

    @Option(help: ArgumentHelp("Move each reading's time back by a random amount up to this (disorder).", valueName: "seconds"))
    var jitter: Double = 0

    @Option(help: "Seed for values and jitter; the same seed gives the same readings.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Make every Nth record malformed (not JSON), to exercise dead letters.", valueName: "n"))
    var malformedEvery: Int = 0

    @Option(help: ArgumentHelp("How long to wait for a broker at start (default: 10s).", valueName: "duration"), transform: { try DurationParser.parse($0) })
    var connectTimeout: Duration = .seconds(10)

    @OptionGroup var log: LogOptions

    func validate() throws {
        if sensors < 1 { throw ValidationError("--sensors must be at least 1") }
        if rate < 0 { throw ValidationError("--rate must not be negative") }
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        if !(timeStep > 0) || !timeStep.isFinite { throw ValidationError("--time-step must be a positive number of seconds") }
        if !(jitter >= 0) || !jitter.isFinite { throw ValidationError("--jitter must be a non-negative number of seconds") }
        if malformedEvery < 0 { throw ValidationError("--malformed-every must not be negative") }
    }

    func run() async throws {
        let logger = log.makeLogger(label: "iot.sensors")
        do {
            try await produce(logger: logger)
        } catch {
            throw CommandFailure(error, brokers: kafka.description).report(command: "sensors")
        }
    }

    private func produce(logger: Logger) async throws {
        let simulator = SensorSimulator(
            sensors: sensors, clock: startTime.map { .synthetic(start: $0, step: timeStep) } ?? .wall, jitter: jitter,
            malformedEvery: malformedEvery, seed: seed)
        let producer = try SensorProducer(
            kafka: kafka.configuration(clientID: "iot-sensors"), topic: topic, simulator: simulator, count: count, rate: rate,
            logger: logger)
        _ = try await producer.checkTopic(timeout: connectTimeout)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: producer, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let progress = producer.progress
        Console.line("sensors: sent=\(progress.sent) acknowledged=\(progress.acknowledged) failed=\(progress.failed)")
        if let failure = producer.firstFailure {
            throw CommandFailure("\(progress.failed) readings were not delivered; the first failed with: \(failure.message)")
        }
        if progress.acknowledged < progress.sent {
            throw CommandFailure("\(progress.sent - progress.acknowledged) readings were not acknowledged")
        }
    }
}
