/// Compact binary Codable encoding for checkpointed state, keys and accumulators.
///
/// The format is versioned by its first byte and laid out as described on `BinaryWireType`:
/// integers are (zigzag) varints, `Double` is 8 raw bytes, strings are length-prefixed UTF-8, and
/// key names are stored once per document in a table that entries refer to by index, so a small
/// struct such as `SumCount(sum: 412, count: 10)` takes a few bytes plus its key names once.
/// Made with a ``BinaryStateKeyTable``, the encoder leaves the names out of the document and
/// refers to the table's instead (format version 2), for stores that keep many small documents.
/// `nil` written with `encodeIfPresent` is left out; `encodeNil` writes a one-byte marker.
///
/// Nested containers and super encoders must be filled before their parent container is written
/// to again (as all synthesized and nearly all hand-written `Codable` code does); otherwise
/// encoding throws rather than producing corrupt bytes.
public struct BinaryStateEncoder: Sendable {
    /// The table key names are taken from and added to; `nil` for self-contained documents.
    public let keyTable: BinaryStateKeyTable?

    /// Creates an encoder of self-contained documents (format version 1), or of documents that
    /// refer to `keyTable` for their key names (version 2; decode them with the same table).
    public init(keyTable: BinaryStateKeyTable? = nil) {
        self.keyTable = keyTable
        self.isCanonical = false
    }

    private init(canonical: Bool) {
        self.keyTable = nil
        self.isCanonical = canonical
    }

    /// Whether equal values are written as equal bytes (see ``keyEncoder``).
    let isCanonical: Bool

    /// The encoder of state keys: self-contained documents in which values that compare equal
    /// are written as the same bytes, since a key's bytes find its stored state while its actor
    /// is found by `==` (see ``CanonicalEncoding``). They decode as other documents do.
    static let keyEncoder = BinaryStateEncoder(canonical: true)

    /// Encodes `value` into bytes that ``BinaryStateDecoder`` reads back.
    ///
    /// - Throws: ``SluiceError`` with code `.encoding` if `value` throws while encoding or misuses
    ///   nested containers.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try Self.encode(value, with: BinaryStateWriter(keyTable: keyTable, isCanonical: isCanonical))
    }

    /// Encodes `value` with `writer`, which must be fresh or ``BinaryStateWriter/reset()``.
    static func encode<T: Encodable>(_ value: T, with writer: BinaryStateWriter) throws -> [UInt8] {
        do {
            if let wireType = writer.primitiveWireType(of: T.self) {
                writer.writeHeader(wireType: wireType)
                writer.appendPrimitive(value)
            } else {
                writer.writeHeader(wireType: .varint)
                try writer.encodeNested(value, headerAt: 0, key: nil)
            }
        } catch let error as SluiceError {
            throw error
        } catch {
            throw SluiceError(.encoding, "cannot encode \(T.self) as state: \(error)", underlying: error)
        }
        return writer.finish()
    }
}

/// Encodes many values one after another with one writer, reusing its buffers: for a
/// checkpoint's key states. Not `Sendable`: make one per encoding loop.
@usableFromInline
struct BinaryStateBatchEncoder {
    private let writer: BinaryStateWriter

    /// An encoder of documents like those of `BinaryStateEncoder(keyTable: keyTable)`.
    @usableFromInline
    init(keyTable: BinaryStateKeyTable? = nil) {
        writer = BinaryStateWriter(keyTable: keyTable)
    }

    /// The same bytes as ``BinaryStateEncoder/encode(_:)`` with the same key table (and, for a
    /// table, the same names in it).
    @usableFromInline
    func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        writer.reset()
        return try BinaryStateEncoder.encode(value, with: writer)
    }
}
