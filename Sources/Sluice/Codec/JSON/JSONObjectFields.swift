/// The members of one JSON object, read by name: decoding an input record without `Codable`.
///
/// `Codable` decoding goes through type-erased containers that cost more than scanning a small
/// record itself: reading the IoT readings' three fields this way decodes 2.5 to 3 times as many
/// per second as ``FastJSONDecoder`` with their synthesized `Decodable` conformance (`CodecBench`).
/// Where a pipeline's decoding is its hot path, read the fields you need directly:
///
/// ```swift
/// Pipeline("iot-sums")
///     .source(KafkaSource(topic: "sensors"), readingJSONObject: { fields in
///         Reading(id: try fields.int("id"), time: try fields.double("time"), value: try fields.int("value"))
///     })
/// ```
///
/// The whole document is scanned and validated first, as ``FastJSONDecoder`` does, so text that
/// is not JSON is rejected even where no field is read; semantics match it too (unknown members
/// are ignored, integers written as whole numbers such as `17.0` are accepted, numbers that do not
/// fit are rejected, the last of duplicate keys wins). Errors are ``SluiceError``s with code
/// `.decoding` that name the field and byte offset, so a record that does not fit goes to the
/// dead-letter output with the reason.
///
/// A value is valid only during the ``FastJSONDecoder/withObject(in:_:)`` call that made it, like
/// the pointer `withUnsafeBytes` lends: it reads the scan of that call. Do not let it escape the
/// call (it is not `Sendable`); used afterwards on the same thread, it stops the program with a
/// message.
public struct JSONObjectFields {
    /// The reader of the run, not retained (retains and releases per field cost several percent
    /// of the IoT job's CPU): `withObject` keeps it alive for the call, and a value used after its
    /// run finds the reader's run counter moved on. Used through `_withUnsafeGuaranteedRef`, as
    /// `JSONKeyedDecodingContainer` does: an `unowned(unsafe)` reference is still retained for
    /// each method call on it.
    let unmanagedReader: Unmanaged<JSONReader>
    /// A reader made for this run alone (a nested call's; the thread's cached reader lives until
    /// the thread exits) is held, so that a value used after its run finds the counter, not
    /// freed memory.
    let ownedReader: JSONReader?

    var reader: JSONReader { unmanagedReader.takeUnretainedValue() }
    /// The object's token.
    let object: Int
    /// `reader.finishedRuns` when the run began.
    let run: UInt64

    init(reader: JSONReader, object: Int) {
        self.unmanagedReader = Unmanaged.passUnretained(reader)
        self.ownedReader = reader.isThreadCached ? nil : reader
        self.object = object
        self.run = reader.finishedRuns
    }

    /// Whether the object has a member named `name` (whatever its value, `null` included).
    public func contains(_ name: StaticString) -> Bool { find(name) != nil }

    /// Whether the member named `name` is missing or `null`: the test for an optional field.
    public func isAbsentOrNull(_ name: StaticString) -> Bool {
        guard let t = find(name) else { return true }
        return unmanagedReader._withUnsafeGuaranteedRef { $0.tokens[t].kind == .null }
    }

    /// The member named `name` as an `Int`.
    ///
    /// - Throws: ``SluiceError`` `.decoding` when it is missing, not a number, not whole, or does not fit.
    @inline(__always)
    public func int(_ name: StaticString) throws -> Int {
        let t = try require(name)
        if let v = unmanagedReader._withUnsafeGuaranteedRef({ $0.plainInteger(t) }) { return Int(v) }
        return Int(try reader.int64(t, at: JSONFieldName(name), reporting: Int.self))
    }

    /// The member named `name` as an `Int64`.
    ///
    /// - Throws: ``SluiceError`` `.decoding` when it is missing, not a number, not whole, or does not fit.
    @inline(__always)
    public func int64(_ name: StaticString) throws -> Int64 {
        let t = try require(name)
        if let v = unmanagedReader._withUnsafeGuaranteedRef({ $0.plainInteger(t) }) { return v }
        return try reader.int64(t, at: JSONFieldName(name), reporting: Int64.self)
    }

