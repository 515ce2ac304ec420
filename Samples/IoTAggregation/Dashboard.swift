import ServiceLifecycle
import Sluice

/// The demo's live view. On a terminal it redraws a table every 500 ms: the latest window
/// sums of the busiest sensors, then throughput, watermark, checkpoint, results, late records
/// and dead letters. Otherwise it prints a compact status line every 2 seconds.
struct Dashboard: Service {
    /// What the demo runs, for the title.
    struct Settings: Sendable {
        var sensors: Int
        var rate: Int
        var window: Duration
        var lateTopic: String
        var deadLetterTopic: String
    }

    /// One status sample, for the throughput average.
    private struct Sample {
        var time: ContinuousClock.Instant
        var consumed: UInt64
    }

    /// The title's facts.
    let settings: Settings
    /// The pipeline's progress.
    let status: @Sendable () -> PipelineStatus
    /// What was read back from the output topic.
    let board: DemoBoard
    /// Whether to redraw a table (on a terminal) or print status lines.
    let isTerminal: Bool

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        var samples: [Sample] = []
        var lastLine = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            let status = status()
            let now = clock.now
            samples.append(Sample(time: now, consumed: status.router.recordsConsumed))
            samples.removeAll { now - $0.time > .seconds(2) }
            let rate = Self.rate(samples)
            if isTerminal {
                Console.line("\u{1B}[H\u{1B}[2J" + table(status, rate: rate, uptime: clock.now - started))
            } else if clock.now - lastLine >= .seconds(2) {
                lastLine = clock.now
                Console.line(statusLine(status, rate: rate, uptime: clock.now - started))
            }
        }
    }

    /// The final one-line summary.
    func summary(uptime: Duration) -> String {
        let status = status()
        return statusLine(status, rate: nil, uptime: uptime)
    }

    private func statusLine(_ status: PipelineStatus, rate: Double?, uptime: Duration) -> String {
        var line = "demo: t=\(DurationParser.format(.seconds(uptime.components.seconds))) "
            + "consumed=\(status.router.recordsConsumed)"
        if let rate { line += " rate=\(Int(rate))/s" }
        if let delay = watermarkDelay(status) { line += " watermark_delay=\(DurationParser.format(delay))" }
        line += " checkpoint=\(status.lastCheckpointID) published=\(status.recordsPublished)"
            + " read_back=\(board.resultsRead) late=\(status.router.lateRecords) dead_letters=\(status.router.deadLettered)"
        return line
    }

    private func table(_ status: PipelineStatus, rate: Double, uptime: Duration) -> String {
        var lines = [
            "Sluice IoT demo: \(settings.sensors) sensors, \(settings.rate) readings/s, "
                + "\(DurationParser.format(settings.window)) tumbling windows, exactly once. Ctrl-C stops.",
            "",
            pad("sensor", 7) + "  " + pad("window (UTC)", 19, left: true) + pad("sum", 8) + pad("count", 7) + pad("mean", 7),
        ]
        let top = board.top(12)
        for sum in top {
            let window = Self.clockTime(sum.windowStart, fraction: false) + "–" + Self.clockTime(sum.windowEnd, fraction: false)
            let mean = sum.count == 0 ? 0 : Double(sum.sum) / Double(sum.count)
            lines.append(
                pad(String(sum.id), 7) + "  " + pad(window, 19, left: true) + pad(String(sum.sum), 8) + pad(String(sum.count), 7)
                    + pad(String(format1(mean)), 7))
        }
        if top.isEmpty { lines.append("  (waiting for the first windows to close…)") }
        lines.append("")
        let watermark = status.watermarks.values.min().map { mark in
            Self.clockTime(mark.millisecondsSinceEpoch, fraction: true)
                + (watermarkDelay(status).map { " (\(DurationParser.format($0)) behind the wall clock)" } ?? "")
        }
        lines += [
            "throughput    \(Int(rate)) records/s consumed (\(status.router.recordsConsumed) in \(DurationParser.format(.seconds(uptime.components.seconds))))",
            "watermark     \(watermark ?? "none yet")",
            "checkpoint    #\(status.lastCheckpointID), processing paused \(DurationParser.format(status.lastCheckpointPause))",
            "results       \(status.recordsPublished) published, \(board.resultsRead) read back from the output topic",
            "late          \(status.router.lateRecords) → \(settings.lateTopic)",
            "dead letters  \(status.router.deadLettered) → \(settings.deadLetterTopic)",
        ]
        return lines.joined(separator: "\n")
    }

    private func watermarkDelay(_ status: PipelineStatus) -> Duration? {
        guard let mark = status.watermarks.values.min() else { return nil }
        let now = SystemWallClock().now().millisecondsSinceEpoch
        return .milliseconds(max(0, now - mark.millisecondsSinceEpoch))
    }

    private static func rate(_ samples: [Sample]) -> Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        let seconds = Double((last.time - first.time).wholeMilliseconds) / 1_000
        return Double(last.consumed - first.consumed) / seconds
    }

    /// `HH:MM:SS` (or `HH:MM:SS.mmm`) of a time in milliseconds since the epoch, in UTC.
    private static func clockTime(_ milliseconds: Int64, fraction: Bool) -> String {
        let day = ((milliseconds % 86_400_000) + 86_400_000) % 86_400_000
        let seconds = day / 1_000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = "\(two(seconds / 3_600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
        if fraction {
            let millis = day % 1_000
            text += "." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + "\(millis)"
        }
        return text
    }

    private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + padding : padding + text
    }

    private func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
