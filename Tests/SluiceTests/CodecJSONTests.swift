import Foundation
import PropertyBased
import Sluice
import Testing

struct Reading: Codable, Equatable {
    let id: Int
    let time: Double
    let value: Int
}

/// A random model with the kinds of fields input records have.
struct Record: Codable, Equatable {
    var id: Int
    var time: Double
    var name: String
    var flag: Bool
    var small: Int16
    var big: UInt64
    var note: String?
    var scores: [Double]
    var tags: [String: Int]
    var nested: [Reading]
    var maybe: Reading?

    init(_ r: inout CodecRandom) {
        id = Int(r.int64())
        time = r.double()
        name = r.string()
        flag = r.bool()
        small = Int16(truncatingIfNeeded: r.next())
        big = r.bool() ? r.next() : UInt64(r.int(0...9))
        note = r.bool() ? r.string() : nil
        scores = (0..<r.int(0...4)).map { _ in r.double() }
        tags = Dictionary((0..<r.int(0...3)).map { _ in (r.string(), r.int(-9...9)) }) { a, _ in a }
        nested = (0..<r.int(0...2)).map { _ in Reading(id: r.int(0...99), time: r.double(), value: Int(r.int64())) }
        maybe = r.bool() ? Reading(id: 1, time: 2, value: 3) : nil
    }
}

