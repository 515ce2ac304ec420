import SluiceTesting
import Testing

@testable import Sluice

/// Key documents: values that compare equal encode as equal bytes, since a key's bytes find its
/// stored state while its actor is found by `==`.
@Suite("Canonical key encoding")
struct CodecCanonicalKeyTests {
    let keys = BinaryStateEncoder.keyEncoder
    let plain = BinaryStateEncoder()
    let decoder = BinaryStateDecoder()

    /// A set encoded as the value itself, through a single-value container.
    struct Tags: Codable, Hashable {
        var names: Set<String>

        init(names: Set<String>) { self.names = names }

        init(from decoder: any Decoder) throws {
            names = try decoder.singleValueContainer().decode(Set<String>.self)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(names)
        }
    }

    struct Composite: Codable, Hashable {
        var name: String
        var scale: Double
    }

    @Test("canonically equivalent strings, and 0.0 and -0.0, encode alike; both decode equal to the originals")
    func equalScalars() throws {
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)
        #expect(try plain.encode(composed) != plain.encode(decomposed), "the hazard: UTF-8 differs")
        #expect(try keys.encode(composed) == keys.encode(decomposed))
        // Stored in form C: the decoded key has the composed form's four scalars.
        #expect(try Array(decoder.decode(String.self, from: keys.encode(decomposed)).unicodeScalars) == Array(composed.unicodeScalars))

        #expect(try keys.encode(-0.0 as Double) == keys.encode(0.0 as Double))
        #expect(try keys.encode(-0.0 as Float) == keys.encode(0.0 as Float))
        let left = Composite(name: decomposed, scale: -0.0)
        let right = Composite(name: composed, scale: 0.0)
        #expect(left == right)
        #expect(try keys.encode(left) == keys.encode(right))
        #expect(try decoder.decode(Composite.self, from: keys.encode(left)) == right)
        // Only keys: state keeps the exact scalars and sign it was given.
        #expect(try decoder.decode(String.self, from: plain.encode(decomposed)).unicodeScalars.count == 5)
    }

    @Test("equal sets and dictionaries encode alike whatever their capacity (their iteration order); they decode equal")
    func unorderedCollections() throws {
        let names = (0..<40).map { "sensor-\($0)" }
        let small = Set(names)
        var large = Set<String>(minimumCapacity: 4_096)
        large.formUnion(names.reversed())
        #expect(small == large)
        #expect(Array(small) != Array(large), "the hazard: the iteration orders differ")
        #expect(try plain.encode(small) != plain.encode(large))
        #expect(try keys.encode(small) == keys.encode(large))
        #expect(try decoder.decode(Set<String>.self, from: keys.encode(large)) == small)

        let byName = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var byNameLarge = [String: Int](minimumCapacity: 4_096)
        for (index, name) in names.enumerated().reversed() { byNameLarge[name] = index }
        #expect(try plain.encode(byName) != plain.encode(byNameLarge))
        #expect(try keys.encode(byName) == keys.encode(byNameLarge))
        #expect(try decoder.decode([String: Int].self, from: keys.encode(byNameLarge)) == byName)

        let byNumber = Dictionary(uniqueKeysWithValues: (0..<40).map { ($0 * 7, "v\($0)") })
        var byNumberLarge = [Int: String](minimumCapacity: 4_096)
        for (key, value) in byNumber { byNumberLarge[key] = value }
        #expect(try plain.encode(byNumber) != plain.encode(byNumberLarge))
        #expect(try keys.encode(byNumber) == keys.encode(byNumberLarge))
        #expect(try decoder.decode([Int: String].self, from: keys.encode(byNumberLarge)) == byNumber)

        // Keys that are neither strings nor integers: Dictionary's key/value array.
        let byComposite = Dictionary(uniqueKeysWithValues: (0..<40).map { (Composite(name: "n\($0)", scale: Double($0)), $0) })
        var byCompositeLarge = [Composite: Int](minimumCapacity: 4_096)
        for (key, value) in byComposite { byCompositeLarge[key] = value }
        #expect(try plain.encode(byComposite) != plain.encode(byCompositeLarge))
        #expect(try keys.encode(byComposite) == keys.encode(byCompositeLarge))
        #expect(try decoder.decode([Composite: Int].self, from: keys.encode(byCompositeLarge)) == byComposite)

        // Nested: a set of sets.
        let nested: Set<Set<Int>> = [[1, 2, 3], [4, 5], [6]]
        var nestedLarge = Set<Set<Int>>(minimumCapacity: 1_024)
        for inner in nested {
            var grown = Set<Int>(minimumCapacity: 1_024)
            grown.formUnion(inner)
            nestedLarge.insert(grown)
        }
        #expect(try keys.encode(nested) == keys.encode(nestedLarge))

        // Wrapped: in an optional, and through a single-value container.
        let optional: Set<String>? = small
        let optionalLarge: Set<String>? = large
        #expect(try plain.encode(optional) != plain.encode(optionalLarge))
        #expect(try keys.encode(optional) == keys.encode(optionalLarge))
        #expect(try decoder.decode(Set<String>?.self, from: keys.encode(optionalLarge)) == small)
        #expect(try plain.encode(Tags(names: small)) != plain.encode(Tags(names: large)))
        #expect(try keys.encode(Tags(names: small)) == keys.encode(Tags(names: large)))
        #expect(try decoder.decode(Tags.self, from: keys.encode(Tags(names: large))) == Tags(names: small))

        // String keys that read as the same integer ("7", "07", "+7") are still ordered by name.
        let numeric = Dictionary(uniqueKeysWithValues: (0..<40).flatMap { ["\($0)", "0\($0)", "+\($0)"] }.enumerated().map { ($1, $0) })
        var numericLarge = [String: Int](minimumCapacity: 4_096)
        for (key, value) in numeric { numericLarge[key] = value }
        #expect(try plain.encode(numeric) != plain.encode(numericLarge))
        #expect(try keys.encode(numeric) == keys.encode(numericLarge))
    }

    @Test("a dictionary keyed by doubles that holds NaN encodes (NaN is never found by ==)")
    func nanDictionaryKey() throws {
        let values: [Double: Int] = [.nan: 1, 2.5: 2, -0.0: 3]
        let bytes = try keys.encode(values)
        let decoded = try decoder.decode([Double: Int].self, from: bytes)
        #expect(decoded.count == 3)
        #expect(decoded[2.5] == 2)
        #expect(decoded[0.0] == 3)
        #expect(decoded.first { $0.key.isNaN }?.value == 1)
    }

    @Test("a key written in one Unicode form after a restart finds the state the other form left")
    func restoredStateUnderEquivalentKey() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))), store: InMemoryCheckpointStore())
        try await driver.send(json: KeyedReading(key: "caf\u{E9}", time: 1_000, id: 1))
        try await driver.checkpoint()
        try driver.restart()
        try await driver.send(json: KeyedReading(key: "cafe\u{301}", time: 2_000, id: 2))
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "caf\u{E9}", start: 0, end: 10_000, ids: [1, 2])])
    }
}
