internal import CRdKafka
import Logging
import Synchronization

/// State shared between a Swift client and librdkafka's C callbacks.
///
/// librdkafka holds an unmanaged, retained reference to it as the handle's opaque
/// pointer; ``RDKafkaClient`` releases that reference after `rd_kafka_destroy` returns.
final class RDKafkaContext: Sendable {
    /// A rebalance the rebalance callback recorded, with the protocol it belongs to.
    struct Rebalance: Sendable {
        var event: KafkaRebalanceEvent
        var isCooperative: Bool
    }

    let logger: Logger
    /// Set once the client is closing: rebalance callbacks then apply changes at once.
    let isClosing = Atomic<Bool>(false)
    /// Rebalances recorded by the callback, not yet returned by a poll.
    let undeliveredRebalances = Mutex<[Rebalance]>([])
    /// Set while the poll thread is inside `rd_kafka_consume_batch_queue`, where the rebalance
    /// callback must not call `rd_kafka_yield`: librdkafka 2.0.2's batch loop then drops the op
    /// it takes next (neither returned nor destroyed). Only the poll thread touches it, and the
    /// callback runs on that thread, inside the call.
    let isConsumingBatch = Atomic<Bool>(false)
    /// Client-level errors librdkafka reported (broker connection failures, request errors it
    /// will retry, fatal errors), counted for metrics.
    let errorCount = Atomic<UInt64>(0)
    /// Times a producer's send found librdkafka's queue full and waited for room.
    let queueFullWaits = Atomic<UInt64>(0)

    init(logger: Logger) {
        self.logger = logger
    }
}

// MARK: - C callbacks

/// Forwards a librdkafka log line to swift-log. Called on librdkafka's own threads.
///
/// librdkafka's errors and warnings (syslog levels 0–4) are things an operator may have to
/// act on (a broker unreachable, a failed commit), so they map to `warning`; its notices to
/// `info`, its informational lines to `debug` and its debug lines to `trace` (one warning
/// Sluice causes itself goes to `debug`, below).
let rdKafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void =
    { rk, level, facility, line in
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
        let context = Unmanaged<RDKafkaContext>.fromOpaque(opaque).takeUnretainedValue()
        var swiftLevel: Logger.Level = level <= 4 ? .warning : level == 5 ? .info : (level == 6 ? .debug : .trace)
        let text = { line.map { String(cString: $0) } ?? "" }
        // Sluice's pipelines set enable.gapless.guarantee (Docs/ExactlyOnce.md), which librdkafka
        // calls experimental in a warning at every start: nothing for an operator to act on.
        if swiftLevel == .warning && text().contains("enable.gapless.guarantee is experimental") { swiftLevel = .debug }
        guard context.logger.logLevel <= swiftLevel else { return }
        context.logger.log(
            level: swiftLevel, "\(text())",
            metadata: [
                "sluice.kafka.facility": "\(facility.map { String(cString: $0) } ?? "")",
                "sluice.kafka.client": "\(String(cString: rd_kafka_name(rk)))",
                "sluice.kafka.syslogLevel": "\(level)",
            ])
    }

/// Logs a client-level error librdkafka reports outside any call (for example a broker
/// connection failing). Called while the client's queue is served.
let rdKafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void =
    { rk, err, reason, opaque in
        guard let opaque else { return }
        let context = Unmanaged<RDKafkaContext>.fromOpaque(opaque).takeUnretainedValue()
        let code = rd_kafka_resp_err_t(rawValue: err)
        context.errorCount.add(1, ordering: .relaxed)
        context.logger.warning(
            "librdkafka error: \(reason.map { String(cString: $0) } ?? "")",
            metadata: ["sluice.kafka.error": "\(String(cString: rd_kafka_err2name(code)))"])
    }
