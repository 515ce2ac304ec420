import Foundation
import PropertyBased
import Sluice
import SluiceTesting
import Testing

/// A deterministic generator for the random values the codec property tests build.
struct CodecRandom {
    private var source: SplitMix64
    init(seed: UInt64) { source = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { source.next() }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func bool() -> Bool { next() & 1 == 1 }
    /// Mostly small values, sometimes the extremes.
    mutating func int64() -> Int64 {
        switch next() % 4 {
        case 0: Int64(int(-300...300))
        case 1: [Int64.min, Int64.max, 0, -1][int(0...3)]
        default: Int64(bitPattern: next())
        }
    }
    mutating func double() -> Double {
        switch next() % 5 {
        case 0: Double(int(-1000...1000)) / 4
        case 1: [0.1, -0.0, .pi, 1e300, -Double.leastNonzeroMagnitude, .greatestFiniteMagnitude][int(0...5)]
        default: Double(bitPattern: next() & 0x7FEF_FFFF_FFFF_FFFF) * (bool() ? 1 : -1)
        }
    }
    mutating func string() -> String {
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "é", "☃", "😀", "\u{7F}"]
        return String((0..<int(0...12)).map { _ in alphabet[int(0...alphabet.count - 1)] })
    }
}

struct SumCount: Codable, Equatable, Sendable {
    var sum: Int64
    var count: Int
}

indirect enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(width: Int, height: Int)
    case labelled(String, Shape?)
    case empty
}

struct Everything: Codable, Equatable {
    var int8: Int8
    var int16: Int16
    var int32: Int32
    var int64: Int64
    var uint8: UInt8
    var uint16: UInt16
    var uint32: UInt32
    var uint64: UInt64
    var int: Int
    var uint: UInt
    var bool: Bool
    var double: Double
    var float: Float
    var string: String
    var optional: Int?
    var optionalString: String?
    var list: [Int]
    var nestedLists: [[String]]
    var optionals: [Double?]
    var byString: [String: SumCount]
    var byInt: [Int: String]
    var byInt64: [Int64: SumCount]
    var shape: Shape
    var shapes: [Shape]

    init(_ r: inout CodecRandom) {
        int8 = Int8(truncatingIfNeeded: r.next())
        int16 = Int16(truncatingIfNeeded: r.next())
        int32 = Int32(truncatingIfNeeded: r.next())
        int64 = r.int64()
        uint8 = UInt8(truncatingIfNeeded: r.next())
        uint16 = UInt16(truncatingIfNeeded: r.next())
        uint32 = UInt32(truncatingIfNeeded: r.next())
        uint64 = r.bool() ? r.next() : UInt64(r.int(0...200))
        int = Int(r.int64())
        uint = UInt(r.next() >> UInt64(r.int(0...63)))
        bool = r.bool()
        double = r.double()
        float = Float(r.double())
        string = r.string()
        optional = r.bool() ? Int(r.int64()) : nil
        optionalString = r.bool() ? r.string() : nil
        list = (0..<r.int(0...5)).map { _ in Int(r.int64()) }
        nestedLists = (0..<r.int(0...3)).map { _ in (0..<r.int(0...3)).map { _ in r.string() } }
        optionals = (0..<r.int(0...4)).map { _ in r.bool() ? r.double() : nil }
        byString = Dictionary((0..<r.int(0...4)).map { _ in (r.string(), SumCount(sum: r.int64(), count: r.int(0...9))) }) { a, _ in a }
        byInt = Dictionary((0..<r.int(0...4)).map { _ in (Int(r.int64()), r.string()) }) { a, _ in a }
        byInt64 = Dictionary((0..<r.int(0...4)).map { _ in (r.int64(), SumCount(sum: r.int64(), count: r.int(0...9))) }) { a, _ in a }
        shape = Everything.shape(&r, depth: 0)
        shapes = (0..<r.int(0...3)).map { _ in Everything.shape(&r, depth: 0) }
    }

    static func shape(_ r: inout CodecRandom, depth: Int) -> Shape {
        switch r.int(0...3) {
        case 0: .circle(radius: r.double())
        case 1: .rectangle(width: r.int(-5...5), height: Int(r.int64()))
        case 2 where depth < 3: .labelled(r.string(), r.bool() ? shape(&r, depth: depth + 1) : nil)
        default: .empty
        }
    }
}

/// A class hierarchy that uses `superEncoder` and nested containers by hand.
class Base: Codable, Equatable {
    var name: String
    init(name: String) { self.name = name }
    static func == (a: Base, b: Base) -> Bool { a.name == b.name }
}

