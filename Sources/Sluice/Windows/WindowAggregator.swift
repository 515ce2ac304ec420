/// Folds each key's records into event-time windows and emits one result per
/// window when the watermark passes the window's end plus the allowed lateness.
///
/// A record whose every window has already closed is late: it is declared late
/// (see ``ProcessorContext/markLate()``) and goes to the late-data output.
public struct WindowAggregator<Key: Hashable & Sendable & Codable, Input: Sendable, Accumulator: Sendable & Codable>:
    KeyedProcessor
{
    /// The per-key state.
    public typealias State = WindowState<Accumulator>
    /// One result per key and window.
    public typealias Output = WindowResult<Key, Accumulator>

    /// How records are grouped into windows.
    public let kind: WindowKind
    /// How long after its end a window still accepts records.
    public let allowedLateness: Duration
    @usableFromInline let initial: Accumulator
    @usableFromInline let fold: @Sendable (inout Accumulator, Input) -> Void
    @usableFromInline let merge: (@Sendable (inout Accumulator, Accumulator) -> Void)?
    /// `allowedLateness` in milliseconds, and the window size for tumbling windows: worked out
    /// once, not per record.
    @usableFromInline let latenessMilliseconds: Int64
    @usableFromInline let tumblingMilliseconds: Int64?

    /// Creates an aggregator. Session windows need `merge` to combine two sessions' accumulators.
    public init(
        kind: WindowKind, allowedLateness: Duration = .zero, initial: Accumulator,
        fold: @escaping @Sendable (inout Accumulator, Input) -> Void,
        merge: (@Sendable (inout Accumulator, Accumulator) -> Void)? = nil
    ) {
        if case .session = kind {
            precondition(merge != nil, "session windows need a merge function for their accumulators")
        }
        precondition(allowedLateness >= .zero, "allowedLateness must not be negative")
        do { try kind.validate() } catch { preconditionFailure("\(error)") }
        self.kind = kind
        self.allowedLateness = allowedLateness
        self.initial = initial
        self.fold = fold
        self.merge = merge
        // A longer lateness ("forever") counts as the longest span: the window then closes only
        // at the end of a bounded input, and its end plus the lateness stays within `Int64`.
        self.latenessMilliseconds = min(allowedLateness.wholeMilliseconds, EventTime.maximumSpanMilliseconds)
        if case .tumbling(let size) = kind { tumblingMilliseconds = size.wholeMilliseconds } else { tumblingMilliseconds = nil }
    }

    @inlinable
    public func initialState(for key: Key) -> State { State() }

    @inlinable
    public func isEmpty(_ state: State) -> Bool { state.windows.isEmpty }

    @inlinable
    public func openWindowCount(_ state: State) -> Int { state.windows.count }

    /// Whether a window ending at `end` has closed under `watermark`.
    @inlinable @inline(__always)
    func isClosed(end: Int64, watermark: EventTime?) -> Bool {
        guard let watermark else { return false }
        return watermark.millisecondsSinceEpoch >= end + latenessMilliseconds
    }

    @inlinable
    public func process(_ input: Input, at time: EventTime, state: inout State, context: inout ProcessorContext<Key, Output>) {
        if let length = tumblingMilliseconds {
            // The common case, without allocating a list of windows.
            let start = floorDiv(time.millisecondsSinceEpoch, length) * length
            if !add(input, toWindowFrom: start, to: start + length, state: &state, context: &context) { context.markLate() }
            return
        }
        if case .session(let gap) = kind {
            processSession(input, at: time, gap: gap.wholeMilliseconds, state: &state, context: &context)
            return
        }
        var accepted = false
        for window in kind.windows(containing: time) {
            if add(
                input, toWindowFrom: window.start.millisecondsSinceEpoch, to: window.end.millisecondsSinceEpoch, state: &state,
                context: &context)
            {
                accepted = true
            }
        }
        if !accepted { context.markLate() }
    }

    /// Folds `input` into the aligned window `[start, end)` unless it has closed; returns whether it was open.
    @inlinable @inline(__always)
    func add(
        _ input: Input, toWindowFrom start: Int64, to end: Int64, state: inout State, context: inout ProcessorContext<Key, Output>
    ) -> Bool {
        if isClosed(end: end, watermark: context.watermark) { return false }
        if let index = state.windows.firstIndex(where: { $0.start == start }) {
            fold(&state.windows[index].accumulator, input)
        } else {
            var accumulator = initial
            fold(&accumulator, input)
            let insertAt = state.windows.firstIndex(where: { $0.start > start }) ?? state.windows.endIndex
            state.windows.insert(.init(start: start, end: end, accumulator: accumulator), at: insertAt)
            context.registerEventTimeTimer(at: EventTime(millisecondsSinceEpoch: end + latenessMilliseconds))
        }
        return true
    }

    @usableFromInline
    func processSession(
        _ input: Input, at time: EventTime, gap: Int64, state: inout State, context: inout ProcessorContext<Key, Output>
    ) {
        var start = time.millisecondsSinceEpoch
        var end = start + gap
        // Late only if the record's own session has closed and it joins no session still open.
        let joinsOpenSession = state.windows.contains { $0.start < end && start < $0.end }
        if !joinsOpenSession && isClosed(end: end, watermark: context.watermark) {
            context.markLate()
            return
        }
        let recordStart = start
        var recordAccumulator = initial
        fold(&recordAccumulator, input)
        // Merge every open session that overlaps [start, end), with the record's own, in order
        // of start (the record after a session that starts with it): an order-sensitive merge
        // sees the sessions' contents in time order.
        var merging: [Accumulator] = []
        var isRecordPlaced = false
        var kept: [WindowState<Accumulator>.Open] = []
        kept.reserveCapacity(state.windows.count)
        for open in state.windows {
            if open.start < end && start < open.end {
                if !isRecordPlaced && recordStart < open.start {
                    merging.append(recordAccumulator)
                    isRecordPlaced = true
                }
                merging.append(open.accumulator)
                start = min(start, open.start)
                end = max(end, open.end)
                context.deleteTimer(ProcessorTimer(time: EventTime(millisecondsSinceEpoch: open.end + latenessMilliseconds), domain: .eventTime))
            } else {
                kept.append(open)
            }
        }
        if !isRecordPlaced { merging.append(recordAccumulator) }
        var accumulator = merging[0]
        for next in merging.dropFirst() { merge!(&accumulator, next) }
        let insertAt = kept.firstIndex(where: { $0.start > start }) ?? kept.endIndex
        kept.insert(.init(start: start, end: end, accumulator: accumulator), at: insertAt)
        state.windows = kept
        context.registerEventTimeTimer(at: EventTime(millisecondsSinceEpoch: end + latenessMilliseconds))
    }

    @inlinable
    public func onTimer(_ timer: ProcessorTimer, state: inout State, context: inout ProcessorContext<Key, Output>) {
        guard timer.domain == .eventTime else { return }
        var remaining: [WindowState<Accumulator>.Open] = []
        for open in state.windows {
            if isClosed(end: open.end, watermark: context.watermark) {
                context.emit(
                    WindowResult(
                        key: context.key,
                        window: TimeWindow(start: .init(millisecondsSinceEpoch: open.start), end: .init(millisecondsSinceEpoch: open.end)),
                        value: open.accumulator))
            } else {
                // Still open although the timer is at or past its end: a timer of another
                // allowed lateness (an earlier run's) fired early, and the window must not be
                // left without its own (registering it again is a no-op when it is there).
                if open.end <= timer.time.millisecondsSinceEpoch {
                    context.registerEventTimeTimer(at: EventTime(millisecondsSinceEpoch: open.end + latenessMilliseconds))
                }
                remaining.append(open)
            }
        }
        state.windows = remaining
    }
}
