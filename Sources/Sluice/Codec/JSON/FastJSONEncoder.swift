/// Fast JSON encoding of outputs (Encodable) into bytes, compatible with JSONEncoder output semantics
/// for plain structs, numbers, strings, bools, arrays, dictionaries and optionals (omitted when nil).
///
/// Output is compact UTF-8 with keys in the order they are encoded, for example
/// `{"id":17,"window_start":1700000000,"window_end":1700000010,"sum":412,"count":10}`. Integers
/// have no decimal point; a `Double` that is a whole number below 2^53 is written like an integer
/// (as `JSONEncoder` does) and any other finite `Double` in its shortest round-trip form. Unlike
/// `JSONEncoder`'s default, `/` is not escaped. Nested containers must be filled before their
/// parent is written again; otherwise encoding throws.
public struct FastJSONEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value` as compact UTF-8 JSON, keys in the order they are encoded.
    ///
    /// - Throws: ``SluiceError`` with code `.encoding` for non-finite numbers (JSON has no
    ///   representation for them), for nested containers used after their parent continued, and for
    ///   errors thrown by `value`'s own `encode(to:)`.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONWriter()
        do {
            if JSONWriter.isPrimitive(T.self) {
                _ = try writer.appendPrimitive(value, at: -1)
            } else {
                try writer.encodeNested(value, key: nil)
            }
        } catch let error as SluiceError {
            throw error
        } catch {
            throw SluiceError(.encoding, "cannot encode \(T.self) as JSON: \(error)", underlying: error)
        }
        return writer.out
    }
}
