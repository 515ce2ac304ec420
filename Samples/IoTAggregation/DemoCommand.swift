import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Sluice
import SluiceKafka

/// `iot demo`: everything in one process — an embedded broker, sensors, the pipeline and a live table.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run an embedded broker, simulated sensors and the pipeline, with a live table of window sums.",
        discussion: """
            Needs no set-up. Readings carry wall-clock time with some jitter, so a few arrive too late for their \
            window, and now and then one is malformed: watch the late and dead-letter lines. Ctrl-C stops cleanly \
            (final checkpoint, every result published).
            """)

    @Option(help: ArgumentHelp("Stop by itself after this long (for example 30 or 30s).", valueName: "seconds"),
            transform: { try DurationParser.parse($0, bareNumbersAreSeconds: true) })
    var duration: Duration?

    @Option(help: "The number of sensors.")
    var sensors = 50

    @Option(help: "Readings per second in total.")
    var rate = 2_000

    @Option(help: ArgumentHelp("Tumbling window size (default: 2s).", valueName: "duration"), transform: { try DurationParser.parse($0) })
    var window: Duration = .seconds(2)

    @Option(help: ArgumentHelp("Serve Prometheus /metrics and /health on this port (0 picks a free one).", valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("Address the metrics server binds.", valueName: "ipv4"))
    var metricsHost = "127.0.0.1"

    @Flag(help: "Log at info level (default: warnings only, to keep the table readable).")
    var verbose = false

    func validate() throws {
        if sensors < 1 { throw ValidationError("--sensors must be at least 1") }
        if rate < 1 { throw ValidationError("--rate must be at least 1") }
        if window < .milliseconds(100) { throw ValidationError("--window must be at least 100ms") }
        if let duration, duration <= .zero { throw ValidationError("--duration must be positive") }
        if let metricsPort, !(0...65_535).contains(metricsPort) {
            throw ValidationError("--metrics-port must lie between 0 and 65535")
        }
    }

    func run() async throws {
        let logger = LogOptions.makeLogger(label: "iot.demo", level: verbose ? .info : .warning)
        let stateDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("iot-demo-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        do {
            try await demo(stateDirectory: stateDirectory, logger: logger)
        } catch {
            throw CommandFailure(error, brokers: "the embedded broker").report(command: "demo")
        }
    }

    private func demo(stateDirectory: String, logger: Logger) async throws {
        let names = (input: "sensors", output: "sums", late: "iot-demo-late", deadLetters: "iot-demo-dead-letters")
        let cluster = try KafkaMockCluster(logger: logger)
        defer { cluster.close() }
        try cluster.createTopic(names.input, partitions: 4)
        try cluster.createTopic(names.output, partitions: 2)
        try cluster.createTopic(names.late, partitions: 1)
        try cluster.createTopic(names.deadLetters, partitions: 1)
        var kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        kafka.clientID = "iot-demo"

        let definition = IoTPipeline.definition(
            .init(
                applicationID: "iot-demo", input: names.input, output: names.output, late: names.late,
                deadLetters: names.deadLetters, window: window, outOfOrderness: .milliseconds(500),
                idleTimeout: .seconds(2), allowedLateness: .zero))
        var configuration = PipelineConfiguration(stateDirectory: stateDirectory, kafka: kafka)
        configuration.checkpointInterval = .seconds(1)
        let pipeline = PipelineService(definition, configuration: configuration, logger: logger)
        if let metricsPort {
            let health = HealthCheck(checkpointInterval: configuration.checkpointInterval) { pipeline.status }
            try MetricsEndpoint.start(host: metricsHost, port: metricsPort, health: health)
        }

        let simulator = SensorSimulator(sensors: sensors, clock: .wall, jitter: 0.6, malformedEvery: 4_999)
        let producer = try SensorProducer(
            kafka: kafka, topic: names.input, simulator: simulator, count: nil, rate: rate, logger: logger)
        let board = DemoBoard()
        let follower = SumsFollower(kafka: kafka, topic: names.output, board: board, logger: logger)
        let dashboard = Dashboard(
            settings: .init(
                sensors: sensors, rate: rate, window: window, lateTopic: names.late, deadLetterTopic: names.deadLetters),
            status: { pipeline.status }, board: board, isTerminal: Console.isTerminal)

        // Graceful shutdown runs in reverse order: sensors stop first, then the pipeline takes its
        // final checkpoint and publishes, then the table and the follower stop.
        let services: [any Service] = [follower, dashboard, pipeline, producer]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            if let duration {
                tasks.addTask {
                    try await Task.sleep(for: duration)
                    await group.triggerGracefulShutdown()
                }
            }
            // Until the group has shut down gracefully (after a signal or the timer above, which
            // only starts the shutdown); cancelling it instead would skip the final publish.
            try await group.run()
            tasks.cancelAll()
        }
        Console.line(dashboard.summary(uptime: ContinuousClock.now - started))
    }
}
