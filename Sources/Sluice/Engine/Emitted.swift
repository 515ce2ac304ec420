/// Something the engine emitted on behalf of an input partition: a result, a late record or a dead letter.
public struct Emitted<Output: Sendable>: Sendable {
    /// What was emitted.
    public enum Payload: Sendable {
        /// A result of the pipeline's processor.
        case result(Output)
        /// An input record that arrived after every window it belongs to had closed.
        case late(SourceRecord)
        /// An input record that could not be decoded, with the reason.
        case deadLetter(SourceRecord, reason: String)
    }

    /// The input partition that emitted it and its sequence number there.
    public var key: OutboxKey
    /// The payload.
    public var payload: Payload

    @inlinable
    init(key: OutboxKey, payload: Payload) {
        self.key = key
        self.payload = payload
    }
}
