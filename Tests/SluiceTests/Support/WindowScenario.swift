import Sluice

/// A random stream of readings for the window properties, built from one seed: keys, event
/// times with bounded (or unbounded) disorder, partitions and the batches the engine sees.
///
/// Keys are spread over partitions as a Kafka producer would (a key always goes to the same
/// partition), so a key's results come from one partition's key actor.
struct WindowScenario: CustomStringConvertible {
    enum Shape: CaseIterable {
        case tumbling, hopping, session
    }

    enum Disorder {
        /// Every record's time is at least the highest time seen before it minus the out-of-orderness bound.
        case withinBound
        /// Some records are much older than the bound allows.
        case beyondBound
    }

    let seed: UInt64
    let kind: WindowKind
    let allowedLateness: Int64
    let outOfOrderness: Int64
    let partitionCount: Int
    let readings: [KeyedReading]
    /// The batches in the order they are sent; each a poll's worth of records.
    let batches: [[SourceRecord]]

    /// Window size and slide in milliseconds (slide == size for tumbling; unused for sessions).
    var size: Int64 {
        switch kind {
        case .tumbling(let size): size.wholeMilliseconds
        case .hopping(let size, _): size.wholeMilliseconds
        case .session(let gap): gap.wholeMilliseconds
        }
    }

    var slide: Int64 {
        switch kind {
        case .tumbling(let size): size.wholeMilliseconds
        case .hopping(_, let slide): slide.wholeMilliseconds
        case .session(let gap): gap.wholeMilliseconds
        }
    }

    var description: String {
        "seed \(seed): \(kind), lateness \(allowedLateness) ms, out-of-orderness \(outOfOrderness) ms, "
            + "\(partitionCount) partitions, \(readings.count) records in \(batches.count) batches"
    }

    init(seed: UInt64, shape: Shape, disorder: Disorder, maxRecords: Int = 300, allowsLateness: Bool = true) {
        var random = EngineTestRandom(seed: seed)
        self.seed = seed
        let size = Self.pickSize(&random)
        switch shape {
        case .tumbling:
            kind = .tumbling(.milliseconds(size))
        case .hopping:
            // At most 8 windows per record keeps the engine and the reference fast.
            let slide = Int64.random(in: Swift.max(1, (size + 7) / 8)...size, using: &random)
            kind = .hopping(size: .milliseconds(size), slide: .milliseconds(slide))
        case .session:
            kind = .session(gap: .milliseconds(size))
        }
        let allowedLateness = allowsLateness && Bool.random(using: &random) ? Int64.random(in: 0...4_000, using: &random) : 0
        let outOfOrderness: Int64 = [0, 1, 10, 500, 3_000][Int.random(in: 0..<5, using: &random)]
        self.allowedLateness = allowedLateness
        self.outOfOrderness = outOfOrderness
        partitionCount = Int.random(in: 1...3, using: &random)
        let keyCount = Int.random(in: 1...8, using: &random)
        let count = Int.random(in: 0...maxRecords, using: &random)
        let maxStep = [0, 5, 200, 2_000][Int.random(in: 0..<4, using: &random)]
        let lateShare = disorder == .beyondBound ? [0.05, 0.2, 0.5][Int.random(in: 0..<3, using: &random)] : 0

        var base = Int64.random(in: -100_000...100_000, using: &random)
        var readings: [KeyedReading] = []
        var partitions: [Int32] = []
        for id in 0..<count {
            base += Int64.random(in: 0...Int64(maxStep), using: &random)
            let lag: Int64
            if random.chance(lateShare) {
                lag = Int64.random(in: 0...(outOfOrderness + 3 * (size + allowedLateness) + 5_000), using: &random)
            } else {
                // Within the bound, up to the bound itself: such a record is never late.
                lag = Int64.random(in: 0...outOfOrderness, using: &random)
            }
            let keyIndex = Int.random(in: 0..<keyCount, using: &random)
            readings.append(
                KeyedReading(key: "k\(keyIndex)", time: base - lag, value: Int.random(in: -50...50, using: &random), id: id))
            partitions.append(Int32(keyIndex % partitionCount))
        }
        self.readings = readings

        var batches: [[SourceRecord]] = []
        var nextOffsets: [Int32: Int64] = [:]
        var index = 0
        while index < readings.count {
            let length = Swift.min(readings.count - index, Int.random(in: 1...25, using: &random))
            var batch: [SourceRecord] = []
            for position in index..<(index + length) {
                let partition = partitions[position]
                let offset = nextOffsets[partition, default: 0]
                nextOffsets[partition] = offset + 1
                batch.append(
                    SourceRecord(
                        partition: InputPartition(topic: "input", partition: partition), offset: offset,
                        value: readings[position].json))
            }
            batches.append(batch)
            index += length
        }
        self.batches = batches
    }

    private static func pickSize(_ random: inout EngineTestRandom) -> Int64 {
        // Mostly sizes comparable to the gaps between records, sometimes tiny ones.
        random.chance(0.1) ? Int64.random(in: 1...5, using: &random) : Int64.random(in: 10...10_000, using: &random)
    }
}

extension EngineTestRandom {
    /// `true` with probability `p`.
    mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
}

// MARK: Reference semantics

