internal import CRdKafka
import Dispatch
import Logging

/// Owns one `rd_kafka_t` handle and the context its callbacks use.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe for every call Sluice makes,
/// the pointer itself never changes, and the handle is destroyed exactly once, in `deinit`,
/// when no Swift code can reach it any more.
final class RDKafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    let context: RDKafkaContext
    private let retainedContext: Unmanaged<RDKafkaContext>

    /// Creates a handle from `properties`, after letting `configure` install callbacks.
    ///
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration`` naming the
    ///   property librdkafka rejected.
    init(
        type: rd_kafka_type_t, properties: [(String, String)], logger: Logger,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let shown = key.contains("password") ? "<hidden>" : value
                throw KafkaError(
                    .configuration,
                    result == RD_KAFKA_CONF_UNKNOWN
                        ? "unknown librdkafka property \"\(key)\": \(reason)"
                        : "invalid value \"\(shown)\" for librdkafka property \"\(key)\": \(reason)")
            }
        }
        let context = RDKafkaContext(logger: logger)
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdKafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdKafkaErrorCallback)
        configure(conf)

        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            // rd_kafka_new leaves the configuration to the caller when it fails.
            rd_kafka_conf_destroy(conf)
            retained.release()
            let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(.configuration, "librdkafka rejected the configuration: \(reason)")
        }
        self.handle = handle
        self.context = context
        self.retainedContext = retained
    }

    /// The value of an integer configuration property as the handle uses it, or `nil` when
    /// librdkafka does not know the property or its value is not an integer.
    func integerProperty(_ name: String) -> Int? {
        guard let conf = rd_kafka_conf(handle) else { return nil }
        var text = [CChar](repeating: 0, count: 64)
        var size = text.count
        guard rd_kafka_conf_get(conf, name, &text, &size) == RD_KAFKA_CONF_OK else { return nil }
        return Int(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The librdkafka instance name, for example `sluice#consumer-1`.
    var name: String { String(cString: rd_kafka_name(handle)) }

    deinit {
        // rd_kafka_destroy may block (it closes a consumer and joins threads), and a deinit
        // can run on the cooperative pool, so destroy on a queue of its own: not a global
        // queue, whose threads Swift's global executor shares on Linux.
        context.isClosing.store(true, ordering: .sequentiallyConsistent)
        let doomed = DoomedHandle(handle: handle, context: retainedContext)
        DispatchQueue(label: "sluice.kafka.destroy.\(name)").async {
            rd_kafka_destroy(doomed.handle)
            doomed.context.release()
        }
    }
}

/// A handle on its way to `rd_kafka_destroy`.
///
/// `@unchecked Sendable`: it is handed from a deinit to exactly one destroying thread.
private struct DoomedHandle: @unchecked Sendable {
    let handle: OpaquePointer
    let context: Unmanaged<RDKafkaContext>
}