final class Derived: Base {
    var point: (x: Int, y: Int)
    var tags: [String]
    enum CodingKeys: String, CodingKey { case point, tags, x, y }

    init(name: String, point: (Int, Int), tags: [String]) {
        self.point = point
        self.tags = tags
        super.init(name: name)
    }

    required init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var tagList = try c.nestedUnkeyedContainer(forKey: .tags)
        var tags: [String] = []
        while !tagList.isAtEnd { tags.append(try tagList.decode(String.self)) }
        self.tags = tags
        let p = try c.nestedContainer(keyedBy: CodingKeys.self, forKey: .point)
        point = (try p.decode(Int.self, forKey: .x), try p.decode(Int.self, forKey: .y))
        try super.init(from: c.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var p = c.nestedContainer(keyedBy: CodingKeys.self, forKey: .point)
        try p.encode(point.x, forKey: .x)
        try p.encode(point.y, forKey: .y)
        var tagList = c.nestedUnkeyedContainer(forKey: .tags)
        for tag in tags { try tagList.encode(tag) }
        try super.encode(to: c.superEncoder())
    }
}

@Suite("Codec: binary state encoding")
struct CodecBinaryTests {
    let encoder = BinaryStateEncoder()
    let decoder = BinaryStateDecoder()

    func roundTrip<T: Codable>(_ value: T) throws -> T {
        try decoder.decode(T.self, from: try encoder.encode(value))
    }

