/// A record header: a name and an opaque byte value.
public struct KafkaHeader: Sendable, Equatable {
    /// The header name.
    public var name: String
    /// The header value.
    public var value: [UInt8]

    /// Creates a header.
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
