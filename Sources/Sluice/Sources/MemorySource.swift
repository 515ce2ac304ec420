/// Feeds a pipeline from an `AsyncSequence` of records: for tests and embedding.
///
/// The pipeline finishes when the sequence ends (every window closes, a final
/// checkpoint is taken). Records whose offset is below the partition's
/// checkpointed offset are skipped, so a restarted pipeline can be fed the same
/// sequence again.
public struct MemorySource: PipelineSource {
    let makeIterator: @Sendable () -> AsyncRecordIterator

    /// Reads `records` until it ends.
    public init<Records: AsyncSequence & Sendable>(_ records: Records) where Records.Element == SourceRecord {
        makeIterator = { AsyncRecordIterator(records) }
    }

    /// Reads a fixed list of records.
    public init(_ records: [SourceRecord]) {
        let stream = AsyncStream<SourceRecord> { continuation in
            for record in records { continuation.yield(record) }
            continuation.finish()
        }
        self.init(stream)
    }
}

/// Owns a type-erased async iterator; used by one reader task at a time.
final class AsyncRecordIterator: @unchecked Sendable {
    // Safe: only the pipeline runner's single loop calls `next()`, never concurrently.
    private let nextRecord: () async throws -> SourceRecord?

    init<Records: AsyncSequence & Sendable>(_ records: Records) where Records.Element == SourceRecord {
        var iterator = records.makeAsyncIterator()
        nextRecord = { try await iterator.next() }
    }

    func next() async throws -> SourceRecord? { try await nextRecord() }
}
