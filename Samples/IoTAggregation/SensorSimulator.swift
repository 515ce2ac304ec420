import Foundation

/// Generates the sensors' readings, one record at a time, in a replayable order.
///
/// Reading `i` comes from sensor `i % sensors`. With a synthetic clock its time is
/// `startTime + (i / sensors) * timeStep`; otherwise it is the wall clock when it is made.
/// Jitter moves each time back by a random amount up to `jitter`, as if the reading had been
/// delayed on its way. Every `malformedEvery`-th record is not JSON at all, for dead letters.
struct SensorSimulator: Sendable {
    /// Where event time comes from.
    enum Clock: Sendable {
        /// Times start at `start` (seconds since the epoch) and advance `step` seconds per round of sensors.
        case synthetic(start: Double, step: Double)
        /// The wall clock.
        case wall
    }

    /// One record to send.
    struct Record: Sendable {
        /// The sensor id as text.
        var key: [UInt8]
        /// The reading as JSON, or garbage for a malformed record.
        var value: [UInt8]
        /// The reading, or `nil` for a malformed record.
        var reading: Reading?
    }

    /// The number of sensors.
    let sensors: Int
    /// Where event time comes from.
    let clock: Clock
    /// The largest delay subtracted from a reading's time, in seconds.
    let jitter: Double
    /// Every this many records one is malformed; 0 for none.
    let malformedEvery: Int
    private var random: SeededGenerator
    private(set) var produced = 0

    /// A simulator; `seed` fixes values and jitter.
    init(sensors: Int, clock: Clock, jitter: Double = 0, malformedEvery: Int = 0, seed: UInt64 = 1) {
        precondition(sensors > 0, "at least one sensor")
        self.sensors = sensors
        self.clock = clock
        self.jitter = jitter
        self.malformedEvery = malformedEvery
        self.random = SeededGenerator(seed: seed)
    }

    /// The next record.
    mutating func next() -> Record {
        let index = produced
        produced += 1
        let id = index % sensors
        let key = Array(String(id).utf8)
        if malformedEvery > 0 && (index + 1) % malformedEvery == 0 {
            return Record(key: key, value: Array("malformed reading #\(index)".utf8), reading: nil)
        }
        var time: Double
        switch clock {
        case .synthetic(let start, let step):
            time = start + Double(index / sensors) * step
        case .wall:
            time = (Date().timeIntervalSince1970 * 1_000).rounded(.down) / 1_000
        }
        let value = Int.random(in: 0...99, using: &random)
        if jitter > 0 {
            let delay = (Double.random(in: 0...jitter, using: &random) * 1_000).rounded() / 1_000
            time = ((time - delay) * 1_000).rounded() / 1_000
        }
        let reading = Reading(id: id, time: time, value: value)
        return Record(key: key, value: reading.json, reading: reading)
    }
}
