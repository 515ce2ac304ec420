import Testing

@testable import Sluice

/// The checkpoint's batch encoder reuses one writer; each document must still be the one
/// `BinaryStateEncoder` makes on its own (this target can see the internal type).
@Suite("Binary batch encoder")
struct BinaryBatchEncoderTests {
    struct Nested: Codable, Equatable {
        var name: String
        var values: [Int]
        var inner: [String: Double]
    }

    @Test("documents encoded one after another with one writer equal fresh encodings and decode back")
    func sameBytes() throws {
        let values = (0..<50).map { i in
            Nested(name: String(repeating: "k", count: i % 7), values: Array(0..<(i % 5)), inner: i % 3 == 0 ? [:] : ["a\(i)": Double(i)])
        }
        let batch = BinaryStateBatchEncoder()
        for value in values {
            let reused = try batch.encode(value)
            #expect(reused == (try BinaryStateEncoder().encode(value)))
            #expect(try BinaryStateDecoder().decode(Nested.self, from: reused) == value)
        }
        // A primitive after containers, and a container after a primitive.
        #expect(try batch.encode(42) == (try BinaryStateEncoder().encode(42)))
        #expect(try batch.encode(values[4]) == (try BinaryStateEncoder().encode(values[4])))
    }
}
