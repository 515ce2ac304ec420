/// One sensor reading, as the sensors write it: `{"id":17,"time":1700000000.25,"value":7}`.
struct Reading: Codable, Sendable, Equatable {
    /// The sensor id; also the record key, as text.
    let id: Int
    /// Event time in seconds since the epoch.
    let time: Double
    /// The measured value, 0 to 99.
    let value: Int

    /// The record value: compact JSON, written by hand so that it is cheap and its form is fixed.
    var json: [UInt8] {
        Array(#"{"id":\#(id),"time":\#(EpochSeconds.text(time)),"value":\#(value)}"#.utf8)
    }

    /// The record key: the sensor id as text.
    var key: [UInt8] { Array(String(id).utf8) }
}
