internal import CRdKafka

/// Turns librdkafka's per-record delivery callbacks into ``KafkaDeliveryReport``s for a
/// producer's `onDelivery` handler.
///
/// librdkafka calls ``rdKafkaDeliveryCallback`` for each record from inside `rd_kafka_poll`
/// or `rd_kafka_flush`, on the thread that called them. ``DeliveryLoop`` and the producer
/// make those calls only while holding the loop's `serving` lock, so this object is used by
/// one thread at a time and reports reach `onDelivery` in librdkafka's order.
///
/// The callback form (the one a plain C producer uses) rather than delivery-report events:
/// walking an event's messages with `rd_kafka_event_message_next` cost about 80 ns per
/// record more than librdkafka's own loop over them (it moves each message to a second list,
/// touching it twice), a tenth of the producer's CPU in a profile split by the benchmark's
/// timed windows.
///
/// `@unchecked Sendable`: its mutable state is touched only under that lock.
final class RDKafkaDeliveryReports: @unchecked Sendable {
    private let onDelivery: @Sendable (KafkaDeliveryReport) -> Void
    /// One report, updated in place for each record, so that its topic name is not copied
    /// (a retain and a release) per record.
    private var report = KafkaDeliveryReport(id: 0, topic: "", partition: 0, offset: nil, error: nil)
    /// The topic handle `report.topic` was made from.
    private var topicHandle: OpaquePointer?

    init(onDelivery: @escaping @Sendable (KafkaDeliveryReport) -> Void) {
        self.onDelivery = onDelivery
    }

    /// Hands out the report for `message`. Call with the delivery loop's `serving` lock held.
    @inline(__always)
    func deliver(_ message: UnsafePointer<rd_kafka_message_t>) {
        let err = message.pointee.err
        let id = UInt64(UInt(bitPattern: message.pointee._private))
        if topicHandle != message.pointee.rkt || report.topic.isEmpty {
            // Reports mostly share a topic: its name is made once per run of them.
            topicHandle = message.pointee.rkt
            report.topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        }
        let delivered = err == RD_KAFKA_RESP_ERR_NO_ERROR
        report.id = id
        report.partition = message.pointee.partition
        report.offset = delivered && message.pointee.offset >= 0 ? message.pointee.offset : nil
        report.error = delivered ? nil : KafkaError.rdKafka(err, "delivering record \(id) to \(report.topic)")
        onDelivery(report)
    }
}

/// librdkafka's delivery-report callback (`dr_msg_cb`): forwards each record's outcome to
/// the producer's ``RDKafkaDeliveryReports``.
let rdKafkaDeliveryCallback:
    @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
        _, message, opaque in
        guard let message, let opaque else { return }
        Unmanaged<RDKafkaContext>.fromOpaque(opaque).takeUnretainedValue().deliveryReports?.deliver(message)
    }
