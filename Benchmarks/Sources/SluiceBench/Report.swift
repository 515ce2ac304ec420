import Foundation

/// Collects the tables of one run and prints them.
struct Report {
    var broker: String
    var transport = Table(
        title: "Kafka client paths (C loop = plain librdkafka 2.0.2; median of rounds, same broker and topic, same run)",
        header: ["benchmark", "records", "partitions", "C records/s", "Swift records/s", "ratio (target ≥ 0.90)", "C cpu s", "Swift cpu s"])
    var iot = Table(
        title: "IoT job: 10 s tumbling windows, exactly-once, checkpoint every 1 s (pipeline in a child process; the round with the median ratio, each round's run against the ceiling measured just before it)",
        header: [
            "sensors", "decoding", "readings", "partitions", "ceiling (C count)", "Sluice", "ratio", "rounds: ratio", "results ok", "cpu s", "peak RSS",
            "ckpt pause median / p99 / max", "ckpts", "close→publish median / p99",
        ])
    var recovery = Table(
        title: "Recovery: restart on state with open windows, until the first new result is published",
        header: [
            "keys", "partitions", "restart→running", "restart→first output", "run()→first output", "state file", "build: peak RSS",
            "build: ckpt pause median / p99 / max (keys/ckpt max)",
        ])
    var notes: [String] = []

    init(broker: String) { self.broker = broker }

    mutating func addConsume(_ result: ConsumeComparison, records: Int, partitions: Int) {
        transport.add([
            "consume (poll batch, touch key+value)", Format.count(records), "\(partitions)", Format.rate(result.cMedian.recordsPerSecond),
            Format.rate(result.swiftMedian.recordsPerSecond), Format.ratio(result.ratio), Format.seconds(result.cMedian.cpuSeconds),
            Format.seconds(result.swiftMedian.cpuSeconds),
        ])
        notes.append(
            "consume rounds: C \(result.c.map { Format.rate($0.recordsPerSecond) }.joined(separator: ", ")); Swift \(result.swift.map { Format.rate($0.recordsPerSecond) }.joined(separator: ", "))")
    }

    mutating func addProduce(_ result: ProduceComparison, records: Int, partitions: Int, batch: Int) {
        transport.add([
            "produce (send(contentsOf: [KafkaOutgoingRecord]) ×\(batch), flush)", Format.count(records), "\(partitions)",
            Format.rate(result.cMedian.recordsPerSecond), Format.rate(result.swiftMedian.recordsPerSecond), Format.ratio(result.ratio),
            Format.seconds(result.cMedian.cpuSeconds), Format.seconds(result.swiftMedian.cpuSeconds),
        ])
        transport.add([
            "produce (send(contentsOf: KafkaOutgoingBatch) ×\(batch), flush)", Format.count(records), "\(partitions)",
            Format.rate(result.cMedian.recordsPerSecond), Format.rate(result.swiftBatchMedian.recordsPerSecond),
            Format.ratio(result.batchRatio), Format.seconds(result.cMedian.cpuSeconds), Format.seconds(result.swiftBatchMedian.cpuSeconds),
        ])
        func rates(_ runs: [LoopResult]) -> String { runs.map { Format.rate($0.recordsPerSecond) }.joined(separator: ", ") }
        notes.append("produce rounds: C \(rates(result.c)); Swift records \(rates(result.swift)); Swift batch \(rates(result.swiftBatch))")
        func roundRatios(_ runs: [LoopResult]) -> String {
            let ratios = zip(runs, result.c).map { $0.recordsPerSecond / $1.recordsPerSecond }.sorted()
            guard let low = ratios.first, let high = ratios.last else { return "-" }
            return "median \(Format.ratio(ratios[ratios.count / 2])), \(Format.ratio(low))–\(Format.ratio(high))"
        }
        notes.append("produce ratios of each round's runs (the spread is the machine's noise): records \(roundRatios(result.swift)); batch \(roundRatios(result.swiftBatch))")
    }

    /// Adds one row per sensor count and decoding: the round whose ratio is the median of that
    /// decoding's rounds, with every round's ratio beside it.
    mutating func addIoT(_ runs: [IoTReport]) {
        var groups: [[IoTReport]] = []
        for run in runs {
            if let index = groups.firstIndex(where: { $0[0].sensors == run.sensors && $0[0].decoding == run.decoding }) {
                groups[index].append(run)
            } else {
                groups.append([run])
            }
        }
        for group in groups {
            let sorted = group.sorted { $0.ratio < $1.ratio }
            addIoT(sorted[(sorted.count - 1) / 2], rounds: group)
        }
    }

