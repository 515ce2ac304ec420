/// The key updates of one partition, prepared for writing in LMDB's key order.
///
/// Writing keys in order makes consecutive `mdb_put`s land on the same B-tree
/// pages. Sorting 100,000 `[UInt8]` keys directly is slower than writing them:
/// every comparison and every copy of an array touches (and reference-counts) a
/// separate heap object. So the keys are copied once into one contiguous buffer,
/// the sort runs over small plain records (a 16-byte prefix decides most
/// comparisons), and values are read straight from the dictionary when written.
struct LMDBKeyOrder {
    private struct Record {
        var high: UInt64
        var low: UInt64
        var offset: Int32
        var length: Int32
        var index: Dictionary<[UInt8], [UInt8]?>.Index
    }

    private let updates: [[UInt8]: [UInt8]?]
    private let keyBytes: [UInt8]
    private let records: [Record]

    /// Prepares `updates` for ``forEachInKeyOrder(_:)``.
    init(_ updates: [[UInt8]: [UInt8]?]) {
        self.updates = updates
        var keyBytes: [UInt8] = []
        var records: [Record] = []
        records.reserveCapacity(updates.count)
        var index = updates.startIndex
        while index != updates.endIndex {
            let key = updates.keys[index]
            let offset = keyBytes.count
            keyBytes.append(contentsOf: key)
            let (high, low) = key.withUnsafeBufferPointer(Self.prefix)
            records.append(Record(high: high, low: low, offset: Int32(offset), length: Int32(key.count), index: index))
            updates.formIndex(after: &index)
        }
        keyBytes.withUnsafeBufferPointer { bytes in
            records.sort { lhs, rhs in
                if lhs.high != rhs.high { return lhs.high < rhs.high }
                if lhs.low != rhs.low { return lhs.low < rhs.low }
                return Self.precedes(
                    UnsafeBufferPointer(rebasing: bytes[Int(lhs.offset) ..< Int(lhs.offset + lhs.length)]),
                    UnsafeBufferPointer(rebasing: bytes[Int(rhs.offset) ..< Int(rhs.offset + rhs.length)]))
            }
        }
        self.keyBytes = keyBytes
        self.records = records
    }

    /// Calls `body` with every key and its new value (`nil`: delete), in bytewise key order
    /// (shorter first on a common prefix, as LMDB orders keys).
    func forEachInKeyOrder(_ body: (UnsafeRawBufferPointer, [UInt8]?) throws -> Void) rethrows {
        try keyBytes.withUnsafeBytes { bytes in
            for record in records {
                let key = UnsafeRawBufferPointer(rebasing: bytes[Int(record.offset) ..< Int(record.offset + record.length)])
                try body(key, updates.values[record.index])
            }
        }
    }

    /// The keys in order (for tests).
    var sortedKeys: [[UInt8]] {
        var keys: [[UInt8]] = []
        forEachInKeyOrder { key, _ in keys.append(Array(key)) }
        return keys
    }

    /// The first 16 bytes of a key as two big-endian numbers, zero-padded.
    private static func prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for position in 0 ..< 8 {
            high = high << 8 | UInt64(position < bytes.count ? bytes[position] : 0)
            low = low << 8 | UInt64(position + 8 < bytes.count ? bytes[position + 8] : 0)
        }
        return (high, low)
    }

    /// Bytewise order, shorter first on a common prefix.
    private static func precedes(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(lhs.count, rhs.count)
        for position in 0 ..< common where lhs[position] != rhs[position] {
            return lhs[position] < rhs[position]
        }
        return lhs.count < rhs.count
    }
}
