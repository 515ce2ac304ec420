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
        /// Not decodable, or larger than the pipeline accepts: a dead letter, with the reason
        /// at this index of ``rejectionReasons``. (An index, not the text: with inputs and keys
        /// of plain values, an outcome then holds no reference, and a batch's outcomes are
        /// copied and freed without work per record.)
        case rejected(reason: Int)
    }

    /// The records, in poll order.
    @usableFromInline package let input: InputBatch
    /// One outcome per record, in the same order.
    @usableFromInline let outcomes: [Outcome]
    /// Why records were rejected, in order; see ``Outcome/rejected(reason:)``.
    @usableFromInline let rejectionReasons: [String]

    /// Decodes `input` with the pipeline's logic. Runs on any thread.
    @inlinable
    package init(input: InputBatch, logic: PipelineLogic<Processor>) {
        self.input = input
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(input.count)
        var reasons: [String] = []
        // The pipeline's choices are made once per batch, into closures called per record:
        // taking a closure out of an enum or an optional per record would retain it each time.
        // The value's bytes are read in place; a whole `SourceRecord` is made only for a
        // pipeline that decodes records.
        let decode: (Int, UnsafeRawBufferPointer) throws -> Processor.Input
        switch logic.decode {
        case .value(let decodeValue): decode = { _, bytes in try decodeValue(bytes) }
        case .record(let decodeRecord): decode = { index, _ in try decodeRecord(input.record(at: index)) }
        }
        let timeOf: (Processor.Input, Int) -> EventTime?
        switch logic.eventTime {
        case .extract(let extract): timeOf = { input, _ in extract(input) }
        case .recordTimestamp: timeOf = { _, index in input.timestamp(at: index) }
        case .processingTime: timeOf = { _, _ in nil }
        }
        let key = logic.key
        let maxRecordBytes = logic.maxRecordBytes
        input.forEachValue { index, bytes in
            if bytes.count > maxRecordBytes {
                outcomes.append(.rejected(reason: reasons.count))
                reasons.append("record of \(bytes.count) bytes exceeds the limit of \(maxRecordBytes) bytes")
                return
            }
            let value: Processor.Input
            do {
                value = try decode(index, bytes)
            } catch {
                outcomes.append(.rejected(reason: reasons.count))
                reasons.append(Self.describe(error))
                return
            }
            let time = timeOf(value, index)
            if let time, !time.isSupportedRecordTime {
                // Window bounds and timers computed from it would overflow and stop the
                // process at every restart; a watermark at it would close every window.
                outcomes.append(.rejected(reason: reasons.count))
                reasons.append(
                    "event time \(time.millisecondsSinceEpoch) ms is outside the range Sluice supports "
                        + "(after \(EventTime.distantPast.millisecondsSinceEpoch) ms, up to \(EventTime.latestRecordTime.millisecondsSinceEpoch) ms)")
                return
            }
            outcomes.append(.event(value, key: key(value), time: time))
        }
        self.outcomes = outcomes
        self.rejectionReasons = reasons
    }

    @usableFromInline
    static func describe(_ error: any Error) -> String {
        if let error = error as? SluiceError { return error.message }
        return String(describing: error)
    }
}
