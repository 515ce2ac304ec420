/// The IoT readings: `{"id":17,"time":1700000000.25,"value":7}`, keyed by the sensor id as
/// text, in the form the `iot sensors` sample writes them.
///
/// Reading `i` comes from sensor `i % sensors` at `start + (i / sensors) * step` seconds,
/// moved back by up to `disorder` seconds (a seeded pseudo-random delay), so event time
/// increases with up to `disorder` of disorder.
struct IoTWorkload: Sendable {
    var sensors: Int
    var start: Double = 1_700_000_000
    var step: Double = 0.5
    var disorder: Double = 0.5
    var seed: UInt64 = 0x5EED

    /// Records `range` as flat buffers for the C producer.
    func chunk(_ range: Range<Int>) -> FlatRecords {
        var flat = FlatRecords(capacity: range.count)
        for i in range {
            let id = i % sensors
            let jitter = Double(Self.mix(UInt64(i) &+ seed) % 501) / 1_000 * (disorder / 0.5)
            let millis = Int64(((start + Double(i / sensors) * step - jitter) * 1_000).rounded())
            let value = Int(Self.mix(UInt64(i) &* 31 &+ seed) % 100)
            flat.append(key: id, millis: millis, value: value)
        }
        return flat
    }

    /// The event time of reading `i` in milliseconds (as the pipeline sees it).
    func millis(of i: Int) -> Int64 {
        let jitter = Double(Self.mix(UInt64(i) &+ seed) % 501) / 1_000 * (disorder / 0.5)
        return Int64(((start + Double(i / sensors) * step - jitter) * 1_000).rounded())
    }

    /// The number of distinct (sensor, window) pairs among the first `count` readings: the
    /// number of results a correct run publishes.
    func expectedResults(count: Int, windowMilliseconds: Int64) -> Int {
        var seen = Set<Int64>()
        seen.reserveCapacity(count / 10)
        for i in 0..<count {
            let window = millis(of: i) / windowMilliseconds
            seen.insert(window &* 10_000_000 &+ Int64(i % sensors))
        }
        return seen.count
    }

    /// SplitMix64: a cheap, seeded, stateless hash.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Records as two contiguous byte buffers with offsets, the form the C loops take.
struct FlatRecords: Sendable {
    var keys: [UInt8] = []
    var keyOffsets: [Int64] = [0]
    var values: [UInt8] = []
    var valueOffsets: [Int64] = [0]

    init(capacity: Int) {
        keys.reserveCapacity(capacity * 6)
        keyOffsets.reserveCapacity(capacity + 1)
        values.reserveCapacity(capacity * 44)
        valueOffsets.reserveCapacity(capacity + 1)
    }

    var count: Int { keyOffsets.count - 1 }

    /// Appends reading `{"id":key,"time":seconds.mmm,"value":value}` keyed by `key`.
    mutating func append(key: Int, millis: Int64, value: Int) {
        appendDecimal(key, to: &keys)
        keyOffsets.append(Int64(keys.count))
        values.append(contentsOf: #"{"id":"#.utf8)
        appendDecimal(key, to: &values)
        values.append(contentsOf: #","time":"#.utf8)
        appendDecimal(Int(millis / 1_000), to: &values)
        let fraction = Int(millis % 1_000)
        if fraction != 0 {
            values.append(UInt8(ascii: "."))
            var digits = [UInt8(fraction / 100), UInt8(fraction / 10 % 10), UInt8(fraction % 10)]
            while digits.last == 0 { digits.removeLast() }
            values.append(contentsOf: digits.map { $0 + UInt8(ascii: "0") })
        }
        values.append(contentsOf: #","value":"#.utf8)
        appendDecimal(value, to: &values)
        values.append(UInt8(ascii: "}"))
        valueOffsets.append(Int64(values.count))
    }

    /// Appends an arbitrary record.
    mutating func append(key: [UInt8], value: [UInt8]) {
        keys.append(contentsOf: key)
        keyOffsets.append(Int64(keys.count))
        values.append(contentsOf: value)
        valueOffsets.append(Int64(values.count))
    }

    func key(_ i: Int) -> ArraySlice<UInt8> { keys[Int(keyOffsets[i])..<Int(keyOffsets[i + 1])] }
    func value(_ i: Int) -> ArraySlice<UInt8> { values[Int(valueOffsets[i])..<Int(valueOffsets[i + 1])] }
}

private func appendDecimal(_ number: Int, to bytes: inout [UInt8]) {
    if number < 0 {
        bytes.append(UInt8(ascii: "-"))
        appendDecimal(-number, to: &bytes)
        return
    }
    if number >= 10 { appendDecimal(number / 10, to: &bytes) }
    bytes.append(UInt8(ascii: "0") + UInt8(number % 10))
}
