import Sluice
import SluiceTesting
import Testing

@Suite("Codec: JSON object fields")
struct CodecJSONObjectFieldsTests {
    let decoder = FastJSONDecoder()

    func read<T>(_ text: String, _ body: (JSONObjectFields) throws -> T) throws -> T {
        try Array(text.utf8).withUnsafeBytes { try decoder.withObject(in: $0, body) }
    }

    func reading(_ text: String) throws -> Reading {
        try read(text) { Reading(id: try $0.int("id"), time: try $0.double("time"), value: try $0.int("value")) }
    }

    func error<T>(_ text: String, _ body: (JSONObjectFields) throws -> T) throws -> SluiceError {
        let error = try #require(throws: SluiceError.self) { try read(text, body) }
        #expect(error.code == .decoding)
        return error
    }

    @Test("A reading's fields read by name, whatever the key order and whitespace, as Codable decodes them")
    func readingFields() throws {
        let texts = [
            #"{"id": 17, "time": 1700000000.25, "value": 7}"#,
            " \n{\"value\":-7,\t\"time\":1.5e3,\r\n\"id\":0} ",
            #"{"extra": [1, {"id": 99}], "id": 3, "time": -0.5, "value": 17.0, "more": null}"#,
        ]
        for text in texts {
            #expect(try reading(text) == decoder.decode(Reading.self, from: Array(text.utf8)), "\(text)")
        }
        #expect(try reading(#"{"id": 17, "time": 1700000000.25, "value": 7}"#) == Reading(id: 17, time: 1700000000.25, value: 7))
    }

    @Test("Random records read field by field agree with their Codable decoding")
    func randomRecordsAgreeWithCodable() throws {
        var random = CodecRandom(seed: 0x0B1E_C7F1_E1D5)
        let encoder = FastJSONEncoder()
        for _ in 0..<300 {
            let record = Record(&random)
            let bytes = try encoder.encode(record)
            let expected = try decoder.decode(Record.self, from: bytes)
            let read = try bytes.withUnsafeBytes { raw in
                try decoder.withObject(in: raw) { fields -> Record in
                    var copy = expected
                    copy.id = try fields.int("id")
                    copy.time = try fields.double("time")
                    copy.name = try fields.string("name")
                    copy.flag = try fields.bool("flag")
                    copy.small = Int16(try fields.int("small"))
                    copy.big = try fields.decode(UInt64.self, "big")
                    copy.note = fields.isAbsentOrNull("note") ? nil : try fields.string("note")
                    copy.scores = try fields.decode([Double].self, "scores")
                    copy.tags = try fields.decode([String: Int].self, "tags")
                    copy.nested = try fields.decode([Reading].self, "nested")
                    copy.maybe = fields.isAbsentOrNull("maybe") ? nil : try fields.decode(Reading.self, "maybe")
                    return copy
                }
            }
            #expect(read == expected)
            #expect(read.id == record.id && read.name == record.name && read.big == record.big)
        }
    }

