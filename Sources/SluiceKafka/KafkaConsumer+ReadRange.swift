extension KafkaConsumer {
    /// Assigns `ranges` (per partition, offsets `start..<end`) and hands every record in them
    /// to `body`, returning once each partition has reached its end (or lost it to retention).
    ///
    /// Shared by the engine's recovery scan and SluiceTesting's topic reader.
    ///
    /// - Throws: ``KafkaError/Code/timeout`` naming the partitions left when `timeout` passes.
    package func read(
        _ ranges: [KafkaTopicPartition: (start: Int64, end: Int64)], timeout: Duration,
        _ body: (KafkaRecord) throws -> Void
    ) async throws {
        let ranges = ranges.filter { $0.value.start < $0.value.end }
        guard !ranges.isEmpty else { return }
        try await assign(ranges.mapValues(\.start))
        var remaining = Set(ranges.keys)
        let deadline = ContinuousClock.now + timeout
        while !remaining.isEmpty {
            guard ContinuousClock.now < deadline else {
                let left = remaining.map { "\($0.topic)/\($0.partition)" }.sorted()
                throw KafkaError(.timeout, "could not read \(left) to their end within \(timeout); is the broker reachable?")
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
                if record.offset + 1 >= end { remaining.remove(partition) }
            }
        }
    }
}
