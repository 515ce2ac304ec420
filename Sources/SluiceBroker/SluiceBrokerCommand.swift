import ArgumentParser
import Dispatch
import Foundation
import Logging
import SluiceKafka

/// The `sluice-broker` command line; see `main.swift` for the full description.
struct SluiceBrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-broker",
        abstract: "Run librdkafka's mock Kafka cluster as a standalone broker for development and tests.",
        discussion: """
            Prints `bootstrap=HOST:PORT` as its first line of stdout. Reads control commands on stdin \
            (down N, up N, rtt N 500ms, errors APIKEY ERR..., clear APIKEY, topic NAME PARTITIONS, quit), \
            answering `ok` or `error: ...`. Stops cleanly on SIGTERM or SIGINT.
            """)

    @Option(help: "Number of brokers, numbered from 1.")
    var brokers: Int = 1

    @Option(name: .customLong("topic"), help: "A topic to create, as NAME:PARTITIONS. Repeatable.")
    var topics: [TopicSpec] = []

    @Option(help: "Serve a stable bootstrap address on 127.0.0.1:PORT (0 picks a free port).")
    var port: Int?

    @Option(help: "Write the bootstrap address to this file once ready.")
    var bootstrapFile: String?

    @Option(help: "Log level for stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Stop when standard input ends, as when the process that started the broker dies.")
    var exitAtEndOfInput = false

    func validate() throws {
        guard brokers >= 1 && brokers <= 16 else { throw ValidationError("--brokers must lie between 1 and 16") }
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must lie between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sluice.broker")

        let cluster = try KafkaMockCluster(brokers: brokers, logger: logger)
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: 1)
        }
        var forwarder: TCPForwarder?
        let bootstrap: String
        if let port {
            let started = try TCPForwarder(port: UInt16(port), upstreams: cluster.bootstrapServers, logger: logger)
            forwarder = started
            bootstrap = "127.0.0.1:\(started.port)"
        } else {
            bootstrap = cluster.bootstrapServers.joined(separator: ",")
        }
        let runtime = BrokerRuntime(cluster: cluster, forwarder: forwarder, bootstrapFile: bootstrapFile, logger: logger)

        guard emit("bootstrap=\(bootstrap)") else {
            logger.error("cannot write the bootstrap address to standard output; stopping")
            runtime.shutdown()
            return
        }
        if let bootstrapFile {
            try runtime.writeBootstrapFile(bootstrapFile, contents: bootstrap)
        }
        logger.info(
            "mock cluster ready",
            metadata: [
                "sluice.bootstrap": "\(bootstrap)", "sluice.brokers": "\(brokers)",
                "sluice.mock.addresses": "\(cluster.bootstrapServers.joined(separator: ","))",
            ])

        let signalSources = runtime.installSignalHandlers()
        runtime.startControlChannel(exitAtEndOfInput: exitAtEndOfInput)
        withExtendedLifetime(signalSources) { dispatchMain() }
    }
}

/// A `--topic NAME:PARTITIONS` argument.
struct TopicSpec: ExpressibleByArgument {
    var name: String
    var partitions: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), colon != argument.startIndex,
            let partitions = Int(argument[argument.index(after: colon)...]), partitions >= 1
        else { return nil }
        name = String(argument[..<colon])
        self.partitions = partitions
    }
}
