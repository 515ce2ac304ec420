/// A stateful per-key operator: the general building block under windows.
///
/// Each key has its own `State`, held by that key's actor and checkpointed
/// with it. ``process(_:at:state:context:)`` applies one input event;
/// ``onTimer(_:state:context:)`` runs when a timer the key registered fires.
/// Both may emit outputs through the context. Use it for event-sourced entities:
/// the state is the entity, the inputs are its events.
///
/// Implementations must be deterministic functions of their arguments: after a
/// crash Sluice replays inputs since the last checkpoint into the restored state
/// and relies on getting the same outputs.
public protocol KeyedProcessor<Key, Input, Output>: Sendable {
    /// The key type: the identity of an entity (for example a sensor id).
    associatedtype Key: Hashable & Sendable & Codable
    /// The input event type.
    associatedtype Input: Sendable
    /// The output type.
    associatedtype Output: Sendable
    /// The per-key state, checkpointed in compact binary form.
    associatedtype State: Sendable & Codable

    /// The state of a key that has none yet.
    func initialState(for key: Key) -> State

    /// Applies one input event with its event time.
    func process(_ input: Input, at time: EventTime, state: inout State, context: inout ProcessorContext<Key, Output>)

    /// Runs when a timer of this key fires.
    func onTimer(_ timer: ProcessorTimer, state: inout State, context: inout ProcessorContext<Key, Output>)

    /// Whether `state` carries nothing worth keeping; such state is deleted from the store.
    func isEmpty(_ state: State) -> Bool

    /// How many windows `state` holds open, for the `sluice_windows_open` metric (0 for processors without windows).
    func openWindowCount(_ state: State) -> Int
}

extension KeyedProcessor {
    /// By default a processor keeps no timers.
    public func onTimer(_ timer: ProcessorTimer, state: inout State, context: inout ProcessorContext<Key, Output>) {}
    /// By default state is never considered empty.
    public func isEmpty(_ state: State) -> Bool { false }
    /// By default a processor has no windows.
    public func openWindowCount(_ state: State) -> Int { 0 }
}

/// A timer a key registered: when it fires and on which clock.
public struct ProcessorTimer: Hashable, Sendable, Codable, Comparable {
    /// The clock a timer follows.
    public enum Domain: UInt8, Hashable, Sendable, Codable {
        /// Fires when the input partition's watermark reaches ``ProcessorTimer/time``.
        case eventTime
        /// Fires when the wall clock reaches ``ProcessorTimer/time``.
        case processingTime
    }

    /// When the timer fires.
    public var time: EventTime
    /// The clock it follows.
    public var domain: Domain

    /// Creates a timer.
    @inlinable
    public init(time: EventTime, domain: Domain) {
        self.time = time
        self.domain = domain
    }

    /// Encodes the timer's time and domain (written directly by Sluice's state encoder).
    public func encode(to encoder: any Encoder) throws {
        if let binary = encoder as? BinaryStateEncoding {
            writeFields(to: try binary.openKeyed())
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(time, forKey: .time)
        try container.encode(domain, forKey: .domain)
    }

    /// Writes the timer's members into the keyed container being written, as `encode(to:)`
    /// with a nested encoder for the time would.
    func writeFields(to writer: BinaryStateWriter) {
        let time = writer.beginRegion(key: CodingKeys.time)
        self.time.writeFields(to: writer)
        writer.endRegion(lengthAt: time)
        // The domain's raw value, as its synthesized single-value encoding writes it.
        writer.writeHeader(key: CodingKeys.domain, wireType: .varint)
        writer.body.appendVarint(UInt64(domain.rawValue))
    }

    /// Writes `timers` as member `key` of the keyed container being written: the bytes of
    /// `BinaryStateWriter.writeArrayMember`, without a nested encoder and slot per timer and
    /// per time (which took most of the time spent encoding a key's state).
    static func write(_ timers: [ProcessorTimer], key: some CodingKey, to writer: BinaryStateWriter) {
        let array = writer.beginRegion(key: key)
        for timer in timers {
            let element = writer.beginElementRegion()
            timer.writeFields(to: writer)
            writer.endRegion(lengthAt: element)
        }
        writer.endRegion(lengthAt: array)
    }

    @inlinable
    public static func < (lhs: ProcessorTimer, rhs: ProcessorTimer) -> Bool {
        (lhs.time, lhs.domain.rawValue) < (rhs.time, rhs.domain.rawValue)
    }
}