    @Test("Random values of every supported shape round-trip")
    func randomRoundTrip() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var r = CodecRandom(seed: seed)
            let value = Everything(&r)
            let bytes = try encoder.encode(value)
            #expect(try decoder.decode(Everything.self, from: bytes) == value)
            // The raw-buffer entry point agrees.
            #expect(try bytes.withUnsafeBytes { try decoder.decode(Everything.self, from: $0) } == value)
        }
    }

    @Test("Random integers of each width round-trip at top level")
    func integers() async {
        await propertyCheck(input: Gen.int(in: 0...100)) { n throws in
            var r = CodecRandom(seed: UInt64(n))
            let v = r.int64()
            #expect(try roundTrip(v) == v)
            #expect(try roundTrip(Int32(truncatingIfNeeded: v)) == Int32(truncatingIfNeeded: v))
            #expect(try roundTrip(UInt64(bitPattern: v)) == UInt64(bitPattern: v))
            #expect(try roundTrip(Int8(truncatingIfNeeded: v)) == Int8(truncatingIfNeeded: v))
        }
    }

    @Test("Special floating-point values keep their bits")
    func specialDoubles() throws {
        for d in [Double.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude] {
            #expect(try roundTrip(d).bitPattern == d.bitPattern)
            #expect(try roundTrip([d]).first?.bitPattern == d.bitPattern)
        }
        for f in [Float.nan, .infinity, -0.0, .leastNonzeroMagnitude] {
            #expect(try roundTrip(f).bitPattern == f.bitPattern)
        }
    }

    @Test("A small accumulator is a few bytes")
    func compact() throws {
        let bytes = try encoder.encode(SumCount(sum: 412, count: 10))
        // Version, key table ("sum", "count"), root header, length, two 1-byte headers with 2- and 1-byte varints.
        #expect(bytes.count == 1 + 1 + 4 + 6 + 1 + 1 + 3 + 2)
        // Key names are stored once however many entries use them.
        let state = Dictionary(uniqueKeysWithValues: (0..<100).map { (Int64($0), SumCount(sum: Int64($0), count: 1)) })
        let stateBytes = try encoder.encode(state)
        #expect(stateBytes.count < 100 * 10)
        #expect(try decoder.decode([Int64: SumCount].self, from: stateBytes) == state)
    }

    @Test("Keyed values decode in any order, and unknown or missing fields behave like JSONDecoder")
    func keyOrder() throws {
        struct Forward: Codable { var a: Int; var b: String; var c: Double }
        struct Backward: Codable, Equatable {
            var c: Double; var b: String; var a: Int
            init(from decoder: any Decoder) throws {
                let k = try decoder.container(keyedBy: CodingKeys.self)
                c = try k.decode(Double.self, forKey: .c)
                b = try k.decode(String.self, forKey: .b)
                a = try k.decode(Int.self, forKey: .a)
            }
        }
        struct Subset: Codable { var b: String; var z: Int? }
        let bytes = try encoder.encode(Forward(a: 1, b: "x", c: 2.5))
        let backward = try decoder.decode(Backward.self, from: bytes)
        #expect(backward.a == 1 && backward.b == "x" && backward.c == 2.5)
        let subset = try decoder.decode(Subset.self, from: bytes)
        #expect(subset.b == "x" && subset.z == nil)
    }

    @Test("Nested containers, super encoders and classes round-trip")
    func handWritten() throws {
        let value = Derived(name: "d", point: (3, -4), tags: ["a", "b"])
        let back = try roundTrip(value)
        #expect(back.name == "d" && back.point == (3, -4) && back.tags == ["a", "b"])
    }

    @Test("Optionals: nil is left out, encodeNil is kept, nested optionals survive")
    func optionals() throws {
        struct O: Codable, Equatable { var a: Int?; var b: [Int?]; var c: String?? }
        for value in [O(a: nil, b: [nil, 1], c: .some(nil)), O(a: 1, b: [], c: "x"), O(a: nil, b: [nil], c: nil)] {
            let back = try roundTrip(value)
            #expect(back.a == value.a && back.b == value.b)
        }
        #expect(try roundTrip(Int?.none) == nil)
        #expect(try roundTrip(Int?.some(5)) == 5)
    }

    @Test("Corrupt, truncated and mismatched state gives errors that say what and where")
    func errors() throws {
        let bytes = try encoder.encode(SumCount(sum: 412, count: 10))
        for cut in 0..<bytes.count {
            #expect(throws: SluiceError.self) { try decoder.decode(SumCount.self, from: Array(bytes.prefix(cut))) }
        }
        let truncated = try #require(throws: SluiceError.self) { try decoder.decode(SumCount.self, from: Array(bytes.dropLast())) }
        #expect(truncated.code == .decoding)
        #expect(truncated.message.contains("truncated"))

        var otherVersion = bytes
        otherVersion[0] = 9
        let version = try #require(throws: SluiceError.self) { try decoder.decode(SumCount.self, from: otherVersion) }
        #expect(version.message.contains("version 9"))

        struct Renamed: Codable { var sum: Int64; var total: Int }
        let missing = try #require(throws: SluiceError.self) { try decoder.decode(Renamed.self, from: bytes) }
        #expect(missing.message == "missing field 'total'")

        struct Retyped: Codable { var sum: String; var count: Int }
        let retyped = try #require(throws: SluiceError.self) { try decoder.decode(Retyped.self, from: bytes) }
        #expect(retyped.message.contains("expected String at 'sum'"))
        #expect(retyped.message.contains("found an integer"))

        let narrow = try #require(throws: SluiceError.self) { try decoder.decode(Int8.self, from: try encoder.encode(300)) }
        #expect(narrow.message.contains("does not fit in Int8"))

        let trailing = try #require(throws: SluiceError.self) { try decoder.decode(SumCount.self, from: bytes + [0]) }
        #expect(trailing.message.contains("unexpected bytes"))

        // A key table of one key whose length is UInt64.max: converting it to Int trapped.
        let hugeKey: [UInt8] = [1, 1] + Array(repeating: 0xFF, count: 9) + [0x01] + Array("sum".utf8)
        #expect(throws: SluiceError.self) { try decoder.decode(SumCount.self, from: hugeKey) }
    }

    @Test("Writing to a nested container after its parent continued throws instead of corrupting")
    func misuse() throws {
        struct Interleaved: Encodable {
            enum K: CodingKey { case a, b, x }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                var a = c.nestedContainer(keyedBy: K.self, forKey: .a)
                try c.encode(1, forKey: .b)
                try a.encode(2, forKey: .x)
            }
        }
        let error = try #require(throws: SluiceError.self) { try encoder.encode(Interleaved()) }
        #expect(error.code == .encoding)
    }

    /// The engine reordered a stored type's fields once (`KeyActor.Stored`); old states must still load.
    @Test("fields are matched by name, so states written before a field reorder still decode")
    func reorderedFieldsDecode() throws {
        struct Before: Codable { var state: [Int]; var timers: [String] }
        struct After: Codable, Equatable { var timers: [String]; var state: [Int] }
        let bytes = try BinaryStateEncoder().encode(Before(state: [1, 2, 3], timers: ["t1", "t2"]))
        #expect(try BinaryStateDecoder().decode(After.self, from: bytes) == After(timers: ["t1", "t2"], state: [1, 2, 3]))
    }
}
