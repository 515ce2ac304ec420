extension KafkaConsumer {
    /// Assigns `ranges` (per partition, offsets `start..<end`) and hands every record in them
    /// to `body`, returning once each partition has reached its end (or lost it to retention).
    ///
    /// A partition whose range ends in transaction markers (or aborted records, which a
    /// `read_committed` consumer never gets) has no record at `end - 1`: it is done when the
    /// consumer reports having caught up at or past `end`, so give this consumer
    /// ``KafkaConsumerConfiguration/reportsPartitionEnds``. Without it, such a range never ends.
    ///
    /// Shared by the engine's recovery scan and SluiceTesting's topic reader.
    ///
    /// - Throws: ``KafkaError/Code/timeout`` naming the partitions left when `timeout` passes
    ///   without a record from any of them: a large range takes as long as it takes, an
    ///   unreachable broker is noticed within `timeout`.
    package func read(
        _ ranges: [KafkaTopicPartition: (start: Int64, end: Int64)], timeout: Duration,
        _ body: (KafkaRecord) throws -> Void
    ) async throws {
        let ranges = ranges.filter { $0.value.start < $0.value.end }
        guard !ranges.isEmpty else { return }
        try await assign(ranges.mapValues(\.start))
        var remaining = Set(ranges.keys)
        var deadline = ContinuousClock.now + timeout
        while !remaining.isEmpty {
            guard ContinuousClock.now < deadline else {
                let left = remaining.map { "\($0.topic)/\($0.partition)" }.sorted()
                throw KafkaError(
                    .timeout, "could not read \(left) to their end: no record from them for \(timeout); is the broker reachable?")
            }
            // Records deleted by retention before they were read never arrive.
            for partition in remaining {
                if let marks = cachedWatermarks(for: partition), let end = ranges[partition]?.end, marks.low >= end {
                    remaining.remove(partition)
                }
            }
            let polled = try await poll(maxRecords: 10_000, timeout: .milliseconds(200))
            for record in polled.records {
                let partition = record.topicPartition
                guard let end = ranges[partition]?.end, record.offset < end else { continue }
                try body(record)
                deadline = ContinuousClock.now + timeout
                if record.offset + 1 >= end { remaining.remove(partition) }
            }
            // After the records of the same poll, which come before the end they reached.
            for (partition, reached) in polled.partitionEnds {
                if let end = ranges[partition]?.end, reached >= end { remaining.remove(partition) }
            }
        }
    }
}
