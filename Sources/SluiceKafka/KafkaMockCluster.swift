internal import CRdKafka
public import Logging
import Synchronization

/// An in-process Kafka cluster for tests and the dev broker: librdkafka's mock cluster,
/// speaking the real Kafka protocol on loopback ports it picks itself.
///
/// Limits (librdkafka 2.0.2): each partition keeps only about 5 MiB (or 100,000 message
/// sets) and silently drops older data; consumer groups need a `session.timeout.ms` of at
/// least about 4 seconds; transactions are accepted but have no effect (no markers, no
/// fencing); the CreateTopics admin call is unsupported, so create topics here.
///
/// Brokers are numbered from 1.
public final class KafkaMockCluster: Sendable {
    private let client: RDKafkaClient
    private let cluster: Mutex<MockClusterHandle?>
    /// The number of brokers.
    public let brokerCount: Int
    /// The brokers' `host:port` addresses, to use as a client's bootstrap servers.
    public let bootstrapServers: [String]

    /// Starts a cluster of `brokers` brokers.
    public init(brokers: Int = 1, logger: Logger) throws {
        precondition(brokers >= 1, "a mock cluster needs at least one broker")
        // The cluster lives on a handle of its own that never connects anywhere.
        let client = try RDKafkaClient(
            type: RD_KAFKA_PRODUCER, properties: [("client.id", "sluice-mock-cluster"), ("log_level", "3")],
            logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(.broker, "librdkafka could not start a mock cluster of \(brokers) brokers")
        }
        self.client = client
        self.cluster = Mutex(MockClusterHandle(pointer: cluster))
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
            .split(separator: ",").map(String.init)
    }

    deinit {
        close()
    }

    /// The most partitions a topic of the mock cluster may have: it sets every one up at once.
    public static let maximumPartitions = 10_000

    /// Creates `name` with `partitions` partitions (at most ``maximumPartitions``), each
    /// replicated `replicationFactor` times.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        guard (1...Self.maximumPartitions).contains(partitions), (1...brokerCount).contains(replicationFactor) else {
            throw KafkaError(
                .invalidArgument,
                "createTopic \(name): need 1 <= partitions <= \(Self.maximumPartitions) and 1 <= replicationFactor <= "
                    + "\(brokerCount) brokers")
        }
        try withCluster("createTopic \(name)") {
            rd_kafka_mock_topic_create($0, name, Int32(partitions), Int32(replicationFactor))
        }
    }

    /// Takes broker `brokerID` down: its connections close and it refuses new ones.
    ///
    /// - Important: librdkafka 2.0.2 closes the broker's listening socket, binds the same
    ///   port again at once and aborts the process if that bind fails. It fails when a
    ///   child process spawned at that moment still holds a copy of the old socket (between
    ///   fork and exec): with two threads spawning `/bin/true` in a loop, a plain C program
    ///   aborted within 1 to 3 down/up cycles, and without them it survived 6,000. In a
    ///   process that spawns children, such as a test runner, take outages in a broker of
    ///   its own process instead (`sluice-broker`, whose control channel has `down N`).
    public func setBrokerDown(_ brokerID: Int32) throws {
        try withCluster("setBrokerDown \(brokerID)") { rd_kafka_mock_broker_set_down($0, brokerID) }
    }

    /// Brings broker `brokerID` back up.
    public func setBrokerUp(_ brokerID: Int32) throws {
        try withCluster("setBrokerUp \(brokerID)") { rd_kafka_mock_broker_set_up($0, brokerID) }
    }

    /// Delays every response of broker `broker` by `rtt` (at most an hour).
    public func setRoundTripTime(_ rtt: Duration, broker: Int32) throws {
        guard rtt >= .zero && rtt <= .seconds(3_600) else {
            throw KafkaError(.invalidArgument, "setRoundTripTime: \(rtt) is not between 0 and 1 hour")
        }
        try withCluster("setRoundTripTime \(broker)") {
            rd_kafka_mock_broker_set_rtt($0, broker, Int32(rtt.milliseconds))
        }
    }

    /// Makes the next `errors.count` requests of kind `apiKey` (to any broker) fail, in
    /// order, with the given `rd_kafka_resp_err_t` codes. See ``APIKey`` and ``ErrorCode``.
    public func pushRequestErrors(apiKey: Int16, errors: [Int32]) throws {
        guard !errors.isEmpty else { return }
        try withCluster("pushRequestErrors") { cluster in
            let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
            codes.withUnsafeBufferPointer {
                rd_kafka_mock_push_request_errors_array(cluster, apiKey, $0.count, $0.baseAddress)
            }
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Forgets errors pushed for `apiKey` that have not fired yet.
    public func clearRequestErrors(apiKey: Int16) throws {
        try withCluster("clearRequestErrors") { cluster in
            rd_kafka_mock_clear_request_errors(cluster, apiKey)
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Stops the cluster; later calls throw ``KafkaError/Code/closed``. Idempotent, and
    /// called by `deinit`.
    public func close() {
        let handle = cluster.withLock { handle in
            defer { handle = nil }
            return handle
        }
        if let handle { rd_kafka_mock_cluster_destroy(handle.pointer) }
    }

    /// Runs a mock call under the lock, so `close` cannot destroy the cluster meanwhile.
    private func withCluster(
        _ operation: String, _ body: (OpaquePointer) -> rd_kafka_resp_err_t
    ) throws {
        let err = try cluster.withLock { handle -> rd_kafka_resp_err_t in
            guard let handle else { throw KafkaError(.closed, "\(operation): the mock cluster is closed") }
            return body(handle.pointer)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.rdKafka(err, "mock cluster \(operation)")
        }
    }
}

/// `@unchecked Sendable`: the mock cluster pointer is only used under the cluster's mutex.
private struct MockClusterHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
