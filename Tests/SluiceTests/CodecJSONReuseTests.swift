import Sluice
import Testing

/// `FastJSONDecoder` reuses one reader and token buffer per thread: these tests check that reuse
/// never leaks state from one call into another.
@Suite("Codec: JSON reader reuse")
struct CodecJSONReuseTests {
    let fast = FastJSONDecoder()

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try fast.decode(type, from: Array(text.utf8))
    }

    /// A model whose `init(from:)` decodes JSON embedded in one of its fields with a second
    /// `FastJSONDecoder` call, between reading its own fields.
    struct Envelope: Decodable, Equatable {
        let before: Int
        let inner: Reading
        let after: String

        enum CodingKeys: String, CodingKey { case before, inner, after }

        init(before: Int, inner: Reading, after: String) {
            self.before = before
            self.inner = inner
            self.after = after
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            before = try container.decode(Int.self, forKey: .before)
            let text = try container.decode(String.self, forKey: .inner)
            inner = try FastJSONDecoder().decode(Reading.self, from: Array(text.utf8))
            after = try container.decode(String.self, forKey: .after)
        }
    }

    @Test("A model's init(from:) may decode JSON itself without disturbing the outer run")
    func nested() throws {
        let text = #"{"before": 1, "inner": "{\"id\": 2, \"time\": 3.5, \"value\": 4, \"pad\": [1, 2, 3, 4, 5]}", "after": "x"}"#
        #expect(try decode(Envelope.self, text) == Envelope(before: 1, inner: Reading(id: 2, time: 3.5, value: 4), after: "x"))
        #expect(try decode([Envelope].self, "[\(text), \(text)]").count == 2)
        // The outer run's errors still name the outer path and the thread's reader is usable afterwards.
        let error = try #require(throws: SluiceError.self) {
            try decode(Envelope.self, #"{"before": 1, "inner": "{\"id\": true}", "after": "x"}"#)
        }
        #expect(error.message.contains("'id'"))
        #expect(try decode(Reading.self, #"{"id": 5, "time": 6, "value": 7}"#) == Reading(id: 5, time: 6, value: 7))
    }

    @Test("Large and small documents alternate, and errors leave the reader reusable")
    func sizesAndErrors() throws {
        let big = (0..<20_000).map { $0 }
        let bigText = "[" + big.map(String.init).joined(separator: ",") + "]"
        for _ in 0..<2 {
            #expect(try decode([Int].self, bigText) == big)
            #expect(try decode(Reading.self, #"{"id": 1, "time": 2, "value": 3}"#) == Reading(id: 1, time: 2, value: 3))
            #expect(throws: SluiceError.self) { try decode(Reading.self, #"{"id": 1, "time": 2, "value": [}"#) }
            #expect(throws: SluiceError.self) { try decode(Reading.self, #"{"id": 1, "value": 3}"#) }
            #expect(try decode([String: [Int]].self, #"{"a": [1], "a": [2]}"#) == ["a": [2]])
            #expect(try decode(Reading.self, #"{"value": 3, "id": 1, "time": 2}"#) == Reading(id: 1, time: 2, value: 3))
        }
    }

    @Test("Decoded strings do not alias the reader's buffers")
    func stringsAreCopies() throws {
        struct Named: Decodable { let name: String }
        let first = try decode(Named.self, #"{"name": "caf\u00e9 one"}"#)
        let second = try decode(Named.self, #"{"name": "tea\n two"}"#)
        let plain = try decode(Named.self, #"{"name": "plain three"}"#)
        _ = try decode(Named.self, #"{"name": "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#)
        #expect(first.name == "café one" && second.name == "tea\n two" && plain.name == "plain three")
    }

    @Test("Many tasks decode concurrently, each getting its own records back")
    func concurrent() async throws {
        let decoder = FastJSONDecoder()
        let sums = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for task in 0..<8 {
                group.addTask {
                    var sum = 0
                    for i in 0..<2_000 {
                        let id = task * 100_000 + i
                        let pad = String(repeating: " ", count: i % 50)
                        let bytes = Array(#"{"id": \#(id),\#(pad) "time": \#(i).5, "value": \#(i % 7)}"#.utf8)
                        let reading = try decoder.decode(Reading.self, from: bytes)
                        guard reading.id == id, reading.time == Double(i) + 0.5 else { return (task, -1) }
                        sum += reading.value
                    }
                    return (task, sum)
                }
            }
            var sums: [Int: Int] = [:]
            for try await (task, sum) in group { sums[task] = sum }
            return sums
        }
        let expected = (0..<2_000).reduce(0) { $0 + $1 % 7 }
        #expect(sums.count == 8 && sums.values.allSatisfy { $0 == expected })
    }
}