    private mutating func addIoT(_ report: IoTReport, rounds: [IoTReport]) {
        func pauses(_ s: Summary?) -> String {
            guard let s else { return "-" }
            return "\(Format.milliseconds(s.median)) / \(Format.milliseconds(s.p99)) / \(Format.milliseconds(s.max))"
        }
        let latency = report.latency.map { "\(Format.milliseconds($0.median)) / \(Format.milliseconds($0.p99))" } ?? "-"
        iot.add([
            Format.count(report.sensors), report.decoding.rawValue, Format.count(report.records), "\(report.partitions)", Format.rate(report.ceiling.recordsPerSecond),
            Format.rate(report.recordsPerSecond), Format.ratio(report.ratio), rounds.map { Format.ratio($0.ratio) }.joined(separator: ", "),
            report.isCorrect ? "yes (\(report.output.results))" : "NO (\(report.output.results)/\(report.expectedResults))",
            String(format: "%.1f", report.child.cpuSeconds), Format.mebibytes(report.child.peakResidentBytes), pauses(report.pauses),
            "\(report.child.checkpoints)", latency,
        ])
        let child = report.child
        let startup = Double((child.runningWallMs ?? child.runCalledWallMs) - child.runCalledWallMs) / 1_000
        let tail = Double(child.endWallMs - report.output.lastTimestampMs) / 1_000
        if rounds.count > 1 {
            notes.append(
                "iot \(report.sensors) sensors, \(report.decoding.rawValue), each round's Sluice / ceiling: "
                    + rounds.map { "\(Format.rate($0.recordsPerSecond)) / \(Format.rate($0.ceiling.recordsPerSecond))" }.joined(separator: "; ")
                    + (rounds.allSatisfy(\.isCorrect) ? "; every round's results correct" : "; SOME ROUND'S RESULTS WRONG"))
        }
        notes.append(
            "iot \(report.sensors) sensors, \(report.decoding.rawValue): run() to running \(Format.seconds(startup)); running to first reading \(report.runningToFirstReading.map(Format.seconds) ?? "?"); "
                + "first reading to last result published \(Format.seconds(report.seconds)); "
                + "last reading read (sampled every 10 ms) to last result published \(child.inputConsumedWallMs.map { Format.seconds(Double(report.output.lastTimestampMs - $0) / 1_000) } ?? "?"); "
                + "last result to run() returning \(Format.seconds(tail)); sampled checkpoint pauses (full resolution) \(pausesText(report.sampledPauses)); "
                + "max keys per checkpoint \(child.checkpointKeys.max() ?? 0); max live keys \(child.maxLiveKeys); ceiling cpu \(Format.seconds(report.ceiling.cpuSeconds)); "
                + "peak RssAnon \(Format.mebibytes(child.peakAnonymousBytes ?? 0)), RssFile \(Format.mebibytes(child.peakFileBytes ?? 0))")
    }

    mutating func addRecovery(_ report: RecoveryReport) {
        let pauses = report.buildPauses.map {
            "\(Format.milliseconds($0.median)) / \(Format.milliseconds($0.p99)) / \(Format.milliseconds($0.max)) (\(report.build.checkpointKeys.max() ?? 0))"
        } ?? "-"
        recovery.add([
            Format.count(report.keys), "\(report.partitions)", report.restartToRunning.map(Format.seconds) ?? "-",
            Format.seconds(report.restartToFirstOutput), Format.seconds(report.runToFirstOutput), Format.mebibytes(report.stateBytes),
            Format.mebibytes(report.build.peakResidentBytes), pauses,
        ])
        notes.append(
            "recovery (key idle timeout \(report.keyIdleTimeoutMilliseconds.map { "\($0) ms" } ?? "default 60 s")): restart peak RSS \(Format.mebibytes(report.restart.peakResidentBytes)), cpu \(String(format: "%.1f", report.restart.cpuSeconds)) s, keys restored \(report.restart.keysRestored), "
                + "results after restart \(report.outputResults) (expected \(report.expectedResults): keys in the trigger's partition); build: cpu \(String(format: "%.1f", report.build.cpuSeconds)) s, peak RssAnon \(Format.mebibytes(report.build.peakAnonymousBytes ?? 0)) and RssFile \(Format.mebibytes(report.build.peakFileBytes ?? 0)) (sampled every 10 ms; RssFile is mostly LMDB's mapped data file), \(report.build.checkpoints) checkpoints, "
                + "checkpoint pauses by keys \(zip(report.build.checkpointKeys, report.build.checkpointPausesNs).map { "\($0.0):\($0.1 / 1_000_000)ms" }.joined(separator: " "))")
    }

    private func pausesText(_ s: Summary?) -> String {
        guard let s else { return "-" }
        return "median \(Format.milliseconds(s.median)), p99 \(Format.milliseconds(s.p99)), max \(Format.milliseconds(s.max)) over \(s.count)"
    }

    func print() {
        var out = "\nsluice-bench \(ISO8601DateFormatter().string(from: Date())) · \(ProcessInfo.processInfo.activeProcessorCount) cores · broker: \(broker)\n"
        if !transport.rows.isEmpty { out += transport.render() }
        if !iot.rows.isEmpty { out += iot.render() }
        if !recovery.rows.isEmpty { out += recovery.render() }
        if !notes.isEmpty { out += "\nNotes:\n" + notes.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        Swift.print(out)
    }
}
