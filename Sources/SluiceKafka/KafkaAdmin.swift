internal import CRdKafka
public import Logging

/// Cluster administration on real brokers. (librdkafka's mock cluster does not support
/// CreateTopics; use ``KafkaMockCluster/createTopic(_:partitions:replicationFactor:)``.)
public struct KafkaAdmin: Sendable {
    private let client: RDKafkaClient
    private let thread: BlockingExecutor

    /// Creates an admin client. It connects lazily.
    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        try configuration.validate()
        client = try RDKafkaClient(
            type: RD_KAFKA_PRODUCER, properties: configuration.librdkafkaProperties(), logger: logger)
        thread = BlockingExecutor(label: "sluice.kafka.admin.\(client.name)")
    }

    /// Creates topic `name`. A topic that already exists counts as success (its partition
    /// count is not checked).
    ///
    /// - Throws: ``KafkaError/Code/invalidArgument`` for an empty name or a count below 1,
    ///   ``KafkaError/Code/timeout`` when the cluster does not answer within `timeout`, or
    ///   the broker's reason for refusing.
    public func createTopic(
        _ name: String, partitions: Int, replicationFactor: Int, timeout: Duration = .seconds(30)
    ) async throws {
        guard !name.isEmpty, partitions >= 1, replicationFactor >= 1 else {
            throw KafkaError(
                .invalidArgument,
                "createTopic \"\(name)\": need a non-empty name, partitions >= 1 and replicationFactor >= 1")
        }
        let client = client
        try await thread.run { () throws -> Void in
            try Self.createTopic(client: client, name: name, partitions: partitions, replicationFactor: replicationFactor, timeout: timeout)
        }
    }

    private static func createTopic(
        client: RDKafkaClient, name: String, partitions: Int, replicationFactor: Int, timeout: Duration
    ) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        func text() -> String {
            String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        guard
            let newTopic = rd_kafka_NewTopic_new(
                name, Int32(partitions), Int32(replicationFactor), &errorText, errorText.count)
        else {
            throw KafkaError(.invalidArgument, "createTopic \(name): \(text())")
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.timeoutMilliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.timeoutMilliseconds, &errorText, errorText.count)
        let queue = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(client.handle, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, Int32(clamping: Int64(timeout.timeoutMilliseconds) + 1_000)) else {
            throw KafkaError(.timeout, "createTopic \(name): no answer within \(timeout)", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let detail = rd_kafka_event_error_string(event).map { String(cString: $0) }
            throw KafkaError.rdKafka(err, "createTopic \(name)", detail: detail)
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(.broker, "createTopic \(name): unexpected reply")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let topicResult = results[index]
            let topicErr = rd_kafka_topic_result_error(topicResult)
            if topicErr == RD_KAFKA_RESP_ERR_NO_ERROR || topicErr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let detail = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
            throw KafkaError.rdKafka(topicErr, "createTopic \(name)", detail: detail)
        }
    }
}
