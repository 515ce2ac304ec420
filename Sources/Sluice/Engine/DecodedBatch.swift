/// Polled records with each one decoded, keyed and, where the pipeline takes event time from
/// the input, timed: the work on a record that needs no state, done before the router sees it.
///
/// The runner makes it on the read-ahead task, off the router's executor, so that decoding one
/// batch overlaps applying the previous one.
@usableFromInline
package struct DecodedBatch<Processor: KeyedProcessor>: Sendable {
    /// What became of one record.
    @usableFromInline
    enum Outcome: Sendable {
        /// Decoded; `time` is `nil` when it is the wall clock at ingestion (processing time, or
        /// a record timestamp that is missing).
        case event(Processor.Input, key: Processor.Key, time: EventTime?)
        /// Not decodable, or larger than the pipeline accepts: a dead letter, with the reason.
        case rejected(reason: String)
    }

    /// The records, in poll order.
    @usableFromInline package let records: [SourceRecord]
    /// One outcome per record, in the same order.
    @usableFromInline let outcomes: [Outcome]

    /// Decodes `records` with the pipeline's logic. Runs on any thread.
    @inlinable
    package init(records: [SourceRecord], logic: PipelineLogic<Processor>) {
        self.records = records
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(records.count)
        // The pipeline's choices are made once per batch, into closures called per record:
        // taking a closure out of an enum or an optional per record would retain it each time.
        let decode: (UnsafePointer<SourceRecord>) throws -> Processor.Input
        switch logic.decode {
        case .value(let decodeValue): decode = { try decodeValue($0.pointee.unsafeValueBytes) }
        case .record(let decodeRecord): decode = { try decodeRecord($0.pointee) }
        }
        let timeOf: (Processor.Input, UnsafePointer<SourceRecord>) -> EventTime?
        switch logic.eventTime {
        case .extract(let extract): timeOf = { input, _ in extract(input) }
        case .recordTimestamp: timeOf = { _, record in record.pointee.timestamp }
        case .processingTime: timeOf = { _, _ in nil }
        }
        let key = logic.key
        let maxRecordBytes = logic.maxRecordBytes
        records.withUnsafeBufferPointer { records in
            guard let first = records.baseAddress else { return }
            for index in records.indices {
                // Through the pointer the record is read in place: no copy of it (and no retain
                // of its buffer) per record.
                let record = first + index
                let size = record.pointee.valueCount
                if size > maxRecordBytes {
                    outcomes.append(.rejected(reason: "record of \(size) bytes exceeds the limit of \(maxRecordBytes) bytes"))
                    continue
                }
                let input: Processor.Input
                do {
                    input = try decode(record)
                } catch {
                    outcomes.append(.rejected(reason: Self.describe(error)))
                    continue
                }
                outcomes.append(.event(input, key: key(input), time: timeOf(input, record)))
            }
        }
        self.outcomes = outcomes
    }

    @usableFromInline
    static func describe(_ error: any Error) -> String {
        if let error = error as? SluiceError { return error.message }
        return String(describing: error)
    }
}
