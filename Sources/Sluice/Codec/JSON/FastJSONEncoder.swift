import Foundation

/// Fast JSON encoding of outputs (Encodable) into bytes, compatible with JSONEncoder output semantics
/// for plain structs, numbers, strings, bools, arrays, dictionaries and optionals (omitted when nil).
public struct FastJSONEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value` as compact UTF-8 JSON, keys in the order they are encoded.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw SluiceError(.encoding, "cannot encode \(T.self) as JSON: \(error)")
        }
    }
}
