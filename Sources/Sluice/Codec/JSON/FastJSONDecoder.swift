/// Fast JSON decoding of input records into Codable models.
///
/// A hand-written scanner validates the UTF-8 text in one pass into a compact token array, and a `Decoder` over those tokens serves the model's own
/// `init(from:)`, so `struct Reading: Codable { let id: Int; let time: Double; let value: Int }`
/// decodes with its synthesized initializer. Keys are matched by comparing bytes, without
/// allocating strings; members are looked up first where the previous one ended, so fields in the
/// order of the model cost one comparison each. Each thread keeps its token buffer from call to
/// call, so a small record allocates neither that nor the decoder's state.
///
/// Semantics follow `JSONDecoder` where it matters for input records: unknown keys are ignored,
/// `null` or a missing key decodes an `Optional` as `nil`, integers written with a fraction or
/// exponent are accepted only when whole (`17.0`, `1e2`), numbers that do not fit the field are
/// rejected. Where JSON leaves it open, the last of duplicate keys wins. Nesting is limited to
/// 512 levels.
///
/// The `Decoder` and containers a model's `init(from:)` receives are valid only during the
/// call: the thread's reader behind them is reused by the next decode.
public struct FastJSONDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a value of `type` from the UTF-8 JSON text in `bytes`, which are only read during the call.
    ///
    /// - Throws: ``SluiceError`` with code `.decoding` whose message says what is wrong and where:
    ///   input that is not JSON or is truncated (with the byte offset), a missing field, or a value
    ///   of the wrong type or out of range (with the field's path and byte offset).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        try Self.withScan(of: bytes) { reader in try Self.decode(T.self, with: reader) }
    }

    private static func decode<T: Decodable>(_ type: T.Type, with reader: JSONReader) throws -> T {
        do {
            return try reader.decode(T.self, from: 0, key: nil)
        } catch let error as SluiceError {
            throw error
        } catch let error as DecodingError {
            throw SluiceError(.decoding, "cannot decode \(T.self): \(CodecErrors.describe(error))", underlying: error)
        } catch {
            throw SluiceError(.decoding, "cannot decode \(T.self): \(error)", underlying: error)
        }
    }

    /// Checks the size of `bytes`, scans them with this thread's reader and calls `body` with
    /// it; the reader is finished (free for the next run) when `body` returns.
    @inline(__always)
    static func withScan<Result>(of bytes: UnsafeRawBufferPointer, _ body: (JSONReader) throws -> Result) throws -> Result {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            throw SluiceError(.decoding, "input is not JSON: it is empty")
        }
        guard bytes.count < Int(UInt32.max) else {
            throw SluiceError(.decoding, "input of \(bytes.count) bytes is larger than the 4 GiB FastJSONDecoder supports")
        }
        let (unmanaged, owned) = JSONReaderCache.acquire()
        return try withExtendedLifetime(owned) {
            try unmanaged._withUnsafeGuaranteedRef { reader in
                defer { reader.finish() }
                try reader.scan(bytes: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
                return try body(reader)
            }
        }
    }

    /// Decodes a value of `type` from the UTF-8 JSON text in `bytes`.
    ///
    /// - Throws: ``SluiceError`` with code `.decoding`, as ``decode(_:from:)-(_,UnsafeRawBufferPointer)``.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }
}
