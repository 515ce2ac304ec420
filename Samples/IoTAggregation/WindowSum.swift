import Sluice

/// One result of the pipeline, as published to the output topic:
/// `{"id":17,"window_start":1700000000,"window_end":1700000010,"sum":412,"count":10}`.
struct WindowSum: Sendable, Equatable {
    /// The sensor id.
    var id: Int
    /// Window start, milliseconds since the epoch (inclusive).
    var windowStart: Int64
    /// Window end, milliseconds since the epoch (exclusive).
    var windowEnd: Int64
    /// The sum of the values in the window.
    var sum: Int
    /// The number of readings in the window.
    var count: Int

    /// The result for one window of the pipeline.
    init(_ result: WindowResult<Int, SumCount>) {
        self.init(
            id: result.key, windowStart: result.window.start.millisecondsSinceEpoch,
            windowEnd: result.window.end.millisecondsSinceEpoch, sum: result.value.sum, count: result.value.count)
    }

    /// A result from its parts.
    init(id: Int, windowStart: Int64, windowEnd: Int64, sum: Int, count: Int) {
        self.id = id
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.sum = sum
        self.count = count
    }

    /// Decodes a record value written by ``json``; `nil` when it is not one.
    init?(json bytes: [UInt8]) {
        guard let body = try? FastJSONDecoder().decode(Body.self, from: bytes),
            let start = Self.milliseconds(body.windowStart), let end = Self.milliseconds(body.windowEnd)
        else { return nil }
        self.init(id: body.id, windowStart: start, windowEnd: end, sum: body.sum, count: body.count)
    }

    /// Seconds as whole milliseconds, rounded; `nil` when they do not fit (not a result of ours).
    private static func milliseconds(_ seconds: Double) -> Int64? {
        let milliseconds = (seconds * 1_000).rounded()
        guard milliseconds > -9.2e18 && milliseconds < 9.2e18 else { return nil }
        return Int64(milliseconds)
    }

    /// The record value: compact JSON with window bounds in seconds (integers when whole).
    var json: [UInt8] {
        let start = EpochSeconds.text(milliseconds: windowStart)
        let end = EpochSeconds.text(milliseconds: windowEnd)
        return Array(#"{"id":\#(id),"window_start":\#(start),"window_end":\#(end),"sum":\#(sum),"count":\#(count)}"#.utf8)
    }

    /// The record key: the sensor id as text.
    var key: [UInt8] { Array(String(id).utf8) }

    private struct Body: Decodable {
        var id: Int
        var windowStart: Double
        var windowEnd: Double
        var sum: Int
        var count: Int

        enum CodingKeys: String, CodingKey {
            case id, sum, count
            case windowStart = "window_start"
            case windowEnd = "window_end"
        }
    }
}
