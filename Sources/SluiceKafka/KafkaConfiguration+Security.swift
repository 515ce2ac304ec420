extension KafkaConfiguration {
    /// Transport security and authentication settings, passed through to librdkafka.
    public struct Security: Sendable {
        /// The wire protocol between client and brokers (`security.protocol`).
        public struct `Protocol`: Hashable, Sendable, CustomStringConvertible {
            /// The librdkafka name of the protocol.
            public let description: String
            private init(_ name: String) { description = name }

            /// No encryption, no authentication. The default.
            public static let plaintext = Protocol("plaintext")
            /// TLS without SASL authentication.
            public static let ssl = Protocol("ssl")
            /// SASL authentication over an unencrypted connection.
            public static let saslPlaintext = Protocol("sasl_plaintext")
            /// SASL authentication over TLS.
            public static let saslSSL = Protocol("sasl_ssl")

            var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
        }

        /// The security protocol. Default ``Protocol/plaintext``.
        public var `protocol`: Protocol = .plaintext
        /// The SASL mechanism (`sasl.mechanisms`), for example `PLAIN`, `SCRAM-SHA-256`,
        /// `SCRAM-SHA-512`. Default `nil` (librdkafka's default, `GSSAPI`).
        public var saslMechanism: String?
        /// The SASL user name (`sasl.username`). Default `nil`.
        public var saslUsername: String?
        /// The SASL password (`sasl.password`). Default `nil`. Never logged.
        public var saslPassword: String?
        /// A file of CA certificates to verify brokers with (`ssl.ca.location`). Default `nil`:
        /// librdkafka's default trust store.
        public var sslCALocation: String?
        /// The client's certificate file for mutual TLS (`ssl.certificate.location`). Default `nil`.
        public var sslCertificateLocation: String?
        /// The client's private key file for mutual TLS (`ssl.key.location`). Default `nil`.
        public var sslKeyLocation: String?
        /// The password of ``sslKeyLocation`` (`ssl.key.password`). Default `nil`. Never logged.
        public var sslKeyPassword: String?

        /// Creates plaintext settings without authentication.
        public init() {}

        func validate() throws {
            if `protocol`.usesSASL {
                let mechanism = saslMechanism?.uppercased()
                if mechanism == "PLAIN" || mechanism?.hasPrefix("SCRAM") == true {
                    if saslUsername?.isEmpty ?? true || saslPassword == nil {
                        throw KafkaError(
                            .configuration,
                            "security: SASL mechanism \(mechanism!) needs saslUsername and saslPassword")
                    }
                }
            } else if saslMechanism != nil || saslUsername != nil || saslPassword != nil {
                throw KafkaError(
                    .configuration,
                    "security: SASL settings are given but protocol is \(`protocol`); use .saslPlaintext or .saslSSL")
            }
            if (sslCertificateLocation == nil) != (sslKeyLocation == nil) {
                throw KafkaError(
                    .configuration, "security: sslCertificateLocation and sslKeyLocation must be given together")
            }
        }

        func librdkafkaProperties() -> [(String, String)] {
            var result = [("security.protocol", `protocol`.description)]
            if let saslMechanism { result.append(("sasl.mechanisms", saslMechanism)) }
            if let saslUsername { result.append(("sasl.username", saslUsername)) }
            if let saslPassword { result.append(("sasl.password", saslPassword)) }
            if let sslCALocation { result.append(("ssl.ca.location", sslCALocation)) }
            if let sslCertificateLocation { result.append(("ssl.certificate.location", sslCertificateLocation)) }
            if let sslKeyLocation { result.append(("ssl.key.location", sslKeyLocation)) }
            if let sslKeyPassword { result.append(("ssl.key.password", sslKeyPassword)) }
            return result
        }
    }
}