    @Test("Escaped keys match, the last of duplicate keys wins, and presence is reported")
    func keysAndPresence() throws {
        #expect(try read(#"{"i\u0064": 5}"#) { try $0.int("id") } == 5)
        #expect(try read(#"{"id": 1, "id": 2}"#) { try $0.int("id") } == 2)
        #expect(try read(#"{"id": 1, "i\u0064": 2}"#) { try $0.int("id") } == 2)
        #expect(try read(#"{"\u00e9": 3}"#) { try $0.int("é") } == 3)
        let presence = try read(#"{"a": null, "b": 0}"#) { fields in
            [fields.contains("a"), fields.contains("b"), fields.contains("c"), fields.isAbsentOrNull("a"), fields.isAbsentOrNull("b"),
             fields.isAbsentOrNull("c")]
        }
        #expect(presence == [true, true, false, true, false, true])
        #expect(try read(#"{"big": 9223372036854775807, "neg": -9223372036854775808}"#) { [try $0.int64("big"), try $0.int64("neg")] }
            == [Int64.max, Int64.min])
        #expect(try read(#"{"s": "a\"b\\c\u00e9"}"#) { try $0.string("s") } == "a\"b\\cé")
    }

    @Test("Fields read inside another object's reading leave the outer object's fields readable")
    func nested() throws {
        let inner = Array(#"{"id": 9, "time": 1, "value": 2}"#.utf8)
        let (outer, nested) = try read(#"{"id": 1, "time": 2.5, "value": 3}"#) { fields in
            let nested = try inner.withUnsafeBytes { bytes in
                try decoder.withObject(in: bytes) { Reading(id: try $0.int("id"), time: try $0.double("time"), value: try $0.int("value")) }
            }
            let decoded = try inner.withUnsafeBytes { try decoder.decode(Reading.self, from: $0) }
            #expect(decoded == nested)
            return (Reading(id: try fields.int("id"), time: try fields.double("time"), value: try fields.int("value")), nested)
        }
        #expect(outer == Reading(id: 1, time: 2.5, value: 3))
        #expect(nested == Reading(id: 9, time: 1, value: 2))
    }

    @Test("A missing field, a wrong type, an overflow and text that is not an object each give an error naming what is wrong")
    func errors() throws {
        let missing = try error(#"{"id": 1, "value": 2}"#) { try $0.double("time") }
        #expect(missing.message.contains("missing field 'time'"), "\(missing.message)")
        let wrongType = try error(#"{"id": "seventeen"}"#) { try $0.int("id") }
        #expect(wrongType.message.contains("'id'") && wrongType.message.contains("byte 7"), "\(wrongType.message)")
        let fraction = try error(#"{"id": 1.5}"#) { try $0.int("id") }
        #expect(fraction.message.contains("expected an integer for 'id'"), "\(fraction.message)")
        let overflow = try error(#"{"id": 1e30}"#) { try $0.int("id") }
        #expect(overflow.message.contains("'id'") && overflow.message.contains("does not fit"), "\(overflow.message)")
        let digits = try error(#"{"id": 9223372036854775808}"#) { try $0.int("id") }
        #expect(digits.message.contains("'id'") && digits.message.contains("does not fit"), "\(digits.message)")
        let null = try error(#"{"id": null}"#) { try $0.int("id") }
        #expect(null.message.contains("'id'") && null.message.contains("null"), "\(null.message)")
        let notObject = try error("[1, 2]") { try $0.int("id") }
        #expect(notObject.message.contains("expected an object"), "\(notObject.message)")
        let truncated = try error(#"{"id": 1, "#) { try $0.int("id") }
        #expect(truncated.message.contains("truncated"), "\(truncated.message)")
        let nested = try error(#"{"r": {"id": 1}}"#) { try $0.decode(Reading.self, "r") }
        #expect(nested.message.contains("time"), "\(nested.message)")
        let empty = try #require(throws: SluiceError.self) { try decoder.withObject(in: UnsafeRawBufferPointer(start: nil, count: 0)) { _ in 0 } }
        #expect(empty.message.contains("empty"))
    }

    @Test("A pipeline reading JSON objects dead-letters what does not read, with the reason, and processes the rest")
    func pipelineDeadLettersUnreadableRecords() async throws {
        let pipeline = Pipeline("fields")
            .source(MemorySource([]), readingJSONObject: { fields in
                KeyedReading(key: try fields.string("key"), time: try fields.int64("time"), value: try fields.int("value"), id: try fields.int("id"))
            })
            .eventTime { (reading: KeyedReading) -> EventTime in reading.eventTime }
            .watermarks(outOfOrderness: .zero, idleTimeout: nil)
            .key(by: \.key)
            .window(.tumbling(.seconds(10)))
            .aggregate(into: [Int](), { ids, reading in ids.append(reading.id) }, merge: { $0 += $1 })
            .deadLetters(to: .handler { _, _ in })
            .sink(MemorySink { _ in })
        let driver = try PipelineTestDriver(pipeline)
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 0))
        try await driver.send(Array(#"{"key": "a", "value": 1, "id": 7}"#.utf8))
        try await driver.send(Array("not json".utf8))
        try await driver.send(json: KeyedReading(key: "a", time: 3_000, id: 1))
        #expect(driver.deadLetters.map(\.record.offset) == [1, 2])
        let reasons = driver.deadLetters.map(\.reason)
        #expect(reasons.first?.contains("missing field 'time'") == true, "\(reasons)")
        #expect(reasons.last?.contains("not JSON") == true, "\(reasons)")
        try await driver.endOfInput()
        #expect(driver.takeOutputs().rows == [WindowRow(key: "a", start: 0, end: 10_000, ids: [0, 1])])
    }
}
