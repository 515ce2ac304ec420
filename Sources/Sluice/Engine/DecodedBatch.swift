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
        for index in records.indices {
            let size = records[index].valueCount
            if size > logic.maxRecordBytes {
                outcomes.append(.rejected(reason: "record of \(size) bytes exceeds the limit of \(logic.maxRecordBytes) bytes"))
                continue
            }
            let input: Processor.Input
            do {
                // The JSON source reads the value's bytes in place; a custom function gets the record.
                switch logic.decode {
                case .value(let decode): input = try records[index].withUnsafeValue(decode)
                case .record(let decode): input = try decode(records[index])
                }
            } catch {
                outcomes.append(.rejected(reason: Self.describe(error)))
                continue
            }
            let time: EventTime?
            switch logic.eventTime {
            case .extract(let extract): time = extract(input)
            case .recordTimestamp: time = records[index].timestamp
            case .processingTime: time = nil
            }
            outcomes.append(.event(input, key: logic.key(input), time: time))
        }
        self.outcomes = outcomes
    }

    @usableFromInline
    static func describe(_ error: any Error) -> String {
        if let error = error as? SluiceError { return error.message }
        return String(describing: error)
    }
}
