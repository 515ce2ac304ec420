/// Publishes a pipeline's results to a Kafka topic.
///
/// In exactly-once mode every result goes through the checkpointed outbox and is
/// published after the checkpoint that produced it commits; see `Docs/ExactlyOnce.md`.
/// Sluice adds two headers of its own to each record, `sluice.writer` and `sluice.seq`, which
/// recovery reads back; a record whose encoding sets either stops the pipeline with
/// `SluiceError(.encoding)` before any checkpoint holds it.
public struct KafkaSink<Output: Sendable>: PipelineSink {
    /// The output topic.
    public var topic: String
    /// Turns a result into a record.
    public var encode: @Sendable (Output) throws -> SinkRecord

    /// Publishes results encoded by `encode`.
    public init(topic: String, encode: @escaping @Sendable (Output) throws -> SinkRecord) {
        self.topic = topic
        self.encode = encode
    }
}

extension KafkaSink {
    /// Publishes window results as JSON `{"key": …, "window_start": …, "window_end": …, "value": …}`
    /// (window bounds in seconds since the epoch), keyed by the key's text.
    public init<Key: Sendable & Encodable & CustomStringConvertible, Value: Sendable & Encodable>(topic: String)
    where Output == WindowResult<Key, Value> {
        let encoder = FastJSONEncoder()
        self.init(topic: topic) { result in
            let body = WindowResultJSON(
                key: result.key, windowStart: result.window.start.secondsSinceEpoch,
                windowEnd: result.window.end.secondsSinceEpoch, value: result.value)
            return SinkRecord(key: Array(result.key.description.utf8), value: try encoder.encode(body))
        }
    }
}

private struct WindowResultJSON<Key: Encodable, Value: Encodable>: Encodable {
    var key: Key
    var windowStart: Double
    var windowEnd: Double
    var value: Value

    enum CodingKeys: String, CodingKey {
        case key
        case windowStart = "window_start"
        case windowEnd = "window_end"
        case value
    }
}
