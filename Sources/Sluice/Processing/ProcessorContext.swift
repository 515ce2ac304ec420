/// What a ``KeyedProcessor`` sees and may do while it handles an event or a timer.
public struct ProcessorContext<Key: Sendable, Output: Sendable>: Sendable {
    // `key` is stored last on purpose: in code not specialized for the key's type (a
    // processor's own generic code, or the engine where it is not specialized) every field
    // placed after a field of generic size needs a run-time type lookup to be found; placed
    // before it, the others are at fixed offsets.

    /// The input partition's watermark: event times below it are complete. `nil` before the first record.
    public let watermark: EventTime?
    /// Wall-clock time as the engine's clock reads it.
    public let now: EventTime
    /// Outputs emitted so far, in order.
    @usableFromInline var outputs: [Output] = []
    /// Timers registered during this call.
    @usableFromInline var timersAdded: [ProcessorTimer] = []
    /// Timers deleted during this call.
    @usableFromInline var timersDeleted: [ProcessorTimer] = []
    /// Whether the current input was declared late.
    @usableFromInline var isLate = false
    /// The key being processed.
    public let key: Key

    /// Whether the call left anything for the engine: outputs, timer changes or a late mark.
    @inlinable var hasEffects: Bool { isLate || !outputs.isEmpty || !timersAdded.isEmpty || !timersDeleted.isEmpty }

    @inlinable
    init(key: Key, watermark: EventTime?, now: EventTime) {
        self.key = key
        self.watermark = watermark
        self.now = now
    }

    /// Emits an output; it is published after the next checkpoint (exactly-once) or at once (at-least-once).
    @inlinable
    public mutating func emit(_ output: Output) {
        outputs.append(output)
    }

    /// Declares the current input late: it goes to the pipeline's late-data output and is counted.
    @inlinable
    public mutating func markLate() {
        isLate = true
    }

    /// Asks for ``KeyedProcessor/onTimer(_:state:context:)`` once the watermark reaches `time`.
    /// Registering the same timer twice has no further effect.
    @inlinable
    public mutating func registerEventTimeTimer(at time: EventTime) {
        timersAdded.append(ProcessorTimer(time: time, domain: .eventTime))
    }

    /// Asks for ``KeyedProcessor/onTimer(_:state:context:)`` once the wall clock reaches `time`.
    @inlinable
    public mutating func registerProcessingTimeTimer(at time: EventTime) {
        timersAdded.append(ProcessorTimer(time: time, domain: .processingTime))
    }

    /// Cancels a timer registered earlier.
    @inlinable
    public mutating func deleteTimer(_ timer: ProcessorTimer) {
        // A timer registered earlier in this same call is simply not registered.
        timersAdded.removeAll { $0 == timer }
        timersDeleted.append(timer)
    }
}
