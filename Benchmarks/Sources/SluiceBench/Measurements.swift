import Foundation
import RawKafka

#if canImport(Glibc)
import Glibc
#endif

/// Clocks, CPU time and memory of this process.
enum Measure {
    /// Monotonic nanoseconds (the same clock the C loops use).
    static func nowNanoseconds() -> Int64 { raw_kafka_now_ns() }

    /// Wall-clock milliseconds since the epoch, comparable with Kafka record timestamps.
    static func wallMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// User plus system CPU seconds used by this process so far (all threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Peak resident memory of this process in bytes (`VmHWM`).
    static func peakResidentBytes() -> Int64 { statusField("VmHWM:") ?? 0 }

    /// Current resident memory split into anonymous (heap, stacks: `RssAnon`) and shared
    /// (file-backed, such as LMDB's mapped data file and code: `RssFile` plus `RssShmem`) bytes.
    ///
    /// Read from `/proc/self/statm`, one short line: the sampler calls it every 10 ms inside
    /// the measured process, where parsing all of `/proc/self/status` twice cost about 1.4 % of
    /// the 1,000-sensor job's CPU samples.
    static func residentSplit() -> (anonymous: Int64, shared: Int64) {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return (0, 0) }
        defer { close(fd) }
        var buffer = (0..<128).map { _ in UInt8(0) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return (0, 0) }
        // size resident shared text lib data dt, in pages.
        let fields = buffer[0..<count].split(separator: UInt8(ascii: " ")).prefix(3).map { Int64(String(decoding: $0, as: UTF8.self)) ?? 0 }
        guard fields.count == 3 else { return (0, 0) }
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        return ((fields[1] - fields[2]) * page, fields[2] * page)
    }

    /// Current resident memory in bytes (`VmRSS`).
    static func residentBytes() -> Int64 { statusField("VmRSS:") ?? 0 }

    /// Resets `VmHWM` to the current RSS (Linux `clear_refs` value 5), so a phase can report
    /// its own peak. Returns whether the kernel accepted it.
    @discardableResult
    static func resetPeakResident() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    private static func statusField(_ name: String) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let digits = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int64($0) }
            return digits.map { $0 * 1_024 }
        }
        return nil
    }

    /// The path of the running executable.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4_096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Order statistics of a sample.
struct Summary: Codable, Sendable {
    var count: Int
    var median: Double
    var p99: Double
    var max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func quantile(_ q: Double) -> Double {
            // Nearest rank.
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
        }
        count = sorted.count
        median = quantile(0.5)
        p99 = quantile(0.99)
        max = sorted.last!
    }
}

/// Formatting for the report.
enum Format {
    static func rate(_ perSecond: Double) -> String {
        perSecond >= 1_000_000
            ? String(format: "%.2f M/s", perSecond / 1_000_000) : String(format: "%.1f k/s", perSecond / 1_000)
    }

    static func count(_ n: Int) -> String {
        n >= 1_000_000 && n % 100_000 == 0 ? String(format: "%gM", Double(n) / 1_000_000)
            : n >= 1_000 && n % 1_000 == 0 ? "\(n / 1_000)k" : "\(n)"
    }

    static func mebibytes(_ bytes: Int64) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
    static func seconds(_ s: Double) -> String { String(format: "%.2f s", s) }
    static func milliseconds(_ ms: Double) -> String { String(format: "%.1f ms", ms) }
    static func ratio(_ r: Double) -> String { String(format: "%.2f", r) }
}

/// A plain-text table, printed with aligned columns.
struct Table {
    var title: String
    var header: [String]
    var rows: [[String]] = []

    init(title: String, header: [String]) {
        self.title = title
        self.header = header
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "| " + header.indices.map { i in
                let cell = cells.indices.contains(i) ? cells[i] : ""
                return cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: " | ") + " |"
        }
        var out = "\n\(title)\n" + line(header) + "\n"
        out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
        for row in rows { out += line(row) + "\n" }
        return out
    }
}

/// Writes a progress line to stderr (stdout carries the tables and child results).
func progress(_ message: String) {
    FileHandle.standardError.write(Data(("[bench] " + message + "\n").utf8))
}

/// A benchmark failure with a message a person can act on.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
