import SluiceKafka
import Synchronization

/// A group consumer polling in a background task, acknowledging every rebalance at once
/// and recording the events and its resulting assignment.
final class GroupMember: Sendable {
    let consumer: KafkaConsumer
    private let strategy: KafkaConsumerConfiguration.RebalanceStrategy
    private let state = Mutex(MemberState())
    private let loop = Mutex<Task<Void, Never>?>(nil)

    struct MemberState {
        var assignment: Set<KafkaTopicPartition> = []
        var events: [KafkaRebalanceEvent] = []
        var records = 0
        /// The offsets received, per partition.
        var offsets: [Int32: Set<Int64>] = [:]
        var error: (any Error)?
    }

    init(
        cluster: KafkaMockCluster, group: String, topic: String,
        strategy: KafkaConsumerConfiguration.RebalanceStrategy
    ) async throws {
        consumer = try KafkaConsumer(
            configuration: consumerConfiguration(cluster, group: group, strategy: strategy), logger: testLogger)
        self.strategy = strategy
        try await consumer.subscribe(topics: [topic])
        let task = Task { [self] in await run() }
        loop.withLock { $0 = task }
    }

    var assignment: Set<KafkaTopicPartition> { state.withLock { $0.assignment } }
    var events: [KafkaRebalanceEvent] { state.withLock { $0.events } }
    var error: (any Error)? { state.withLock { $0.error } }
    var offsets: [Int32: Set<Int64>] { state.withLock { $0.offsets } }

    private func run() async {
        do {
            while !Task.isCancelled {
                let result = try await consumer.poll(maxRecords: 100, timeout: .milliseconds(100))
                state.withLock { state in
                    state.records += result.records.count
                    for record in result.records { state.offsets[record.partition, default: []].insert(record.offset) }
                }
                guard let event = result.rebalance else { continue }
                try await consumer.acknowledge(event, startOffsets: [:])
                state.withLock { state in
                    state.events.append(event)
                    switch (event, strategy) {
                    case (.assigned(let partitions), .cooperativeSticky): state.assignment.formUnion(partitions)
                    case (.revoked(let partitions), .cooperativeSticky): state.assignment.subtract(partitions)
                    case (.assigned(let partitions), _): state.assignment = Set(partitions)
                    case (.revoked, _): state.assignment = []
                    }
                }
            }
        } catch {
            state.withLock { $0.error = error }
        }
    }

    /// Stops polling and leaves the group.
    func close() async {
        let task = loop.withLock { $0 }
        task?.cancel()
        await task?.value
        await consumer.close()
    }
}