    /// The member named `name` as a `Double`.
    ///
    /// - Throws: ``SluiceError`` `.decoding` when it is missing or not a number.
    @inline(__always)
    public func double(_ name: StaticString) throws -> Double {
        let t = try require(name)
        if let d = unmanagedReader._withUnsafeGuaranteedRef({ $0.plainDouble(t) }) { return d }
        return try reader.double(t, at: JSONFieldName(name))
    }

    /// The member named `name` as a `String`, escapes resolved.
    ///
    /// - Throws: ``SluiceError`` `.decoding` when it is missing or not a string.
    public func string(_ name: StaticString) throws -> String {
        try reader.string(try require(name), at: JSONFieldName(name))
    }

    /// The member named `name` as a `Bool`.
    ///
    /// - Throws: ``SluiceError`` `.decoding` when it is missing or not `true` or `false`.
    public func bool(_ name: StaticString) throws -> Bool {
        try reader.bool(try require(name), at: JSONFieldName(name))
    }

    /// The member named `name` decoded as `T` through `Codable`: for nested objects, arrays and
    /// anything else the typed readers do not cover.
    ///
    /// - Throws: ``SluiceError`` `.decoding` when it is missing or does not decode as `T`; an
    ///   error `T.init(from:)` throws itself (other than a `DecodingError`) as it is.
    public func decode<T: Decodable>(_ type: T.Type, _ name: StaticString) throws -> T {
        let key = JSONFieldName(name)
        let t = try require(name)
        do {
            return try reader.decode(T.self, from: t, key: key)
        } catch let error as DecodingError {
            throw SluiceError(.decoding, "cannot decode '\(key.stringValue)' as \(T.self): \(CodecErrors.describe(error))", underlying: error)
        }
    }

    // MARK: Lookup

    @inline(__always)
    private func find(_ name: StaticString) -> Int? {
        unmanagedReader._withUnsafeGuaranteedRef { reader in
            precondition(reader.finishedRuns == run, "JSONObjectFields used after the withObject call that made it returned")
            return name.withUTF8Buffer { reader.member(named: UnsafeRawBufferPointer($0), in: object) }
        }
    }

    @inline(__always)
    private func require(_ name: StaticString) throws -> Int {
        guard let t = find(name) else {
            throw SluiceError(.decoding, "missing field '\(JSONFieldName(name).stringValue)'")
        }
        return t
    }
}

/// A member name as a coding key, for error messages and the coding path of nested decoding.
struct JSONFieldName: CodingKey {
    let name: StaticString

    init(_ name: StaticString) { self.name = name }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }

    var stringValue: String { name.withUTF8Buffer { String(decoding: $0, as: UTF8.self) } }
    var intValue: Int? { nil }
}

extension FastJSONDecoder {
    /// Scans the UTF-8 JSON text in `bytes`, which must be an object, and calls `body` with its
    /// members (see ``JSONObjectFields``); returns what `body` returns.
    ///
    /// The bytes are only read during the call, and the fields are valid only during it.
    ///
    /// - Throws: ``SluiceError`` `.decoding` for input that is not JSON or not an object, with the
    ///   byte offset; errors from `body` as they are, except `DecodingError`s, which become
    ///   ``SluiceError`` `.decoding`.
    public func withObject<Result>(in bytes: UnsafeRawBufferPointer, _ body: (JSONObjectFields) throws -> Result) throws -> Result {
        try Self.withScan(of: bytes) { reader in
            guard reader.tokens[0].kind == .object else {
                throw reader.mismatch("an object", reader.tokens[0], reader.location())
            }
            do {
                return try body(JSONObjectFields(reader: reader, object: 0))
            } catch let error as DecodingError {
                throw SluiceError(.decoding, "cannot read the object: \(CodecErrors.describe(error))", underlying: error)
            }
        }
    }
}
