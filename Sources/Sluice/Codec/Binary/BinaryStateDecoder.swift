/// Decodes values written by ``BinaryStateEncoder``.
///
/// Keyed values are found by key, so fields may be decoded in any order; decoding in the order
/// they were encoded (what synthesized `Codable` does) reads each byte once.
public struct BinaryStateDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a value of `type` from `bytes`.
    ///
    /// - Throws: ``SluiceError`` with code `.decoding` if the bytes are truncated, corrupt, of
    ///   another format version, or do not match `type` (the message names the field and byte).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// Decodes a value of `type` from the bytes in `bytes`, which are only read during the call.
    ///
    /// - Throws: ``SluiceError`` with code `.decoding`, as ``decode(_:from:)-([UInt8])``.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let reader = BinaryStateReader(bytes: bytes)
        do {
            let root = try reader.readDocument()
            return try reader.decode(T.self, from: root, key: nil)
        } catch let error as SluiceError {
            throw error
        } catch {
            let detail = (error as? DecodingError).map(CodecErrors.describe) ?? "\(error)"
            throw SluiceError(.decoding, "cannot decode \(T.self) from state: \(detail)", underlying: error)
        }
    }
}
