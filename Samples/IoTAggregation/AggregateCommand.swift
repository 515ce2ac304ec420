import ArgumentParser
import Logging
import ServiceLifecycle
import Sluice
import SluiceKafka

/// `iot aggregate`: the pipeline. Sums each sensor's readings per tumbling window, exactly once.
struct AggregateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Sum each sensor's readings per tumbling event-time window and publish the sums.",
        discussion: """
            Results are JSON {"id":17,"window_start":1700000000,"window_end":1700000010,"sum":412,"count":10}, \
            keyed by the sensor id. SIGTERM or Ctrl-C stop cleanly: a final checkpoint, then every result is \
            published. Exit codes: 0 done, 64 bad flags, 69 Kafka unreachable, 75 state directory in use, 1 other failures.
            """)

    /// The missing-state policy, as a flag value.
    enum MissingState: String, ExpressibleByArgument, CaseIterable {
        case fail
        case rebuild
        case acceptLoss = "accept-loss"

        var policy: PipelineConfiguration.MissingStatePolicy {
            switch self {
            case .fail: .fail
            case .rebuild: .rebuildFromEarliest
            case .acceptLoss: .acceptLoss
            }
        }
    }

    /// The delivery guarantee, as a flag value.
    enum Guarantee: String, ExpressibleByArgument, CaseIterable {
        case exactlyOnce = "exactly-once"
        case atLeastOnce = "at-least-once"

        var pipelineValue: PipelineConfiguration.DeliveryGuarantee {
            switch self {
            case .exactlyOnce: .exactlyOnce
            case .atLeastOnce: .atLeastOnce
            }
        }
    }

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The topic of sensor readings.")
    var input = "sensors"

    @Option(help: "The topic for window sums.")
    var output = "sums"

    @Option(help: ArgumentHelp("Tumbling window size (default: 10s).", valueName: "duration"), transform: { try DurationParser.parse($0) })
    var window: Duration = .seconds(10)

    @Option(help: ArgumentHelp("Directory of the checkpoint store (created if missing); one process per directory.", valueName: "dir"))
    var stateDir: String

    @Option(help: ArgumentHelp("How often to checkpoint (default: 1s).", valueName: "duration"), transform: { try DurationParser.parse($0) })
    var checkpointInterval: Duration = .seconds(1)

    @Option(help: ArgumentHelp("How far the watermark stays behind the newest reading (default: 1s).", valueName: "duration"),
            transform: { try DurationParser.parse($0) })
    var outOfOrderness: Duration = .seconds(1)

    @Option(help: ArgumentHelp("After how long without readings a partition stops holding the watermark back (default: 5s).", valueName: "duration"),
            transform: { try DurationParser.parse($0) })
    var idleTimeout: Duration = .seconds(5)

    @Option(help: ArgumentHelp("How long after its end a window still accepts readings (default: 0s).", valueName: "duration"),
            transform: { try DurationParser.parse($0) })
    var allowedLateness: Duration = .zero

    @Option(help: "exactly-once, or at-least-once (results sooner, duplicates possible after a crash).")
    var guarantee: Guarantee = .exactlyOnce

    @Option(
        help: ArgumentHelp(
            "When the consumer group has progress but the state directory has none: fail, rebuild (reprocess from the earliest offset), or accept-loss (continue from the group's offset).",
            valueName: "policy"))
    var missingState: MissingState = .fail

    @Flag(help: "Share the input's partitions with other members of the consumer group (cooperative-sticky) instead of reading them all.")
    var consumerGroup = false

    @Option(help: ArgumentHelp("Topic for malformed readings (default <application-id>-dead-letters).", valueName: "topic"))
    var deadLetter: String?

    @Option(help: ArgumentHelp("Topic for readings that arrive after their window closed (default <application-id>-late).", valueName: "topic"))
    var late: String?

    @Option(help: "Application id: the consumer group and the name in output headers.")
    var applicationID = "iot-aggregate"

    @Option(help: ArgumentHelp("Serve Prometheus /metrics and /health on this port (0 picks a free one).", valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("Address the metrics server binds.", valueName: "ipv4"))
    var metricsHost = "127.0.0.1"

    @Flag(help: "Process the input present at start, publish every result and exit 0.")
    var exitAtEnd = false

    @Option(help: ArgumentHelp("How long to wait for a broker at start (default: 10s).", valueName: "duration"), transform: { try DurationParser.parse($0) })
    var connectTimeout: Duration = .seconds(10)

    @OptionGroup var log: LogOptions

    func validate() throws {
        if window < .milliseconds(1) { throw ValidationError("--window must be at least 1ms") }
        if checkpointInterval < .milliseconds(10) { throw ValidationError("--checkpoint-interval must be at least 10ms") }
        if stateDir.isEmpty { throw ValidationError("--state-dir must name a directory") }
        if applicationID.isEmpty { throw ValidationError("--application-id must not be empty") }
        if let metricsPort, !(0...65_535).contains(metricsPort) {
            throw ValidationError("--metrics-port must lie between 0 and 65535")
        }
    }

    func run() async throws {
        let logger = log.makeLogger(label: "iot.aggregate")
        do {
            try await aggregate(logger: logger)
        } catch {
            throw CommandFailure(error, brokers: kafka.description).report(command: "aggregate")
        }
    }

    private func aggregate(logger: Logger) async throws {
        try await checkInput(logger: logger)
        let definition = IoTPipeline.definition(
            .init(
                applicationID: applicationID, input: input, output: output, late: late, deadLetters: deadLetter,
                window: window, outOfOrderness: outOfOrderness, idleTimeout: idleTimeout, allowedLateness: allowedLateness,
                assignment: consumerGroup ? .consumerGroup(.cooperativeSticky) : .allPartitions))
        var configuration = PipelineConfiguration(stateDirectory: stateDir, kafka: kafka.configuration(clientID: applicationID))
        configuration.checkpointInterval = checkpointInterval
        configuration.guarantee = guarantee.pipelineValue
        configuration.stopsAtEndOfInput = exitAtEnd
        configuration.missingState = missingState.policy
        try configuration.validate()

        let service = PipelineService(definition, configuration: configuration, logger: logger)
        let health = HealthCheck(checkpointInterval: checkpointInterval) { service.status }
        if let metricsPort {
            try MetricsEndpoint.start(host: metricsHost, port: metricsPort, health: health)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            health.recordFailure("\(error)")
            throw error
        }
        let status = service.status
        Console.line(
            "aggregate: consumed=\(status.router.recordsConsumed) results=\(status.router.resultsEmitted) "
                + "late=\(status.router.lateRecords) dead_letters=\(status.router.deadLettered) "
                + "published=\(status.recordsPublished) checkpoint=\(status.lastCheckpointID)")
    }

    /// Fails fast, with a clear message, when no broker answers or the input topic is missing.
    private func checkInput(logger: Logger) async throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: kafka.bootstrapServers)
        configuration.common = kafka.configuration(clientID: applicationID)
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        do {
            _ = try await consumer.partitionCount(topic: input, timeout: connectTimeout)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }
}
