import RawKafka

/// What one measured loop did.
struct LoopResult: Codable, Sendable {
    var records: Int
    var bytes: Int
    /// From the first record to the last, in seconds.
    var seconds: Double
    /// From the start of the loop (assign, first send) to the last record, in seconds.
    var secondsFromStart: Double
    var cpuSeconds: Double

    var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
}

/// The plain C loops of the `RawKafka` target.
enum RawKafka {
    /// Counts `expected` records of `topic` from the beginning of every partition.
    static func consumeCount(
        bootstrap: String, topic: String, partitions: Int, expected: Int, queuedMinMessages: Int = 1_000_000
    ) throws -> LoopResult {
        var result = raw_kafka_result()
        let cpu = Measure.cpuSeconds()
        raw_kafka_consume_count(bootstrap, topic, Int32(partitions), Int64(expected), Int32(queuedMinMessages), 10_000, 30_000, &result)
        let cpuUsed = Measure.cpuSeconds() - cpu
        try check(result, "C consume loop")
        return LoopResult(
            records: Int(result.records), bytes: Int(result.bytes), seconds: Double(result.end_ns - result.first_ns) / 1e9,
            secondsFromStart: Double(result.end_ns - result.start_ns) / 1e9, cpuSeconds: cpuUsed)
    }

    /// A C producer with librdkafka's default delivery-report callback.
    final class Producer {
        private let handle: OpaquePointer
        private var result = raw_kafka_result()
        private var cpuAtStart: Double

        init(bootstrap: String, idempotent: Bool = true, lingerMilliseconds: Int = 5, maxQueued: Int = 100_000) throws {
            var error = [CChar](repeating: 0, count: 512)
            guard let handle = raw_kafka_producer_new(bootstrap, idempotent ? 1 : 0, Int32(lingerMilliseconds), Int32(maxQueued), &error, error.count)
            else {
                throw BenchError("C producer: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
            }
            self.handle = handle
            cpuAtStart = Measure.cpuSeconds()
        }

        deinit { raw_kafka_producer_destroy(handle) }

        /// Produces one uncounted record to `topic` and waits for it (connection, producer id
        /// and topic metadata settled); CPU time counts from here.
        func warmUp(topic: String) throws {
            var error = [CChar](repeating: 0, count: 512)
            guard raw_kafka_producer_warm_up(handle, topic, &error, error.count) == 0 else {
                throw BenchError("C producer: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
            }
            cpuAtStart = Measure.cpuSeconds()
        }

        /// Enqueues every record of `records` to `topic`.
        func send(_ records: FlatRecords, topic: String) throws {
            records.keys.withUnsafeBufferPointer { keys in
                records.keyOffsets.withUnsafeBufferPointer { keyOffsets in
                    records.values.withUnsafeBufferPointer { values in
                        records.valueOffsets.withUnsafeBufferPointer { valueOffsets in
                            raw_kafka_producer_send(
                                handle, topic, keys.baseAddress, keyOffsets.baseAddress, values.baseAddress, valueOffsets.baseAddress,
                                Int64(records.count), &result)
                        }
                    }
                }
            }
            try RawKafka.check(result, "C produce loop")
        }

        /// Waits for every delivery and returns the loop's figures.
        func flush() throws -> LoopResult {
            raw_kafka_producer_flush(handle, 120_000, &result)
            try RawKafka.check(result, "C produce loop")
            return LoopResult(
                records: Int(result.records), bytes: Int(result.bytes), seconds: Double(result.end_ns - result.first_ns) / 1e9,
                secondsFromStart: Double(result.end_ns - result.start_ns) / 1e9, cpuSeconds: Measure.cpuSeconds() - cpuAtStart)
        }
    }

    /// Low and high watermarks of partitions `0..<partitions`.
    static func watermarks(bootstrap: String, topic: String, partitions: Int) throws -> (low: [Int64], high: [Int64]) {
        var low = [Int64](repeating: -1, count: partitions)
        var high = [Int64](repeating: -1, count: partitions)
        var error = [CChar](repeating: 0, count: 512)
        guard raw_kafka_watermarks(bootstrap, topic, Int32(partitions), &low, &high, &error, error.count) == 0 else {
            throw BenchError("watermarks of \(topic): \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        return (low, high)
    }

    fileprivate static func check(_ result: raw_kafka_result, _ what: String) throws {
        guard result.error != 0 else { return }
        let message = withUnsafeBytes(of: result.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        throw BenchError("\(what): \(message)")
    }
}
