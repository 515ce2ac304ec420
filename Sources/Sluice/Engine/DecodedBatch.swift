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
        // Closures taken out of their enums once, not per record (each copy retains them).
        var decodeValue: (@Sendable (UnsafeRawBufferPointer) throws -> Processor.Input)?
        var decodeRecord: (@Sendable (SourceRecord) throws -> Processor.Input)?
        switch logic.decode {
        case .value(let decode): decodeValue = decode
        case .record(let decode): decodeRecord = decode
        }
        var extractTime: (@Sendable (Processor.Input) -> EventTime)?
        var usesRecordTimestamp = false
        switch logic.eventTime {
        case .extract(let extract): extractTime = extract
        case .recordTimestamp: usesRecordTimestamp = true
        case .processingTime: break
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
                    if let decodeValue {
                        input = try decodeValue(record.pointee.unsafeValueBytes)
                    } else {
                        input = try decodeRecord!(record.pointee)
                    }
                } catch {
                    outcomes.append(.rejected(reason: Self.describe(error)))
                    continue
                }
                let time = extractTime.map { $0(input) } ?? (usesRecordTimestamp ? record.pointee.timestamp : nil)
                outcomes.append(.event(input, key: key(input), time: time))
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
