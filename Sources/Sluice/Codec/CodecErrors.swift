/// Helpers shared by the codecs for turning errors thrown by model code into readable messages.
enum CodecErrors {
    /// A one-line description of a `DecodingError` thrown by a model's own `init(from:)`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at '\(p)'"
        }
        switch error {
        case .typeMismatch(let type, let context): return "expected \(type)\(path(context)): \(context.debugDescription)"
        case .valueNotFound(let type, let context): return "missing \(type) value\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)'\(path(context))"
        case .dataCorrupted(let context): return "invalid value\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
