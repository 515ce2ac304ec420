/// An error raised by the Sluice engine.
///
/// Errors from Kafka and LMDB keep their own types (`KafkaError`, `LMDBError`)
/// and are wrapped here only when the engine adds context.
public struct SluiceError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Codes can grow; match on the static constants.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidConfiguration, missingState, stateMismatch, decoding, encoding, sinkFailure, sourceFailure
            case checkpointFailure, shutdownTimeout, crashPoint, stateDirectoryInUse
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A configuration or pipeline definition is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The consumer group has progress for a partition that the state directory has no state for.
        public static let missingState = Code(.missingState)
        /// The state directory does not match the pipeline (for example, another application id).
        public static let stateMismatch = Code(.stateMismatch)
        /// An input record could not be decoded.
        public static let decoding = Code(.decoding)
        /// An output could not be encoded.
        public static let encoding = Code(.encoding)
        /// The sink failed in a way retrying cannot fix.
        public static let sinkFailure = Code(.sinkFailure)
        /// The source failed in a way retrying cannot fix.
        public static let sourceFailure = Code(.sourceFailure)
        /// A checkpoint could not be written.
        public static let checkpointFailure = Code(.checkpointFailure)
        /// Graceful shutdown did not finish in time.
        public static let shutdownTimeout = Code(.shutdownTimeout)
        /// Another process (or another pipeline in this process) holds the state directory.
        public static let stateDirectoryInUse = Code(.stateDirectoryInUse)
        /// A named crash point was reached (tests only).
        public static let crashPoint = Code(.crashPoint)

        public var description: String { value.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and, where possible, what to do about it.
    public var message: String
    /// The error underneath, if any.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(code): \(message) (\(underlying))" }
        return "\(code): \(message)"
    }
}