@Suite("Codec: JSON")
struct CodecJSONTests {
    let fast = FastJSONDecoder()
    let encoder = FastJSONEncoder()

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try fast.decode(type, from: Array(text.utf8))
    }

    func error<T: Decodable>(_ type: T.Type, _ text: String) throws -> SluiceError {
        let error = try #require(throws: SluiceError.self) { try decode(type, text) }
        #expect(error.code == .decoding)
        return error
    }

    @Test("A reading decodes with its synthesized init, whatever the key order and whitespace")
    func reading() throws {
        #expect(try decode(Reading.self, #"{"id": 17, "time": 1700000000.25, "value": 7}"#) == Reading(id: 17, time: 1700000000.25, value: 7))
        #expect(try decode(Reading.self, " \n{\"value\":-7,\t\"time\":1.5e3,\r\n\"id\":0} ") == Reading(id: 0, time: 1500, value: -7))
        let text = #"{"id": 1, "time": 2, "value": 3}"#
        #expect(try text.utf8.withContiguousStorageIfAvailable { try fast.decode(Reading.self, from: UnsafeRawBufferPointer($0)) } == Reading(id: 1, time: 2, value: 3))
    }

    @Test("Unknown keys are ignored, the last duplicate wins, null and absence give nil")
    func semantics() throws {
        #expect(try decode(Reading.self, #"{"x": {"deep": [1, {"y": null}]}, "id": 1, "time": 2, "value": 3, "z": "s"}"#) == Reading(id: 1, time: 2, value: 3))
        #expect(try decode(Reading.self, #"{"id": 1, "time": 2, "value": 3, "id": 9}"#).id == 9)
        struct O: Codable { var a: Int?; var b: String? }
        let o = try decode(O.self, #"{"a": null}"#)
        #expect(o.a == nil && o.b == nil)
        #expect(try decode([Int?].self, "[1, null, 3]") == [1, nil, 3])
        #expect(try decode([String: [Int]].self, #"{"a": [], "b": [1]}"#) == ["a": [], "b": [1]])
        #expect(try decode([Int: String].self, #"{"5": "five", "-1": "m"}"#) == [5: "five", -1: "m"])
        #expect(try decode(Bool.self, "true") && !(try decode(Bool.self, " false ")))
    }

    @Test("Strings unescape, including surrogate pairs")
    func strings() throws {
        #expect(try decode(String.self, #""a\"b\\c\/d\n\t\r\b\f""#) == "a\"b\\c/d\n\t\r\u{08}\u{0C}")
        #expect(try decode(String.self, #""\u00e9\u2603\ud83d\ude00 é""#) == "é☃😀 é")
        #expect(try decode([String: Int].self, #"{"k\u00e9y": 1}"#) == ["kéy": 1])
        struct K: Codable { var kéy: Int }
        #expect(try decode(K.self, #"{"k\u00e9y": 4}"#).kéy == 4)
        #expect(try error(String.self, #""\ud83d""#).message.contains("unpaired surrogate"))
        #expect(try error(String.self, "\"a\u{01}b\"").message.contains("control characters"))
    }

    @Test("Numbers: integers, negatives, fractions, exponents, whole numbers written as decimals")
    func numbers() throws {
        #expect(try decode([Double].self, "[0, -0.5, 1e3, 1E-2, 2.5e+2, 123456789012345678901234567890, 5e-324, 0.1]")
            == [0, -0.5, 1000, 0.01, 250, Double("123456789012345678901234567890")!, .leastNonzeroMagnitude, 0.1])
        #expect(try decode([Int].self, "[0, -1, 9223372036854775807, -9223372036854775808, 17.0, 1e2]")
            == [0, -1, .max, .min, 17, 100])
        #expect(try decode(UInt64.self, "18446744073709551615") == .max)
        #expect(try decode(Int8.self, "-128") == -128)
    }

    @Test("Numbers at the edges: 20 significant digits, whole numbers past 2^53 written as decimals, Float's range, -2^63 encoded")
    func numberEdges() throws {
        // 2^64 and its neighbours wrapped the fast path's 64-bit mantissa to 0.
        #expect(try decode([Double].self, "[18446744073709551616, -18446744073709551616, 1.8446744073709551616e19, 36893488147419103232]")
            == [18446744073709551616.0, -18446744073709551616.0, 18446744073709551616.0, 36893488147419103232.0])
        // Past 2^52 a Double holds no fraction: wholeness and the value come from the text.
        #expect(try error(Int.self, "9007199254740993.5").message.contains("expected an integer"))
        #expect(try decode(Int64.self, "9007199254740993.0") == 9_007_199_254_740_993)
        #expect(try decode([Int].self, "[1.50e1, 150e-1, 0.0, -0.0e5, 9.223372036854775807e18]") == [15, 15, 0, 0, .max])
        #expect(try decode(UInt64.self, "1.8446744073709551615e19") == .max)
        #expect(try error(Int.self, "1.55e1").message.contains("expected an integer"))
        #expect(try error(Int.self, "1e19").message.contains("does not fit"))
        #expect(try error(UInt64.self, "-1.0").message.contains("does not fit"))
        // Float(1e39) is infinity.
        #expect(try error(Float.self, "1e39").message.contains("does not fit in Float"))
        #expect(try error([Float].self, "[1, -1e39]").message.contains("does not fit in Float"))
        #expect(try decode(Float.self, "3.5") == 3.5)
        // abs(Int64.min) trapped.
        let minimum = -9_223_372_036_854_775_808.0
        #expect(try decode(Double.self, String(decoding: try FastJSONEncoder().encode(minimum), as: UTF8.self)) == minimum)
        #expect(try decode(Float.self, String(decoding: try FastJSONEncoder().encode(Float(minimum)), as: UTF8.self)) == Float(minimum))
    }

    @Test("Malformed input and mismatched models give errors that say what and where")
    func errors() throws {
        #expect(try error(Reading.self, "hello").message == "input is not JSON: unexpected byte 0x68 ('h') at offset 0, expected a value")
        #expect(try error(Reading.self, "").message.contains("empty"))
        #expect(try error(Reading.self, #"{"id": 1, "time": 2, "value": 3"#).message.contains("truncated"))
        #expect(try error(Reading.self, #"{"id": 1, "time": 2, "value": 3}x"#).message.contains("after the end of the value"))
        #expect(try error(Reading.self, #"{"id": 1, "time": 2, "value": 3,}"#).message.contains("expected a key in quotes"))
        #expect(try error(Reading.self, #"{"id": 01}"#).message.contains("offset 8"))
        #expect(try error(Reading.self, #"{"id": 1, "value": 3}"#).message == "missing field 'time'")
        #expect(try error(Reading.self, #"{"id": 1, "time": "soon", "value": 3}"#).message
            == #"expected a number for 'time' at byte 18, found a string "soon""#)
        #expect(try error(Reading.self, #"{"id": 1.5, "time": 2, "value": 3}"#).message
            == "expected an integer for 'id' at byte 7, found 1.5")
        #expect(try error(Reading.self, #"{"id": 99999999999999999999, "time": 2, "value": 3}"#).message
            == "number 99999999999999999999 for 'id' at byte 7 does not fit in Int")
        #expect(try error(Int8.self, "200").message.contains("does not fit in Int8"))
        #expect(try error(UInt.self, "-1").message.contains("does not fit in UInt"))
        #expect(try error(Double.self, "1e400").message.contains("not representable"))
        #expect(try error([Reading].self, #"[{"id": 1, "time": 2, "value": true}]"#).message
            == "expected an integer for '[0].value' at byte 31, found a boolean")
        #expect(try error(Reading.self, "[]").message.contains("expected an object"))
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(try error([Int].self, deep).message.contains("deeper than 512"))
        for cut in 1..<30 {
            #expect(throws: SluiceError.self) { try decode(Reading.self, String(#"{"id": 17, "time": 1.25, "value": 7}"#.prefix(cut))) }
        }
    }

    @Test("FastJSONDecoder agrees with JSONDecoder on random records")
    func agreesWithFoundation() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var r = CodecRandom(seed: seed)
            let record = Record(&r)
            let text = try JSONEncoder().encode(record)
            let expected = try JSONDecoder().decode(Record.self, from: text)
            #expect(try fast.decode(Record.self, from: Array(text)) == expected)
            #expect(expected == record)
        }
    }

    @Test("FastJSONDecoder agrees with JSONDecoder on random JSON text, valid or not")
    func randomText() async {
        struct Loose: Codable, Equatable { var a: Int?; var b: [Double]?; var c: String?; var d: Bool? }
        let pieces = ["{", "}", "[", "]", ",", ":", "\"a\"", "\"b\"", "\"c\"", "\"d\"", "1", "-2.5", "1e2", "true", "null", "\"x\\n\"", " ", "0x", "\"\\u00e9\""]
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var r = CodecRandom(seed: seed)
            // Half the texts are well-formed objects, half random token soup.
            let text: String
            if r.bool() {
                let members = (0..<r.int(0...4)).map { _ -> String in
                    let key = ["a", "b", "c", "d", "e"][r.int(0...4)]
                    let value = ["1", "-7", "2.0", "[1, 2.5]", "[]", "\"s\"", "true", "null", "{\"q\": [1]}"][r.int(0...8)]
                    return "\"\(key)\": \(value)"
                }
                // JSONDecoder keeps the first of duplicate keys where FastJSONDecoder keeps the last; compare unique keys.
                var seen = Set<String>()
                text = "{" + members.filter { seen.insert(String($0.prefix(3))).inserted }.joined(separator: ", ") + "}"
            } else {
                text = (0..<r.int(1...8)).map { _ in pieces[r.int(0...pieces.count - 1)] }.joined()
            }
            let expected = try? JSONDecoder().decode(Loose.self, from: Data(text.utf8))
            let actual = try? fast.decode(Loose.self, from: Array(text.utf8))
            #expect(actual == expected, "\(text)")
        }
    }

    @Test("FastJSONEncoder writes compact JSON in encoding order that JSONDecoder reads back")
    func encoder() async throws {
        struct Result: Codable, Equatable {
            let id: Int; let window_start: Int; let window_end: Int; let sum: Int; let count: Int
            var mean: Double? = nil
        }
        let result = Result(id: 17, window_start: 1700000000, window_end: 1700000010, sum: 412, count: 10)
        #expect(String(decoding: try encoder.encode(result), as: UTF8.self)
            == #"{"id":17,"window_start":1700000000,"window_end":1700000010,"sum":412,"count":10}"#)
        #expect(String(decoding: try encoder.encode([1.0, 0.1, -0.0, 1e20, 2.5]), as: UTF8.self) == "[1,0.1,-0.0,1e+20,2.5]")
        #expect(String(decoding: try encoder.encode("q\"\\\n\u{01}é"), as: UTF8.self) == #""q\"\\\n\u0001é""#)
        let infinity = try #require(throws: SluiceError.self) { try encoder.encode([Double.infinity]) }
        #expect(infinity.code == .encoding)

        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var r = CodecRandom(seed: seed)
            let record = Record(&r)
            let bytes = try encoder.encode(record)
            #expect(try JSONDecoder().decode(Record.self, from: Data(bytes)) == record)
            #expect(try fast.decode(Record.self, from: bytes) == record)
            let value = Everything(&r)
            if value.double.isFinite && value.float.isFinite && value.optionals.allSatisfy({ $0?.isFinite ?? true }) {
                let everything = try encoder.encode(value)
                #expect(try JSONDecoder().decode(Everything.self, from: Data(everything)) == value)
            }
        }
    }
}
