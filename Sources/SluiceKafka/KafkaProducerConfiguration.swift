/// Settings for a ``KafkaProducer``.
public struct KafkaProducerConfiguration: Sendable {
    /// Record batch compression (`compression.codec`).
    public struct Compression: Hashable, Sendable, CustomStringConvertible {
        /// The librdkafka codec name.
        public let description: String
        private init(_ name: String) { description = name }

        /// No compression. The default.
        public static let none = Compression("none")
        /// gzip: small, slow.
        public static let gzip = Compression("gzip")
        /// Snappy: fast, moderate ratio.
        public static let snappy = Compression("snappy")
        /// LZ4: fast, moderate ratio.
        public static let lz4 = Compression("lz4")
        /// Zstandard: good ratio at good speed.
        public static let zstd = Compression("zstd")
    }

    /// Settings shared with every client.
    public var common: KafkaConfiguration
    /// Whether the producer is idempotent (`enable.idempotence`, which implies `acks=all`):
    /// retries never write a record twice or out of order. Default `true`.
    /// When `false` the producer still waits for all in-sync replicas (`acks=all`).
    public var isIdempotent: Bool = true
    /// Batch compression. Default ``Compression/none``.
    public var compression: Compression = .none
    /// How long to wait for more records before sending a batch (`linger.ms`). Default 5 ms.
    public var linger: Duration = .milliseconds(5)
    /// How long librdkafka keeps trying to deliver a record before it reports failure
    /// (`message.timeout.ms`). Default `nil`: forever, so no record is ever dropped.
    public var messageTimeout: Duration?
    /// The most records librdkafka holds in its local queue (`queue.buffering.max.messages`).
    /// When it is full, ``KafkaProducer/send(_:)`` waits for space. Default 100,000.
    public var maxQueuedRecords: Int = 100_000

    /// Creates a producer configuration with every other setting at its default.
    public init(bootstrapServers: [String]) {
        self.common = KafkaConfiguration(bootstrapServers: bootstrapServers)
    }

    /// Checks the settings without contacting any broker.
    ///
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration``.
    public func validate() throws {
        try common.validate()
        if linger < .zero || linger > .seconds(900) {
            throw KafkaError(.configuration, "linger is \(linger): it must lie between 0 and 900 s")
        }
        if let messageTimeout, messageTimeout < .milliseconds(1) {
            throw KafkaError(
                .configuration, "messageTimeout is \(messageTimeout): give a positive duration, or nil for no limit")
        }
        if maxQueuedRecords < 1 || maxQueuedRecords > 10_000_000 {
            throw KafkaError(
                .configuration, "maxQueuedRecords is \(maxQueuedRecords): it must lie between 1 and 10,000,000")
        }
    }

    func librdkafkaProperties() -> [(String, String)] {
        var result: [(String, String)] = [
            ("enable.idempotence", isIdempotent ? "true" : "false"),
            ("acks", "all"),
            ("compression.codec", compression.description),
            ("linger.ms", String(linger.milliseconds)),
            ("message.timeout.ms", String(messageTimeout?.milliseconds ?? 0)),
            ("queue.buffering.max.messages", String(maxQueuedRecords)),
            ("partitioner", "murmur2_random"),
        ]
        result += common.librdkafkaProperties()
        return result
    }
}
