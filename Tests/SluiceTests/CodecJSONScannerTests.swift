import Sluice
import Testing

/// The scanner behind `FastJSONDecoder` has fast paths for the strings and numbers of flat
/// objects: these tests check that they validate as much as the general grammar does, and report
/// errors with the same words and offsets.
@Suite("Codec: JSON scanner")
struct CodecJSONScannerTests {
    let fast = FastJSONDecoder()

    /// Flat objects the way input records are written, plus variants with whitespace, escaped keys,
    /// every form of number and a nested value.
    static let documents = [
        #"{"id":17,"time":1700000000.25,"value":7}"#,
        " {\t\"id\" : -0 ,\n\"time\":\r1.5E+3, \"value\" :-7 } ",
        #"{"id":0,"time":-1.25e-2,"value":123456789012345678,"note":"a\"b\\c\u00e9","x":[1,{"y":null}],"b":true}"#,
        #"{"i\u0064":1,"time":2e2,"value":3,"s":"","":false}"#,
    ]

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try fast.decode(type, from: bytes)
    }

    func message(_ bytes: [UInt8]) throws -> String {
        let error = try #require(throws: SluiceError.self) { try decode(Reading.self, bytes) }
        #expect(error.code == .decoding)
        return error.message
    }

    @Test("The documents decode", arguments: documents)
    func valid(_ text: String) throws {
        let reading = try decode(Reading.self, Array(text.utf8))
        #expect(reading.id == 17 || reading.id == 0 || reading.id == 1)
    }

    @Test("A control byte anywhere in a document is rejected at its offset", arguments: documents)
    func controlByte(_ text: String) throws {
        let bytes = Array(text.utf8)
        // Inside a string, a number, a key or a literal, between tokens or after the value:
        // wherever the byte lands it is the first that breaks the grammar, so the error names it
        // and its offset.
        for i in bytes.indices {
            var broken = bytes
            broken[i] = 0x01
            #expect(try message(broken).hasPrefix("input is not JSON: unexpected byte 0x01 at offset \(i)"), "at \(i)")
        }
    }

    @Test("Every proper prefix of a document is rejected as truncated at its end", arguments: documents)
    func truncated(_ text: String) throws {
        let bytes = Array(text.utf8.reversed().drop { $0 == 0x20 }.reversed())  // a trailing space is no value
        for cut in 1..<bytes.count {
            #expect(try message(Array(bytes[..<cut])).hasPrefix("input is truncated: it ends at offset \(cut) while expecting "), "at \(cut)")
        }
    }

    @Test("Malformed strings, numbers and structure give the same messages as the general grammar")
    func messages() throws {
        let cases: [(String, String)] = [
            (#"{"id":-}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 7, expected a digit"),
            (#"{"id":1.}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 8, expected a digit after '.'"),
            (#"{"id":1.x}"#, "input is not JSON: unexpected byte 0x78 ('x') at offset 8, expected a digit after '.'"),
            (#"{"id":1e}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 8, expected a digit in the exponent"),
            (#"{"id":1e+}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 9, expected a digit in the exponent"),
            (#"{"id":01}"#, "input is not JSON: unexpected byte 0x31 ('1') at offset 7, expected ',' or '}'"),
            (#"{"id":+1}"#, "input is not JSON: unexpected byte 0x2B ('+') at offset 6, expected a value"),
            (#"{"id":.5}"#, "input is not JSON: unexpected byte 0x2E ('.') at offset 6, expected a value"),
            (#"{"id":"a\x"}"#, #"input is not JSON: unexpected byte 0x78 ('x') at offset 9, expected an escape character (one of " \ / b f n r t u)"#),
            (#"{"id":"\u00G0"}"#, #"input is not JSON: unexpected byte 0x47 ('G') at offset 11, expected a hex digit in a \u escape"#),
            (#"{"i"#, "input is truncated: it ends at offset 3 while expecting the end of a string that starts at offset 1"),
            (#"{"i\"#, "input is truncated: it ends at offset 4 while expecting an escape sequence"),
            (#"{"id\u00"#, #"input is truncated: it ends at offset 8 while expecting four hex digits after \u"#),
            (#"{"id" 1}"#, "input is not JSON: unexpected byte 0x31 ('1') at offset 6, expected ':' after a key"),
            (#"{"id":1 "time":2}"#, #"input is not JSON: unexpected byte 0x22 ('"') at offset 8, expected ',' or '}'"#),
            (#"{"id":1,}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 8, expected a key in quotes"),
            (#"{,}"#, "input is not JSON: unexpected byte 0x2C (',') at offset 1, expected a key in quotes"),
            (#"{"id":tru}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 9, expected 'true'"),
            (#"{"id":1}}"#, "input is not JSON: unexpected byte 0x7D ('}') at offset 8 after the end of the value"),
            (#"{"id":"#, "input is truncated: it ends at offset 6 while expecting a value"),
            (#"{"id""#, "input is truncated: it ends at offset 5 while expecting ':'"),
            (#"{"id":1"#, "input is truncated: it ends at offset 7 while expecting ',' or '}'"),
        ]
        for (text, expected) in cases {
            #expect(try message(Array(text.utf8)) == expected, "\(text)")
        }
    }

    @Test("Duplicate keys: the last wins, also when written with escapes; distinct keys never clash")
    func duplicates() throws {
        #expect(try decode(Reading.self, Array(#"{"id":1,"time":2,"value":3,"id":9}"#.utf8)).id == 9)
        #expect(try decode(Reading.self, Array(#"{"id":1,"time":2,"value":3,"i\u0064":8}"#.utf8)).id == 8)
        // Keys of one length with the same first and last byte share a Bloom filter bit.
        #expect(try decode(Reading.self, Array(#"{"ixd":5,"id":1,"iyd":6,"time":2,"value":3}"#.utf8)) == Reading(id: 1, time: 2, value: 3))
        let many = (0..<20).map { #""k\#($0)":\#($0),"# }.joined()
        #expect(try decode(Reading.self, Array(("{" + many + #""id":1,"time":2,"value":3,"id":4}"#).utf8)).id == 4)
    }

    @Test("Objects nest up to 512 levels")
    func depth() throws {
        // The whole document is scanned before anything is decoded, and "a" is not a field.
        struct Shallow: Decodable { let z: Int? }
        let ok = String(repeating: #"{"a":"#, count: 511) + #"{"b":1}"# + String(repeating: "}", count: 511)
        #expect(try fast.decode(Shallow.self, from: Array(ok.utf8)).z == nil)
        let deep = String(repeating: #"{"a":"#, count: 512) + #"{"b":1}"# + String(repeating: "}", count: 512)
        #expect(try message(Array(deep.utf8)) == "input nests arrays and objects deeper than 512 levels at offset 2560")
    }
}
