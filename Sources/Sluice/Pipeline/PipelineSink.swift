/// A record for an output topic: what a sink makes of one result.
public struct SinkRecord: Sendable, Equatable {
    /// The record key (used for partitioning).
    public var key: [UInt8]?
    /// The record value.
    public var value: [UInt8]
    /// Extra headers.
    public var headers: [OutputHeader]

    /// Creates a record.
    public init(key: [UInt8]?, value: [UInt8], headers: [OutputHeader] = []) {
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Where a pipeline's results go.
///
/// Sluice ships ``KafkaSink`` (exactly-once through the outbox) and ``MemorySink``
/// (a handler or `AsyncStream`, for tests and embedding).
public protocol PipelineSink<Output>: Sendable {
    /// The result type the sink accepts.
    associatedtype Output: Sendable
}

/// A pipeline's source of records.
///
/// Sluice ships ``KafkaSource`` and ``MemorySource``.
public protocol PipelineSource: Sendable {}
