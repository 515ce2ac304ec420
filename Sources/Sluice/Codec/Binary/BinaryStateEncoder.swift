import Foundation

/// Compact binary Codable encoding for checkpointed state, keys and accumulators.
public struct BinaryStateEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value` into bytes that ``BinaryStateDecoder`` reads back.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw SluiceError(.encoding, "cannot encode \(T.self) as state: \(error)")
        }
    }
}
