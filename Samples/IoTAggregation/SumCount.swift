/// The per-window accumulator: the sum of the readings' values and how many there were.
struct SumCount: Codable, Sendable, Equatable {
    /// The sum of the values.
    var sum = 0
    /// The number of readings.
    var count = 0

    /// Adds one reading.
    mutating func add(_ reading: Reading) {
        sum += reading.value
        count += 1
    }
}
