/// How key documents make equal values into equal bytes.
///
/// A key's encoded bytes find its state in the store, while key actors are found by `==`. Where
/// equal values could encode differently, a key's state would be written under one form and
/// looked up under another after a restart or passivation, and silently start empty. Three such
/// cases exist in `Codable` values: strings equal under Unicode canonical equivalence (`"é"`
/// and `"e\u{301}"`), `0.0` and `-0.0`, and sets and dictionaries, which encode in hash order
/// (which changes from process to process). Key documents write the first in normalization form
/// C, the second as `0.0` and the third sorted (``CanonicallyOrderedEncodable``).
enum CanonicalEncoding {
    /// `string` in Unicode normalization form C (unchanged when it is ASCII, as most keys are).
    static func normalized(_ string: String) -> String {
        if string.utf8.allSatisfy({ $0 < 0x80 }) { return string }
        return String(decoding: string._nfcCodeUnits, as: UTF8.self)
    }

    /// `items` ordered by the canonical encodings of `sortKey(item)` (a total order that does
    /// not depend on the process, unlike a set's iteration order).
    static func sorted<Item, SortKey: Encodable>(_ items: [Item], by sortKey: (Item) -> SortKey) throws -> [Item] {
        let encoder = BinaryStateEncoder.keyEncoder
        return try items.map { (bytes: try encoder.encode(sortKey($0)), item: $0) }
            .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            .map(\.item)
    }
}

/// A collection whose own `encode(to:)` writes its elements in hash order, which differs from
/// process to process even for equal collections.
protocol CanonicallyOrderedEncodable {
    /// Encodes what `encode(to:)` encodes, in an order that depends only on the contents, so
    /// that the same decoding reads it back.
    func encodeInCanonicalOrder(to encoder: any Encoder) throws
}

extension Set: CanonicallyOrderedEncodable where Element: Encodable {
    func encodeInCanonicalOrder(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for element in try CanonicalEncoding.sorted(Array(self), by: { $0 }) { try container.encode(element) }
    }
}

extension Dictionary: CanonicallyOrderedEncodable where Key: Encodable, Value: Encodable {
    /// The containers `Dictionary` itself uses (so that its `init(from:)` reads the result),
    /// entries sorted by key.
    func encodeInCanonicalOrder(to encoder: any Encoder) throws {
        if Key.self == String.self || Key.self == Int.self || Key.self is any CodingKeyRepresentable.Type {
            let entries = map { key, value in (key: CanonicalDictionaryKey(key), value: value) }
                .sorted { $0.key.precedes($1.key) }
            var container = encoder.container(keyedBy: CanonicalDictionaryKey.self)
            for entry in entries { try container.encode(entry.value, forKey: entry.key) }
        } else {
            // Entries sorted by their keys' encodings; not looked up again by key (a key such as
            // `Double.nan` is never found by `==`).
            let entries = try CanonicalEncoding.sorted(Array(self), by: \.key)
            var container = encoder.unkeyedContainer()
            for entry in entries {
                try container.encode(entry.key)
                try container.encode(entry.value)
            }
        }
    }
}

/// The coding key of a dictionary entry, as the standard library's own makes it.
struct CanonicalDictionaryKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.init(stringValue: stringValue, intValue: Int(stringValue))
    }

    init(intValue: Int) {
        self.init(stringValue: "\(intValue)", intValue: intValue)
    }

    private init(stringValue: String, intValue: Int?) {
        self.stringValue = stringValue
        self.intValue = intValue
    }

    /// The key of dictionary key `key`, whose type is `String`, `Int` or `CodingKeyRepresentable`.
    init<Key>(_ key: Key) {
        if let string = key as? String {
            self.init(stringValue: string)
        } else if let int = key as? Int {
            self.init(intValue: int)
        } else {
            let codingKey = (key as! any CodingKeyRepresentable).codingKey
            self.init(stringValue: codingKey.stringValue, intValue: codingKey.intValue)
        }
    }

    /// Integer keys in numeric order first, then the others; ties (`"1"` and `"01"` both have
    /// the integer 1) by the normalized UTF-8 of their names, which distinct keys never share.
    func precedes(_ other: CanonicalDictionaryKey) -> Bool {
        switch (intValue, other.intValue) {
        case let (left?, right?) where left != right: return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        default:
            return CanonicalEncoding.normalized(stringValue).utf8.lexicographicallyPrecedes(
                CanonicalEncoding.normalized(other.stringValue).utf8)
        }
    }
}
