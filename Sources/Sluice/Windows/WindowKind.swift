/// How records are grouped into event-time windows.
///
/// Tumbling and hopping windows are aligned to the epoch: a tumbling window of
/// size S holding time t starts at floor(t / S) * S.
public enum WindowKind: Sendable, Equatable {
    /// Fixed-size, non-overlapping windows.
    case tumbling(Duration)
    /// Fixed-size windows that start every `slide`; a record belongs to `size / slide` of them.
    case hopping(size: Duration, slide: Duration)
    /// Windows of activity separated by at least `gap` without records; they merge as records arrive.
    case session(gap: Duration)

    /// Checks sizes; throws a ``SluiceError`` a person can act on.
    public func validate() throws {
        for (name, span) in spans where span.wholeMilliseconds > EventTime.maximumSpanMilliseconds {
            throw SluiceError(
                .invalidConfiguration,
                "\(name) of \(span) is longer than the \(EventTime.maximumSpanMilliseconds) ms (about 36 million years) Sluice supports")
        }
        switch self {
        case .tumbling(let size):
            guard size.wholeMilliseconds > 0 else {
                throw SluiceError(.invalidConfiguration, "tumbling window size must be at least 1 ms, got \(size)")
            }
        case .hopping(let size, let slide):
            guard size.wholeMilliseconds > 0, slide.wholeMilliseconds > 0 else {
                throw SluiceError(.invalidConfiguration, "hopping window size and slide must be at least 1 ms")
            }
            guard slide <= size else {
                throw SluiceError(.invalidConfiguration, "hopping window slide (\(slide)) must not exceed its size (\(size))")
            }
            // Each record belongs to size / slide windows, each with its own state and timer.
            guard size.wholeMilliseconds / slide.wholeMilliseconds <= Self.maximumWindowsPerRecord else {
                throw SluiceError(
                    .invalidConfiguration,
                    "hopping windows of \(size) every \(slide) put each record in more than \(Self.maximumWindowsPerRecord) windows: use a longer slide")
            }
        case .session(let gap):
            guard gap.wholeMilliseconds > 0 else {
                throw SluiceError(.invalidConfiguration, "session gap must be at least 1 ms, got \(gap)")
            }
        }
    }

    /// The most windows a hopping window kind may put a record in.
    public static let maximumWindowsPerRecord = 10_000

    /// The durations that define the windows, named as in messages.
    private var spans: [(name: String, span: Duration)] {
        switch self {
        case .tumbling(let size): return [("tumbling window size", size)]
        case .hopping(let size, let slide): return [("hopping window size", size), ("hopping window slide", slide)]
        case .session(let gap): return [("session gap", gap)]
        }
    }

    /// The aligned windows (tumbling or hopping) that contain `time`, earliest first.
    /// For sessions, the single proto-window `[time, time + gap)`.
    @usableFromInline
    func windows(containing time: EventTime) -> [TimeWindow] {
        let t = time.millisecondsSinceEpoch
        switch self {
        case .tumbling(let size):
            let s = size.wholeMilliseconds
            let start = floorDiv(t, s) * s
            return [TimeWindow(start: .init(millisecondsSinceEpoch: start), end: .init(millisecondsSinceEpoch: start + s))]
        case .hopping(let size, let slide):
            let s = size.wholeMilliseconds
            let d = slide.wholeMilliseconds
            var result: [TimeWindow] = []
            var start = floorDiv(t, d) * d
            while start > t - s {
                result.append(TimeWindow(start: .init(millisecondsSinceEpoch: start), end: .init(millisecondsSinceEpoch: start + s)))
                start -= d
            }
            return result.reversed()
        case .session(let gap):
            return [TimeWindow(start: time, end: time + gap)]
        }
    }
}

/// Integer division rounding toward negative infinity.
@inlinable @inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
