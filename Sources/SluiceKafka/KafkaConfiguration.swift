/// Settings every Kafka client (consumer, producer, admin) shares.
///
/// Typed fields cover what Sluice needs; ``properties`` passes any other
/// librdkafka setting through unchanged and is applied last, so it can override
/// anything the typed fields set.
public struct KafkaConfiguration: Sendable {
    /// Bootstrap brokers as `host:port`, for example `["127.0.0.1:9092"]`. Required.
    public var bootstrapServers: [String]
    /// The `client.id` sent to brokers and shown in their logs. Default `"sluice"`.
    public var clientID: String = "sluice"
    /// Transport security and authentication. Default: plaintext, no authentication.
    public var security: Security = Security()
    /// How long a broker request may take before the client gives up on it
    /// (`socket.timeout.ms`). Default 60 seconds.
    public var socketTimeout: Duration = .seconds(60)
    /// Raw librdkafka properties (see librdkafka's `CONFIGURATION.md`), applied after
    /// every typed setting. Default empty.
    public var properties: [String: String] = [:]

    /// Creates a configuration for the given bootstrap brokers with every other setting at its default.
    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    /// Checks the settings without contacting any broker.
    ///
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration`` and a message
    ///   naming the bad setting and what would be accepted.
    public func validate() throws {
        if bootstrapServers.isEmpty {
            throw KafkaError(.configuration, "bootstrapServers is empty: give at least one broker as \"host:port\"")
        }
        for server in bootstrapServers {
            try Self.validateAddress(server)
        }
        if clientID.isEmpty {
            throw KafkaError(.configuration, "clientID is empty: give a name such as \"sluice\"")
        }
        if socketTimeout < .milliseconds(10) || socketTimeout > .seconds(300) {
            throw KafkaError(
                .configuration, "socketTimeout is \(socketTimeout): it must lie between 10 ms and 300 s")
        }
        try security.validate()
        for (key, _) in properties where key.isEmpty {
            throw KafkaError(.configuration, "properties contains an empty key")
        }
    }

    private static func validateAddress(_ server: String) throws {
        let scheme = server.firstRange(of: "://")
        let trimmed = scheme.map { String(server[$0.upperBound...]) } ?? server
        guard let colon = trimmed.lastIndex(of: ":"), colon != trimmed.startIndex else {
            throw KafkaError(
                .configuration,
                "bootstrap server \"\(server)\" has no port: write it as \"host:port\", for example \"127.0.0.1:9092\"")
        }
        let host = trimmed[..<colon]
        let portText = trimmed[trimmed.index(after: colon)...]
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw KafkaError(
                .configuration,
                "bootstrap server \"\(server)\" has an invalid port \"\(portText)\": use a number from 1 to 65535")
        }
        if host.contains(where: { $0 == " " || $0 == "," }) {
            throw KafkaError(
                .configuration,
                "bootstrap server \"\(server)\" contains a space or comma: give each broker as its own array element")
        }
    }

    /// The librdkafka properties for these settings, in the order they must be applied.
    func librdkafkaProperties() -> [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientID),
            ("socket.timeout.ms", String(socketTimeout.milliseconds)),
        ]
        result += security.librdkafkaProperties()
        result += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}

extension Duration {
    /// This duration in whole milliseconds, rounded down, clamped to `Int32` range.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let (wholeMs, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        if overflow { return seconds < 0 ? Int(Int32.min) : Int(Int32.max) }
        let ms = wholeMs.addingReportingOverflow(attoseconds / 1_000_000_000_000_000).partialValue
        return Int(max(Int64(Int32.min), min(Int64(Int32.max), ms)))
    }

    /// This duration as a librdkafka `timeout_ms` argument.
    var timeoutMilliseconds: Int32 { Int32(max(0, milliseconds)) }
}
