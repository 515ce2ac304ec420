public import SluiceKafka

/// Reads a pipeline's input from Kafka topics.
///
/// Connection settings come from the ``PipelineConfiguration`` the pipeline runs with.
public struct KafkaSource: PipelineSource {
    /// How this process gets its partitions.
    public enum Assignment: Sendable, Equatable {
        /// This process reads every partition of the topics (manual assignment, like Flink's
        /// Kafka source). Offsets are still committed to the pipeline's consumer group for
        /// monitoring. Fastest to start; one process per pipeline.
        case allPartitions
        /// Partitions are shared among the members of the pipeline's consumer group. Before a
        /// partition is given up, Sluice checkpoints it.
        case consumerGroup(KafkaConsumerConfiguration.RebalanceStrategy)
    }

    /// The input topics.
    public var topics: [String]
    /// How partitions are assigned. Default ``Assignment/allPartitions``.
    public var assignment: Assignment

    /// Reads one topic.
    public init(topic: String, assignment: Assignment = .allPartitions) {
        self.init(topics: [topic], assignment: assignment)
    }

    /// Reads several topics.
    public init(topics: [String], assignment: Assignment = .allPartitions) {
        precondition(!topics.isEmpty, "a Kafka source needs at least one topic")
        self.topics = topics
        self.assignment = assignment
    }
}
