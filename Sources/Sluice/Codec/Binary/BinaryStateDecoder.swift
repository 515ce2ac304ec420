/// Decodes values written by ``BinaryStateEncoder``.
///
/// Keyed values are found by key, so fields may be decoded in any order; decoding in the order
/// they were encoded (what synthesized `Codable` does) reads each byte once.
public struct BinaryStateDecoder: Sendable {
    /// The table that version 2 documents take their key names from.
    public let keyTable: BinaryStateKeyTable?

    /// Creates a decoder of self-contained documents (format version 1) and, given the table
    /// they were encoded with, of documents that refer to a key table (version 2).
    public init(keyTable: BinaryStateKeyTable? = nil) {
        self.keyTable = keyTable
    }

    /// Decodes a value of `type` from `bytes`.
    ///
    /// - Throws: ``SluiceError`` with code `.decoding` if the bytes are truncated, corrupt, of
    ///   another format version (or of version 2 and this decoder has no key table), or do not
    ///   match `type` (the message names the field and byte).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// Decodes a value of `type` from the bytes in `bytes`, which are only read during the call.
    ///
    /// - Throws: ``SluiceError`` with code `.decoding`, as ``decode(_:from:)-([UInt8])``.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let reader = BinaryStateReader(bytes: bytes, keyTable: keyTable)
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
