/// Where a record's event time comes from.
public enum EventTimeSource<Input: Sendable>: Sendable {
    /// Extracted from the decoded input.
    case extract(@Sendable (Input) -> EventTime)
    /// The Kafka record's timestamp (create or log-append time).
    case recordTimestamp
    /// The wall-clock time at which the record is processed.
    case processingTime
}

/// How a pipeline turns a record into its input.
@usableFromInline
package enum RecordDecoding<Input: Sendable>: Sendable {
    /// From the value's bytes alone (the JSON source): the record is read in place, not copied.
    case value(@Sendable (UnsafeRawBufferPointer) throws -> Input)
    /// From the whole record (a custom decode function).
    case record(@Sendable (SourceRecord) throws -> Input)
}

/// Everything the router needs to turn raw records into processor calls.
@usableFromInline
package struct PipelineLogic<Processor: KeyedProcessor>: Sendable {
    @usableFromInline var decode: RecordDecoding<Processor.Input>
    @usableFromInline var eventTime: EventTimeSource<Processor.Input>
    @usableFromInline var key: @Sendable (Processor.Input) -> Processor.Key
    @usableFromInline var processor: Processor
    @usableFromInline var watermarks: WatermarkPolicy
    /// Records with a larger value are dead-lettered without decoding.
    @usableFromInline package var maxRecordBytes: Int = .max
}
