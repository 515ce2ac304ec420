import ArgumentParser
import Foundation
import Sluice

/// The IoT job's decoding alone, on one thread, without a broker: the two ways the job reads a
/// reading (`Reading`'s synthesized `Decodable` through `FastJSONDecoder`, and `JSONObjectFields`)
/// over the benchmark's own readings, in alternating rounds. For working on the decoder, whose
/// share of the job is hard to see in the job's rate on a shared machine.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "The job's JSON decoding alone, per reading, one thread, no broker.")
    @Option(help: "Readings per round.") var records: Int = 1_000_000
    @Option(help: "Sensors in the workload.") var sensors: Int = 1_000
    @Option(help: "Rounds; the fastest of each way is reported.") var rounds: Int = 5

    func run() throws {
        let flat = IoTWorkload(sensors: sensors).chunk(0..<records)
        let decoder = FastJSONDecoder()
        var codable: [Double] = []
        var fields: [Double] = []
        var checksums: Set<Int> = []
        for _ in 0..<rounds {
            let (codableSeconds, codableSum) = try Self.timed(flat) { bytes in try decoder.decode(Reading.self, from: bytes) }
            let (fieldsSeconds, fieldsSum) = try Self.timed(flat) { bytes in
                try decoder.withObject(in: bytes) { fields in
                    Reading(id: try fields.int("id"), time: try fields.double("time"), value: try fields.int("value"))
                }
            }
            codable.append(codableSeconds)
            fields.append(fieldsSeconds)
            checksums.formUnion([codableSum, fieldsSum])
        }
        guard checksums.count == 1 else { throw ValidationError("the two decodings disagree: checksums \(checksums.sorted())") }
        let perRecord = { (seconds: [Double]) in (seconds.min()! / Double(records) * 1e9 * 10).rounded() / 10 }
        print("decode, \(records) readings, \(sensors) sensors, best of \(rounds) rounds (one thread)")
        print("| decoding | ns per reading | readings/s |")
        print("|---|---|---|")
        print("| codable (FastJSONDecoder, synthesized Decodable) | \(perRecord(codable)) | \(Format.rate(Double(records) / codable.min()!)) |")
        print("| fields (JSONObjectFields) | \(perRecord(fields)) | \(Format.rate(Double(records) / fields.min()!)) |")
    }

    /// Decodes every reading of `flat` with `decode`; returns the seconds taken and a checksum
    /// of what was decoded (so that the work cannot be skipped, and the two ways can be compared).
    static func timed(_ flat: FlatRecords, _ decode: (UnsafeRawBufferPointer) throws -> Reading) throws -> (Double, Int) {
        var checksum = 0
        let start = ContinuousClock.now
        try flat.values.withUnsafeBytes { values in
            for i in 0..<flat.valueOffsets.count - 1 {
                let bytes = UnsafeRawBufferPointer(rebasing: values[Int(flat.valueOffsets[i])..<Int(flat.valueOffsets[i + 1])])
                let reading = try decode(bytes)
                checksum = checksum &* 31 &+ reading.id &+ reading.value &+ Int(reading.time * 4)
            }
        }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, checksum)
    }
}
