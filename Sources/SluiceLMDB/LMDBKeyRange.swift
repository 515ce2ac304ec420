/// Which keys a scan visits, in ascending key order.
public struct LMDBKeyRange: Sendable, Hashable {
    /// The first key to visit (inclusive); `nil` starts at the first key of the database.
    public var start: [UInt8]?
    /// The key at which the scan stops (exclusive); `nil` runs to the end of the database.
    public var end: [UInt8]?
    /// When set, the scan stops at the first key that does not begin with these bytes.
    public var prefix: [UInt8]?

    /// Creates a range of keys `start ..< end`; `nil` bounds are open.
    public init(start: [UInt8]? = nil, end: [UInt8]? = nil) {
        self.start = start
        self.end = end
        self.prefix = nil
    }

    /// Every key of the database.
    public static var all: LMDBKeyRange { LMDBKeyRange() }

    /// The keys that begin with `prefix`, optionally starting at `start` (which should itself begin with `prefix`).
    public static func prefix(_ prefix: [UInt8], from start: [UInt8]? = nil) -> LMDBKeyRange {
        var first = prefix
        if let start, prefix.lexicographicallyPrecedes(start) {
            first = start
        }
        var range = LMDBKeyRange(start: first)
        range.prefix = prefix
        return range
    }

    /// Whether `key` is past the end of the range (scans visit keys in ascending order).
    func isPastEnd(_ key: UnsafeRawBufferPointer) -> Bool {
        if let prefix {
            if key.count < prefix.count { return true }
            for index in prefix.indices where key[index] != prefix[index] { return true }
        }
        if let end {
            // key >= end, bytewise with shorter-first on a common prefix (LMDB's default order).
            let common = min(key.count, end.count)
            for index in 0 ..< common where key[index] != end[index] {
                return key[index] > end[index]
            }
            return key.count >= end.count
        }
        return false
    }
}
