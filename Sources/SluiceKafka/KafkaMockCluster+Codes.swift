extension KafkaMockCluster {
    /// Kafka protocol request kinds, for ``KafkaMockCluster/pushRequestErrors(apiKey:errors:)``.
    public enum APIKey {
        /// Produce.
        public static let produce: Int16 = 0
        /// Fetch.
        public static let fetch: Int16 = 1
        /// ListOffsets.
        public static let listOffsets: Int16 = 2
        /// Metadata.
        public static let metadata: Int16 = 3
        /// OffsetCommit.
        public static let offsetCommit: Int16 = 8
        /// OffsetFetch.
        public static let offsetFetch: Int16 = 9
        /// FindCoordinator.
        public static let findCoordinator: Int16 = 10
        /// JoinGroup.
        public static let joinGroup: Int16 = 11
        /// Heartbeat.
        public static let heartbeat: Int16 = 12
        /// SyncGroup.
        public static let syncGroup: Int16 = 14
        /// InitProducerId.
        public static let initProducerID: Int16 = 22
    }

    /// Kafka broker error codes (`rd_kafka_resp_err_t` values) worth injecting.
    public enum ErrorCode {
        /// UNKNOWN_TOPIC_OR_PARTITION (retriable).
        public static let unknownTopicOrPartition: Int32 = 3
        /// LEADER_NOT_AVAILABLE (retriable).
        public static let leaderNotAvailable: Int32 = 5
        /// NOT_LEADER_FOR_PARTITION (retriable).
        public static let notLeaderForPartition: Int32 = 6
        /// REQUEST_TIMED_OUT (retriable).
        public static let requestTimedOut: Int32 = 7
        /// NETWORK_EXCEPTION (retriable).
        public static let networkException: Int32 = 13
        /// COORDINATOR_NOT_AVAILABLE (retriable).
        public static let coordinatorNotAvailable: Int32 = 15
        /// NOT_COORDINATOR (retriable).
        public static let notCoordinator: Int32 = 16
        /// NOT_ENOUGH_REPLICAS (retriable).
        public static let notEnoughReplicas: Int32 = 19
        /// NOT_ENOUGH_REPLICAS_AFTER_APPEND (retriable).
        public static let notEnoughReplicasAfterAppend: Int32 = 20
        /// REBALANCE_IN_PROGRESS.
        public static let rebalanceInProgress: Int32 = 27
    }
}
