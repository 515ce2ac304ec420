import Testing

@testable import Sluice

/// State documents that refer to a shared key table (format version 2) instead of naming
/// their keys themselves.
@Suite("Binary state with a shared key table")
struct CodecKeyTableTests {
    struct SumCount: Codable, Equatable {
        var sum: Int
        var count: Int
    }

    struct Reading: Codable, Equatable {
        var sensor: String
        var values: [SumCount]
        var labels: [String: Int]
        var byHour: [Int: Double]
        var note: String?
    }

    static let reading = Reading(
        sensor: "s-17", values: [SumCount(sum: 12, count: 3), SumCount(sum: -4, count: 1)],
        labels: ["kitchen": 1, "roof": 2, "sum": 3], byHour: [7: 1.5, 8: -2], note: nil)

    @Test("a document leaves its field names to the table, keeps dictionary keys, and reads back")
    func roundTrip() throws {
        let table = BinaryStateKeyTable()
        let shared = try BinaryStateEncoder(keyTable: table).encode(Self.reading)
        let selfContained = try BinaryStateEncoder().encode(Self.reading)
        #expect(shared[0] == 2)
        #expect(selfContained[0] == 1)
        #expect(shared.count < selfContained.count)
        // Field names went into the table; the string dictionary's keys stayed in the document,
        // "sum" too, though the table has it as a field name.
        #expect(Set(table.allNames) == ["sensor", "values", "sum", "count", "labels", "byHour"])
        #expect(try BinaryStateDecoder(keyTable: table).decode(Reading.self, from: shared) == Self.reading)
        // A decoder with a table still reads self-contained documents.
        #expect(try BinaryStateDecoder(keyTable: table).decode(Reading.self, from: selfContained) == Self.reading)
        // Another encoder on the same table (as a later checkpoint's) writes the same bytes,
        // whatever it encoded before.
        let batch = BinaryStateBatchEncoder(keyTable: table)
        _ = try batch.encode(["sum": 1, "count": 2, "kitchen": 3])
        _ = try batch.encode(SumCount(sum: 1, count: 2))
        #expect(try batch.encode(Self.reading) == shared)
    }

    @Test("a key's state in the IoT job (one window, one timer) takes under half the bytes with a table")
    func iotStateSize() throws {
        typealias Stored = KeyActor<WindowAggregator<Int, Int, SumCount>>.Stored
        var state = WindowState<SumCount>()
        state.windows = [.init(start: 1_700_000_000_000, end: 1_700_000_010_000, accumulator: SumCount(sum: 412, count: 61))]
        let stored = Stored(
            timers: [ProcessorTimer(time: EventTime(millisecondsSinceEpoch: 1_700_000_010_000), domain: .eventTime)], state: state)
        let table = BinaryStateKeyTable()
        let selfContained = try BinaryStateEncoder().encode(stored)
        let shared = try BinaryStateEncoder(keyTable: table).encode(stored)
        #expect(shared.count * 2 < selfContained.count, "\(shared.count) bytes with the table, \(selfContained.count) without")
        let decoded = try BinaryStateDecoder(keyTable: table).decode(Stored.self, from: shared)
        #expect(decoded.timers == stored.timers)
        #expect(decoded.state.windows.map(\.accumulator) == [SumCount(sum: 412, count: 61)])
    }

    @Test("a table made from saved names decodes what the first table encoded")
    func savedNames() throws {
        let table = BinaryStateKeyTable()
        let bytes = try BinaryStateEncoder(keyTable: table).encode(Self.reading)
        let reloaded = try BinaryStateKeyTable(names: table.allNames)
        #expect(try BinaryStateDecoder(keyTable: reloaded).decode(Reading.self, from: bytes) == Self.reading)
        #expect(reloaded.names(from: 2) == table.allNames[2...])
        #expect(throws: SluiceError.self) { try BinaryStateKeyTable(names: ["a", "b", "a"]) }
    }

    @Test("without its table, or with a table that lacks its names, a document fails with a clear error")
    func missingTable() throws {
        let table = BinaryStateKeyTable()
        let bytes = try BinaryStateEncoder(keyTable: table).encode(Self.reading)
        let noTable = #expect(throws: SluiceError.self) { try BinaryStateDecoder().decode(Reading.self, from: bytes) }
        #expect(noTable?.message.contains("shared key table") == true)
        let short = try BinaryStateKeyTable(names: Array(table.allNames.prefix(1)))
        let shortTable = #expect(throws: SluiceError.self) { try BinaryStateDecoder(keyTable: short).decode(Reading.self, from: bytes) }
        #expect(shortTable?.message.contains("outside the shared key table (1 names)") == true)
    }

    /// A type with more field names than a full table leaves room for.
    struct Wide: Codable, Equatable {
        var values: [String: Int]
        init(_ count: Int) {
            values = Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", $0) })
        }
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        // Encodes the dictionary's entries as fields of its own key type, which the table takes.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (name, value) in values { try container.encode(value, forKey: Key(stringValue: name)) }
        }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            values = [:]
            for key in container.allKeys { values[key.stringValue] = try container.decode(Int.self, forKey: key) }
        }
    }

    @Test("once the table is full, names it holds are still found in it")
    func namesInAFullTable() throws {
        let fillers = (0..<(BinaryStateKeyTable.capacity - 2)).map { "filler\($0)" }
        let table = try BinaryStateKeyTable(names: fillers + ["sum", "count"])
        let fresh = try BinaryStateEncoder(keyTable: table).encode(SumCount(sum: 5, count: 6))
        let batch = BinaryStateBatchEncoder(keyTable: table)
        // A name the full table does not have, first: it stays in its document.
        var unknown = Wide(0)
        unknown.values["unknown"] = 1
        #expect(try BinaryStateDecoder(keyTable: table).decode(Wide.self, from: try batch.encode(unknown)) == unknown)
        #expect(try batch.encode(SumCount(sum: 5, count: 6)) == fresh)
        #expect(fresh.count < (try BinaryStateEncoder().encode(SumCount(sum: 5, count: 6))).count)
        #expect(table.count == BinaryStateKeyTable.capacity)
    }

    @Test("names past the table's capacity stay in their document")
    func fullTable() throws {
        let table = BinaryStateKeyTable()
        let first = Wide(BinaryStateKeyTable.capacity - 10)
        let second = Wide(BinaryStateKeyTable.capacity + 40)
        let encoder = BinaryStateBatchEncoder(keyTable: table)
        let firstBytes = try encoder.encode(first)
        let secondBytes = try encoder.encode(second)
        #expect(table.count == BinaryStateKeyTable.capacity)
        let decoder = BinaryStateDecoder(keyTable: table)
        #expect(try decoder.decode(Wide.self, from: firstBytes) == first)
        #expect(try decoder.decode(Wide.self, from: secondBytes) == second)
    }
}
