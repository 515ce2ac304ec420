/// The decoder `superDecoder(forKey:)` returns for a key the object does not have: it holds `null`,
/// as with `JSONDecoder`.
struct JSONNullDecoder: Decoder, SingleValueDecodingContainer {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    private func missing() -> SluiceError {
        SluiceError(.decoding, "missing field '\(codingPath.last?.stringValue ?? "")'")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw missing() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw missing() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { true }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { throw missing() }
}
