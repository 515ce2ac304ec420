import ArgumentParser
import Foundation
import Logging

@main
struct SluiceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract: "Sluice against plain librdkafka on the same broker and topic, in the same run.",
        discussion: "See Benchmarks/README.md. Tables go to stdout, progress to stderr.",
        subcommands: [
            ConsumeCommand.self, ProduceCommand.self, IoTCommand.self, AllCommand.self, DecodeCommand.self, PipelineChildCommand.self,
        ])
}

/// Options every benchmark shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Readings per run.")
    var records: Int = 5_000_000

    @Option(help: "Partitions of the input topic (default: enough for the mock's 5 MiB per partition).")
    var partitions: Int?

    @Option(help: "Rounds of the C/Swift comparisons; the median round is reported.")
    var rounds: Int = 3

    @Option(help: "Path of sluice-broker (default: next to this binary, then ../.build/release).")
    var broker: String?

    var logger: Logger {
        var logger = Logger(label: "sluice.bench")
        logger.logLevel = .warning
        return logger
    }

    func startBroker() async throws -> BenchBroker {
        try await BenchBroker.start(executable: broker, logger: logger)
    }
}

struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume", abstract: "C count loop against KafkaConsumer.poll(maxRecords:timeout:).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Sensors in the workload.") var sensors: Int = 1_000

    func run() async throws {
        let broker = try await common.startBroker()
        defer { broker.stop() }
        let partitions = common.partitions ?? TopicSizing.partitions(forRecords: common.records)
        let topic = "consume-\(Measure.wallMilliseconds())"
        _ = try await preload(IoTWorkload(sensors: sensors), count: common.records, topic: topic, partitions: partitions, broker: broker)
        let result = try await ConsumeComparison.run(
            topic: topic, partitions: partitions, records: common.records, rounds: common.rounds, broker: broker, logger: common.logger)
        var report = Report(broker: broker.placement)
        report.addConsume(result, records: common.records, partitions: partitions)
        report.print()
    }
}

struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce", abstract: "C produce loop against KafkaProducer.send(contentsOf:).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Records per send(contentsOf:) call.") var batch: Int = 10_000

    func run() async throws {
        let broker = try await common.startBroker()
        defer { broker.stop() }
        let partitions = common.partitions ?? TopicSizing.partitions(forRecords: common.records)
        let result = try await ProduceComparison.run(
            records: common.records, sensors: 1_000, partitions: partitions, rounds: common.rounds, batch: batch, broker: broker,
            logger: common.logger)
        var report = Report(broker: broker.placement)
        report.addProduce(result, records: common.records, partitions: partitions, batch: batch)
        report.print()
    }
}

struct IoTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iot", abstract: "The reference IoT job against the C ceiling; optionally recovery with many keys.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Sensors (keys) in the workload.") var sensors: Int = 1_000
    @Option(help: "How the job decodes readings (repeatable): codable, fields.") var decoding: [IoTJob.Decoding] = IoTJob.Decoding.allCases
    @Option(help: "Rounds of the job, each against a ceiling measured just before it; the median ratio is reported.")
    var pipelineRounds: Int = 1
    @Option(help: "Keys in state for the recovery measurement (0 skips it).") var keys: Int = 0
    @Option(help: "Key idle time before passivation in the recovery runs, in ms (default: the engine's 60 s).")
    var keyIdleTimeoutMs: Int?

    func run() async throws {
        let broker = try await common.startBroker()
        defer { broker.stop() }
        var report = Report(broker: broker.placement)
        let iot = try await IoTReport.run(
            sensors: sensors, records: common.records, partitions: common.partitions, consumeRounds: 0, pipelineRounds: pipelineRounds,
            decodings: decoding, broker: broker, logger: common.logger)
        report.addIoT(iot)
        if keys > 0 {
            report.addRecovery(try await RecoveryReport.run(keys: keys, keyIdleTimeoutMilliseconds: keyIdleTimeoutMs, broker: broker, logger: common.logger))
        }
        report.print()
        if !iot.allSatisfy(\.isCorrect) { throw ExitCode(2) }
    }
}

struct AllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all", abstract: "produce, consume, iot (1,000 and 100,000 sensors) and recovery, in one table.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Records for the producer comparison.") var produceRecords: Int = 1_000_000
    @Option(help: "Rounds of the producer comparison (short runs on a shared machine: more rounds than the others).")
    var produceRounds: Int = 9
    @Option(help: "Sensor counts for the IoT job.") var sensors: [Int] = [1_000, 100_000]
    @Option(help: "How the job decodes readings (repeatable): codable, fields.") var decoding: [IoTJob.Decoding] = IoTJob.Decoding.allCases
    @Option(help: "Rounds of the job, each against a ceiling measured just before it; the median ratio is reported.")
    var pipelineRounds: Int = 3
    @Option(help: "Keys in state for the recovery measurement (0 skips it).") var keys: Int = 1_000_000
    @Option(help: "Key idle time before passivation in the recovery runs, in ms (default: the engine's 60 s).")
    var keyIdleTimeoutMs: Int?

    func run() async throws {
        let broker = try await common.startBroker()
        defer { broker.stop() }
        var report = Report(broker: broker.placement)
        let produceRecords = min(produceRecords, common.records)
        let producePartitions = TopicSizing.partitions(forRecords: produceRecords)
        let produce = try await ProduceComparison.run(
            records: produceRecords, sensors: 1_000, partitions: producePartitions, rounds: produceRounds, batch: 10_000,
            broker: broker, logger: common.logger)
        report.addProduce(produce, records: produceRecords, partitions: producePartitions, batch: 10_000)
        var correct = true
        for (index, sensorCount) in sensors.enumerated() {
            // The consumer comparison runs on the first IoT topic, the same the pipeline reads.
            let iot = try await IoTReport.run(
                sensors: sensorCount, records: common.records, partitions: common.partitions,
                consumeRounds: index == 0 ? common.rounds : 0, pipelineRounds: pipelineRounds, decodings: decoding, broker: broker,
                logger: common.logger)
            if let consume = iot.first?.consume { report.addConsume(consume, records: common.records, partitions: iot[0].partitions) }
            report.addIoT(iot)
            correct = correct && iot.allSatisfy(\.isCorrect)
        }
        if keys > 0 {
            do {
                report.addRecovery(try await RecoveryReport.run(keys: keys, keyIdleTimeoutMilliseconds: keyIdleTimeoutMs, broker: broker, logger: common.logger))
            } catch {
                report.notes.append("recovery FAILED: \(error)")
                correct = false
            }
        }
        report.print()
        if !correct { throw ExitCode(2) }
    }
}
