/// The key `superEncoder()` and `superDecoder()` use, as `JSONEncoder` does: "super".
struct CodecSuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { guard stringValue == "super" else { return nil } }
    init?(intValue: Int) { nil }
}
