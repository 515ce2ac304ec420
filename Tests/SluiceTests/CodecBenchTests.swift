import Foundation
import Sluice
import Testing

/// Measurements, not assertions on time: run with `SLUICE_BENCH=1`, ideally in release
/// (`swift build -c release --build-tests`, then `SLUICE_BENCH=1 swift test -c release --skip-build --filter CodecBench`).
@Suite("CodecBench", .serialized)
struct CodecBenchTests {
    static let isEnabled = ProcessInfo.processInfo.environment["SLUICE_BENCH"] == "1"

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("FastJSONDecoder, JSONObjectFields and JSONDecoder on 1,000,000 small records", .enabled(if: isEnabled))
    func jsonDecoding() throws {
        let n = 1_000_000
        // A thousand distinct records, cycled, so that branch predictors do not learn one input.
        let records: [[UInt8]] = (0..<1000).map { i in
            Array(#"{"id": \#(i % 97), "time": \#(1_700_000_000 + i).25, "value": \#(i * 7 % 1000)}"#.utf8)
        }
        let fast = FastJSONDecoder()
        var checksum = 0
        let fastSeconds = try Self.seconds {
            for i in 0..<n { checksum &+= try fast.decode(Reading.self, from: records[i % 1000]).value }
        }
        var fieldsChecksum = 0
        let fieldsSeconds = try Self.seconds {
            for i in 0..<n {
                fieldsChecksum &+= try records[i % 1000].withUnsafeBytes { bytes in
                    try fast.withObject(in: bytes) { fields in
                        Reading(id: try fields.int("id"), time: try fields.double("time"), value: try fields.int("value"))
                    }
                }.value
            }
        }
        let foundation = JSONDecoder()
        let data = records.map { Data($0) }
        var expected = 0
        let foundationSeconds = try Self.seconds {
            for i in 0..<n { expected &+= try foundation.decode(Reading.self, from: data[i % 1000]).value }
        }
        #expect(checksum == expected)
        #expect(fieldsChecksum == expected)
        let fastRate = Double(n) / fastSeconds
        let fieldsRate = Double(n) / fieldsSeconds
        let foundationRate = Double(n) / foundationSeconds
        print("""
            CodecBench JSON: FastJSONDecoder \(Int(fastRate)) records/s, JSONObjectFields \(Int(fieldsRate)) records/s, \
            JSONDecoder \(Int(foundationRate)) records/s; FastJSONDecoder/JSONDecoder \((fastRate / foundationRate * 10).rounded() / 10)x, \
            JSONObjectFields/FastJSONDecoder \((fieldsRate / fastRate * 10).rounded() / 10)x
            """)
    }

    @Test("BinaryStateEncoder/Decoder on a small per-key state", .enabled(if: isEnabled))
    func stateEncoding() throws {
        // A key's open windows: window start → accumulator.
        let state: [Int64: SumCount] = Dictionary(uniqueKeysWithValues: (0..<4).map {
            (1_700_000_000 + Int64($0) * 10, SumCount(sum: Int64(412 + $0), count: 10 + $0))
        })
        let encoder = BinaryStateEncoder()
        let decoder = BinaryStateDecoder()
        let bytes = try encoder.encode(state)
        let json = try JSONEncoder().encode(state)
        let n = 200_000
        var total = 0
        let encodeSeconds = try Self.seconds {
            for _ in 0..<n { total &+= try encoder.encode(state).count }
        }
        let decodeSeconds = try Self.seconds {
            for _ in 0..<n { total &+= try decoder.decode([Int64: SumCount].self, from: bytes).count }
        }
        let single = try encoder.encode(SumCount(sum: 412, count: 10))
        #expect(total == n * (bytes.count + state.count))
        print("""
            CodecBench state: [Int64: SumCount] with \(state.count) windows is \(bytes.count) bytes (JSONEncoder: \(json.count)); \
            encode \(Int(encodeSeconds / Double(n) * 1e9)) ns, decode \(Int(decodeSeconds / Double(n) * 1e9)) ns; \
            SumCount alone is \(single.count) bytes
            """)
    }
}
