import Foundation

/// Fast JSON decoding of input records into Codable models.
public struct FastJSONDecoder: Sendable {
    /// Creates a decoder.
    public init() {}

    /// Decodes a value of `type` from the UTF-8 JSON text in `bytes`, which are only read during the call.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        try decode(type, from: Array(bytes))
    }

    /// Decodes a value of `type` from the UTF-8 JSON text in `bytes`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw SluiceError(.decoding, "cannot decode \(T.self) from JSON: \(error)")
        }
    }
}