/// The windows of an aligned (tumbling or hopping) window kind that hold `time`, computed from
/// the definition: every `[start, start + size)` with `start` a multiple of `slide` and `start <= time`.
func referenceAlignedWindows(holding time: Int64, size: Int64, slide: Int64) -> [(start: Int64, end: Int64)] {
    // The last multiple of `slide` at or below `time`, for negative times too.
    let remainder = ((time % slide) + slide) % slide
    var start = time - remainder
    var windows: [(start: Int64, end: Int64)] = []
    while start + size > time {
        windows.append((start, start + size))
        start -= slide
    }
    return windows
}

/// The results of a complete run with no late records, by brute force.
///
/// Tumbling and hopping: every record is in each aligned window holding its time.
/// Sessions: each record opens `[time, time + gap)`; sessions that overlap (not merely touch)
/// merge, so a key's sorted times split wherever two neighbours are `gap` or more apart.
func referenceResults(of scenario: WindowScenario) -> [WindowRow] {
    var rows: [WindowRow] = []
    let byKey = Dictionary(grouping: scenario.readings, by: \.key)
    for (key, readings) in byKey {
        switch scenario.kind {
        case .tumbling, .hopping:
            var windows: [Int64: (end: Int64, ids: [Int])] = [:]
            for reading in readings {
                for window in referenceAlignedWindows(holding: reading.time, size: scenario.size, slide: scenario.slide) {
                    windows[window.start, default: (window.end, [])].ids.append(reading.id)
                }
            }
            for (start, window) in windows { rows.append(WindowRow(key: key, start: start, end: window.end, ids: window.ids)) }
        case .session(let gapDuration):
            let gap = gapDuration.wholeMilliseconds
            let sorted = readings.sorted { $0.time < $1.time }
            var current: (start: Int64, end: Int64, ids: [Int])?
            for reading in sorted {
                if let open = current, reading.time < open.end {
                    current = (open.start, Swift.max(open.end, reading.time + gap), open.ids + [reading.id])
                } else {
                    if let open = current { rows.append(WindowRow(key: key, start: open.start, end: open.end, ids: open.ids)) }
                    current = (reading.time, reading.time + gap, [reading.id])
                }
            }
            if let open = current { rows.append(WindowRow(key: key, start: open.start, end: open.end, ids: open.ids)) }
        }
    }
    return rows.sorted()
}

/// A step-by-step model of aligned windows (tumbling and hopping) under the engine's documented
/// semantics, late records included:
///
/// - within one batch, lateness is judged against each partition's watermark from before the batch;
/// - a window `[s, e)` is closed once the watermark is at least `e + allowedLateness`;
///   a record joins each of its windows that is still open, and is late when none is;
/// - after the batch the partition's watermark rises to its highest event time minus the
///   out-of-orderness bound, and every window it closes is emitted;
/// - at the end of input every window is emitted.
struct AlignedWindowModel {
    private struct OpenKey: Hashable {
        var key: String
        var start: Int64
        var end: Int64
    }

    let size: Int64
    let slide: Int64
    let allowedLateness: Int64
    let outOfOrderness: Int64
    private var watermarks: [Int32: Int64] = [:]
    private var open: [Int32: [OpenKey: [Int]]] = [:]

    init(_ scenario: WindowScenario) {
        size = scenario.size
        slide = scenario.slide
        allowedLateness = scenario.allowedLateness
        outOfOrderness = scenario.outOfOrderness
    }

    /// Applies one batch; returns the ids declared late and the results emitted.
    mutating func ingest(_ batch: [SourceRecord]) throws -> (late: [Int], emitted: [WindowRow]) {
        var late: [Int] = []
        var highest: [Int32: Int64] = [:]
        for record in batch {
            let partition = record.partition.partition
            let reading = try KeyedReading(record: record)
            let watermark = watermarks[partition]
            var accepted = false
            for window in referenceAlignedWindows(holding: reading.time, size: size, slide: slide) {
                if let watermark, watermark >= window.end + allowedLateness { continue }
                accepted = true
                open[partition, default: [:]][OpenKey(key: reading.key, start: window.start, end: window.end), default: []]
                    .append(reading.id)
            }
            if !accepted { late.append(reading.id) }
            highest[partition] = Swift.max(highest[partition] ?? .min, reading.time)
        }
        var emitted: [WindowRow] = []
        let allowedLateness = allowedLateness
        for (partition, time) in highest {
            let raised = Swift.max(watermarks[partition] ?? .min, time - outOfOrderness)
            watermarks[partition] = raised
            emitted += close(partition) { raised >= $0.end + allowedLateness }
        }
        return (late.sorted(), emitted.sorted())
    }

    /// Emits every window still open.
    mutating func endOfInput() -> [WindowRow] {
        let partitions = Array(open.keys)
        return partitions.flatMap { close($0) { _ in true } }.sorted()
    }

    private mutating func close(_ partition: Int32, where isDue: (OpenKey) -> Bool) -> [WindowRow] {
        guard let windows = open[partition] else { return [] }
        var rows: [WindowRow] = []
        for (window, ids) in windows where isDue(window) {
            rows.append(WindowRow(key: window.key, start: window.start, end: window.end, ids: ids))
            open[partition]![window] = nil
        }
        return rows
    }
}
