import Testing

@testable import Sluice

/// Sluice's own state types write themselves straight to the binary state encoder; their
/// bytes must stay exactly those of plain `Codable` types of the same shape, which is what
/// stores written before (and the decoder) expect.
@Suite("State encoding of Sluice's own types")
struct StateEncodingTests {
    // Plain synthesized-Codable mirrors of the engine's types.
    struct TimeMirror: Codable { var millisecondsSinceEpoch: Int64 }
    enum DomainMirror: UInt8, Codable { case eventTime, processingTime }
    struct TimerMirror: Codable { var time: TimeMirror; var domain: DomainMirror }
    struct OpenMirror<A: Codable>: Codable { var start: Int64; var end: Int64; var accumulator: A }
    struct WindowsMirror<A: Codable>: Codable { var windows: [OpenMirror<A>] }
    struct StoredMirror<S: Codable>: Codable { var timers: [TimerMirror]; var state: S }

    struct SumCount: Codable, Sendable, Equatable {
        var sum = 0
        var count = 0
    }

    static func timers(_ count: Int) -> [ProcessorTimer] {
        (0..<count).map { i in
            ProcessorTimer(time: EventTime(millisecondsSinceEpoch: Int64(i) * 10_000 - 5), domain: i % 2 == 0 ? .eventTime : .processingTime)
        }
    }

    static func mirror(_ timers: [ProcessorTimer]) -> [TimerMirror] {
        timers.map { TimerMirror(time: TimeMirror(millisecondsSinceEpoch: $0.time.millisecondsSinceEpoch), domain: $0.domain == .eventTime ? .eventTime : .processingTime) }
    }

    static func windows<A>(_ count: Int, _ accumulator: (Int) -> A) -> WindowState<A> {
        var state = WindowState<A>()
        state.windows = (0..<count).map { .init(start: Int64($0) * 10_000, end: Int64($0 + 1) * 10_000, accumulator: accumulator($0)) }
        return state
    }

    static func mirror<A>(_ state: WindowState<A>) -> WindowsMirror<A> {
        WindowsMirror(windows: state.windows.map { OpenMirror(start: $0.start, end: $0.end, accumulator: $0.accumulator) })
    }

    @Test("a key's stored state encodes to the bytes of plain Codable types and decodes back", arguments: [0, 1, 3, 20])
    func storedState(_ count: Int) throws {
        typealias Stored = KeyActor<WindowAggregator<Int, Int, SumCount>>.Stored
        let state = Self.windows(count) { SumCount(sum: $0 * 7, count: $0) }
        let stored = Stored(timers: Self.timers(count), state: state)
        let bytes = try BinaryStateEncoder().encode(stored)
        #expect(bytes == (try BinaryStateEncoder().encode(StoredMirror(timers: Self.mirror(stored.timers), state: Self.mirror(state)))))
        let decoded = try BinaryStateDecoder().decode(Stored.self, from: bytes)
        #expect(decoded.timers == stored.timers)
        #expect(decoded.state.windows.map(\.accumulator) == state.windows.map(\.accumulator))
        #expect(decoded.state.windows.map(\.start) == state.windows.map(\.start))
        // The batch encoder used by checkpoints makes the same bytes.
        #expect(try BinaryStateBatchEncoder().encode(stored) == bytes)
        // So do both with key tables (each fresh, so names get the same numbers).
        let mirrored = StoredMirror(timers: Self.mirror(stored.timers), state: Self.mirror(state))
        let table = BinaryStateKeyTable()
        let shared = try BinaryStateBatchEncoder(keyTable: table).encode(stored)
        #expect(shared == (try BinaryStateEncoder(keyTable: BinaryStateKeyTable()).encode(mirrored)))
        #expect(try BinaryStateDecoder(keyTable: table).decode(Stored.self, from: shared).timers == stored.timers)
    }

    @Test("window state with primitive, optional and string accumulators matches plain Codable")
    func accumulators() throws {
        let ints = Self.windows(2) { $0 * 3 }
        #expect(try BinaryStateEncoder().encode(ints) == (try BinaryStateEncoder().encode(Self.mirror(ints))))
        let optionals = Self.windows(3) { $0 == 1 ? nil : Optional($0) }
        #expect(try BinaryStateEncoder().encode(optionals) == (try BinaryStateEncoder().encode(Self.mirror(optionals))))
        let strings = Self.windows(2) { String(repeating: "x", count: $0 * 200) }
        #expect(try BinaryStateEncoder().encode(strings) == (try BinaryStateEncoder().encode(Self.mirror(strings))))
        let means = Self.windows(1) { _ in Mean() }
        #expect(try BinaryStateEncoder().encode(means) == (try BinaryStateEncoder().encode(Self.mirror(means))))
    }

    @Test("event times and timers alone, and in arrays, match plain Codable")
    func timesAndTimers() throws {
        let timers = Self.timers(4)
        #expect(try BinaryStateEncoder().encode(timers) == (try BinaryStateEncoder().encode(Self.mirror(timers))))
        #expect(try BinaryStateEncoder().encode(timers[1]) == (try BinaryStateEncoder().encode(Self.mirror(timers)[1])))
        let time = EventTime(millisecondsSinceEpoch: -1_700_000_000_123)
        #expect(try BinaryStateEncoder().encode(time) == (try BinaryStateEncoder().encode(TimeMirror(millisecondsSinceEpoch: time.millisecondsSinceEpoch))))
        #expect(try BinaryStateDecoder().decode([ProcessorTimer].self, from: try BinaryStateEncoder().encode(timers)) == timers)
    }
}
