import Sluice

/// One sensor reading, as the sensors write it: `{"id":17,"time":1700000000.25,"value":7}`.
struct Reading: Codable, Sendable, Equatable {
    /// The sensor id; also the record key, as text.
    let id: Int
    /// Event time in seconds since the epoch.
    let time: Double
    /// The measured value (the simulator sends 0 to 99). Decoding refuses values outside
    /// ``valueRange``, so that no window's sum can overflow: such a reading is dead-lettered.
    let value: Int

    /// The values a reading may carry.
    static let valueRange = -1_000_000_000...1_000_000_000

    init(id: Int, time: Double, value: Int) {
        self.id = id
        self.time = time
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        time = try container.decode(Double.self, forKey: .time)
        value = try container.decode(Int.self, forKey: .value)
        guard Self.valueRange.contains(value) else {
            throw SluiceError(.decoding, "value \(value) is outside \(Self.valueRange.lowerBound)...\(Self.valueRange.upperBound)")
        }
    }

    /// The record value: compact JSON, written by hand so that it is cheap and its form is fixed.
    var json: [UInt8] {
        Array(#"{"id":\#(id),"time":\#(EpochSeconds.text(time)),"value":\#(value)}"#.utf8)
    }

    /// The record key: the sensor id as text.
    var key: [UInt8] { Array(String(id).utf8) }
}
