internal import CRdKafka
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Metadata look-ups shared by every client kind. Blocking: call on a ``BlockingExecutor``.
enum RDKafkaMetadata {
    /// The number of partitions of `topic`, retrying transient topic errors until `timeout`.
    static func partitionCount(client: RDKafkaClient, topic: String, timeout: Duration) throws -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout.milliseconds)) * 1_000_000
        guard let rkt = rd_kafka_topic_new(client.handle, topic, nil) else {
            throw KafkaError(.invalidArgument, "cannot create a handle for topic \"\(topic)\"")
        }
        defer { rd_kafka_topic_destroy(rkt) }
        while true {
            let remainingMs = Int32(clamping: (Int64(deadline) - Int64(DispatchTime.now().uptimeNanoseconds)) / 1_000_000)
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(client.handle, 0, rkt, &metadata, max(1, remainingMs))
            if err == RD_KAFKA_RESP_ERR__TRANSPORT {
                throw KafkaError(
                    .connection,
                    "no broker of \(client.bootstrapDescription) answered a metadata request for \"\(topic)\" within \(timeout); check that the brokers run and are reachable",
                    rdKafkaCode: err.rawValue, isRetriable: true)
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.rdKafka(err, "metadata request for topic \"\(topic)\" failed")
            }
            let info = metadata!.pointee
            defer { rd_kafka_metadata_destroy(metadata) }
            guard info.topic_cnt > 0 else {
                throw KafkaError(.unknownTopicOrPartition, "broker returned no metadata for topic \"\(topic)\"")
            }
            let topicInfo = info.topics[0]
            if topicInfo.err == RD_KAFKA_RESP_ERR_NO_ERROR && topicInfo.partition_cnt > 0 {
                return Int(topicInfo.partition_cnt)
            }
            let transient = topicInfo.err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE
                || topicInfo.err == RD_KAFKA_RESP_ERR_NO_ERROR
            if !transient || remainingMs <= 50 {
                throw KafkaError.rdKafka(topicInfo.err, "topic \"\(topic)\"")
            }
            usleep(20_000)  // A topic just created has no leader yet; ask again shortly.
        }
    }
}

extension RDKafkaClient {
    /// The configured bootstrap servers, for error messages.
    var bootstrapDescription: String {
        let conf = rd_kafka_conf(handle)
        var size = 0
        guard rd_kafka_conf_get(conf, "bootstrap.servers", nil, &size) == RD_KAFKA_CONF_OK, size > 0 else {
            return "the bootstrap servers"
        }
        var buffer = [CChar](repeating: 0, count: size)
        _ = rd_kafka_conf_get(conf, "bootstrap.servers", &buffer, &size)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
