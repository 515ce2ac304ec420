internal import CRdKafka

/// An error raised by the Kafka client layer.
///
/// Every librdkafka result code is converted once, at the C boundary, into a
/// ``KafkaError`` carrying a ``Code`` a program can switch on, a message a person
/// can act on, the underlying `rd_kafka_resp_err_t` value where there is one, and
/// whether retrying the operation can help.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. Codes are static constants so that new ones can be
    /// added without breaking exhaustive switches in client code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case configuration, connection, timeout, queueFull, fatal, partitionEOF
            case unknownTopicOrPartition, closed, broker, invalidArgument
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The client configuration is invalid (a bad value, an unknown property, a missing setting).
        public static let configuration = Code(.configuration)
        /// No broker could be reached (connection refused, name resolution failed, all brokers down).
        public static let connection = Code(.connection)
        /// The operation did not finish within its time limit.
        public static let timeout = Code(.timeout)
        /// librdkafka's local producer queue is full.
        public static let queueFull = Code(.queueFull)
        /// The client raised a fatal error and can no longer be used; create a new one.
        public static let fatal = Code(.fatal)
        /// The consumer reached the end of a partition.
        public static let partitionEOF = Code(.partitionEOF)
        /// The topic or partition does not exist.
        public static let unknownTopicOrPartition = Code(.unknownTopicOrPartition)
        /// The client was closed before or during the operation.
        public static let closed = Code(.closed)
        /// Any other error reported by librdkafka or a broker; see ``KafkaError/rdKafkaCode``.
        public static let broker = Code(.broker)
        /// The caller passed an argument the operation cannot accept.
        public static let invalidArgument = Code(.invalidArgument)

        /// The code's name, for example `timeout`.
        public var description: String { kind.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in words a person can act on.
    public var message: String
    /// The underlying `rd_kafka_resp_err_t` raw value, when librdkafka reported one.
    public var rdKafkaCode: Int32?
    /// Whether repeating the operation may succeed.
    public var isRetriable: Bool
    /// Whether the client that raised the error can no longer be used.
    public var isFatal: Bool

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A description a person can act on.
    ///   - rdKafkaCode: The underlying librdkafka result code, if any.
    ///   - isRetriable: Whether retrying may help. Defaults to `false`.
    ///   - isFatal: Whether the client is unusable afterwards. Defaults to `false`.
    public init(
        _ code: Code, _ message: String, rdKafkaCode: Int32? = nil,
        isRetriable: Bool = false, isFatal: Bool = false
    ) {
        self.code = code
        self.message = message
        self.rdKafkaCode = rdKafkaCode
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    /// A one-line rendering: code, message and librdkafka code name.
    public var description: String {
        var text = "KafkaError.\(code): \(message)"
        if let rdKafkaCode {
            let name = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rdKafkaCode)))
            text += " [\(name) (\(rdKafkaCode))]"
        }
        return text
    }
}

// MARK: - Conversion at the C boundary

extension KafkaError {
    /// Converts a librdkafka response code, prefixing `context` to librdkafka's own text.
    static func rdKafka(_ err: rd_kafka_resp_err_t, _ context: String, detail: String? = nil) -> KafkaError {
        let text = detail ?? String(cString: rd_kafka_err2str(err))
        let raw = err.rawValue
        let code = Self.code(for: err)
        return KafkaError(
            code, "\(context): \(text)", rdKafkaCode: raw,
            isRetriable: Self.retriableCodes.contains(raw) || code == .connection || code == .timeout
                || code == .queueFull,
            isFatal: err == RD_KAFKA_RESP_ERR__FATAL
        )
    }

    /// Converts and destroys a librdkafka `rd_kafka_error_t`.
    static func consuming(_ error: OpaquePointer, _ context: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        var converted = rdKafka(
            rd_kafka_error_code(error), context, detail: String(cString: rd_kafka_error_string(error)))
        converted.isRetriable = converted.isRetriable || rd_kafka_error_is_retriable(error) != 0
        converted.isFatal = converted.isFatal || rd_kafka_error_is_fatal(error) != 0
        if converted.isFatal { converted.code = .fatal }
        return converted
    }

    private static func code(for err: rd_kafka_resp_err_t) -> Code {
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE,
            RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
            return .connection
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
            return .timeout
        case RD_KAFKA_RESP_ERR__QUEUE_FULL: return .queueFull
        case RD_KAFKA_RESP_ERR__FATAL: return .fatal
        case RD_KAFKA_RESP_ERR__PARTITION_EOF: return .partitionEOF
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
            RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            return .unknownTopicOrPartition
        case RD_KAFKA_RESP_ERR__DESTROY: return .closed
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__INVALID_TYPE, RD_KAFKA_RESP_ERR__CONFLICT:
            return .invalidArgument
        default: return .broker
        }
    }

    /// Broker error codes that Kafka documents as retriable.
    private static let retriableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__RETRY,
    ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }
}
