import Foundation

/// Decodes values written by ``BinaryStateEncoder``.
public struct BinaryStateDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a value of `type` from `bytes`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw SluiceError(.decoding, "cannot decode \(T.self) from state: \(error)")
        }
    }

    /// Decodes a value of `type` from the bytes in `bytes`, which are only read during the call.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        try decode(type, from: Array(bytes))
    }
}
