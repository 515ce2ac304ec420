internal import CRdKafka

/// Conversions between Swift partition collections and `rd_kafka_topic_partition_list_t`.
enum RDKafkaTopicPartitionList {
    /// A new C list; the caller must destroy it with `rd_kafka_topic_partition_list_destroy`.
    static func make(_ partitions: [KafkaTopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for (partition, offset) in partitions.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
            element.pointee.offset = offset
        }
        return list
    }

    /// A new C list of partitions without offsets (`RD_KAFKA_OFFSET_INVALID`).
    static func make(_ partitions: [KafkaTopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for partition in partitions {
            _ = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)
        }
        return list
    }

    /// Runs `body` with a temporary C list, destroying it afterwards.
    static func with<R>(
        _ partitions: [KafkaTopicPartition: Int64],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> R
    ) rethrows -> R {
        let list = make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try body(list)
    }

    /// The elements of a C list.
    static func elements(
        _ list: UnsafePointer<rd_kafka_topic_partition_list_t>
    ) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    /// The partitions of a C list.
    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        elements(list).map { KafkaTopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// Throws the first per-partition error in a C list, if any.
    static func throwFirstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, _ context: String) throws {
        for element in elements(list) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.rdKafka(
                element.err, "\(context) \(String(cString: element.topic))[\(element.partition)]")
        }
    }
}
