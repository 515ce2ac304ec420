internal import CLMDB

/// A transaction passed to ``LMDBEnvironment/read(_:)``: a consistent snapshot of the environment.
///
/// It is valid only inside the closure it is passed to; using it afterwards stops the
/// program. Bytes handed out without copying (``withValue(forKey:in:_:)``, scans,
/// cursors) are valid only inside the closure that receives them.
///
/// ``LMDBWriteTransaction`` adds writes to everything here.
public class LMDBTransaction {
    /// The `MDB_txn`; `nil` once the transaction ended.
    var handle: OpaquePointer?
    /// The environment this transaction belongs to.
    let environment: LMDBEnvironment

    init(handle: OpaquePointer, environment: LMDBEnvironment) {
        self.handle = handle
        self.environment = environment
    }

    /// Whether this transaction can write.
    public var isReadOnly: Bool { true }

    /// The live `MDB_txn`, checking that the transaction was not used after its closure returned.
    @inline(__always)
    final func txn(_ database: LMDBDatabase) -> OpaquePointer {
        precondition(
            database.environmentID == environment.identifier,
            "LMDB database '\(database.name)' belongs to another environment.")
        guard let handle else {
            preconditionFailure("An LMDB transaction was used after the closure it was passed to returned.")
        }
        return handle
    }

    /// Converts a failed `mdb_*` call into an error (and notes a full map, so the write is retried).
    func failure(_ returnCode: Int32, _ operation: String) -> LMDBError {
        LMDBError(returnCode: returnCode, operation: operation, path: environment.directory)
    }

    // MARK: Reading single keys

    /// Returns a copy of the value stored for `key`, or `nil` if there is none.
    public final func get(_ key: [UInt8], in database: LMDBDatabase) throws -> [UInt8]? {
        try key.withUnsafeBytes { key in
            try withValue(forKey: key, in: database) { $0.map { Array($0) } }
        }
    }

    /// Whether a value is stored for `key`.
    public final func contains(_ key: [UInt8], in database: LMDBDatabase) throws -> Bool {
        try key.withUnsafeBytes { key in
            try withValue(forKey: key, in: database) { $0 != nil }
        }
    }

    /// Passes the value stored for `key` to `body` without copying it (`nil` if there is none).
    ///
    /// The buffer points into the memory map and is valid only during `body`.
    public final func withValue<Result>(
        forKey key: [UInt8], in database: LMDBDatabase, _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        try key.withUnsafeBytes { key in try withValue(forKey: key, in: database, body) }
    }

    /// Passes the value stored for `key` to `body` without copying it (`nil` if there is none).
    ///
    /// The buffer points into the memory map and is valid only during `body`.
    public final func withValue<Result>(
        forKey key: UnsafeRawBufferPointer, in database: LMDBDatabase,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) throws -> Result {
        let txn = txn(database)
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var value = MDB_val()
        let returnCode = mdb_get(txn, database.handle, &keyValue, &value)
        switch returnCode {
        case MDB_SUCCESS:
            return try body(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
        case MDB_NOTFOUND:
            return try body(nil)
        default:
            throw failure(returnCode, "read a key from database '\(database.name)'")
        }
    }

    /// The number of entries in `database`.
    public final func count(in database: LMDBDatabase) throws -> Int {
        var statistics = MDB_stat()
        let returnCode = mdb_stat(txn(database), database.handle, &statistics)
        guard returnCode == MDB_SUCCESS else {
            throw failure(returnCode, "count the entries of database '\(database.name)'")
        }
        return statistics.ms_entries
    }

    // MARK: Scans

    /// Visits the entries of `range` in ascending key order without copying them.
    ///
    /// The buffers are valid only during one call of `body`; return ``LMDBScanControl/stop`` to end early.
    public final func scan(
        _ database: LMDBDatabase, range: LMDBKeyRange = .all,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> LMDBScanControl
    ) throws {
        try withCursor(on: database) { cursor in
            var isPositioned: Bool
            if let start = range.start {
                isPositioned = try cursor.seek(toFirstKeyAtOrAfter: start)
            } else {
                isPositioned = try cursor.moveToFirst()
            }
            while isPositioned {
                let control = try cursor.withCurrent { key, value in
                    range.isPastEnd(key) ? .stop : try body(key, value)
                }
                if control == .stop { return }
                isPositioned = try cursor.moveToNext()
            }
        }
    }

    /// Copies the entries of `range`, in ascending key order, stopping after `limit` entries if given.
    public final func entries(
        in database: LMDBDatabase, range: LMDBKeyRange = .all, limit: Int? = nil
    ) throws -> [(key: [UInt8], value: [UInt8])] {
        var result: [(key: [UInt8], value: [UInt8])] = []
        try scan(database, range: range) { key, value in
            result.append((Array(key), Array(value)))
            if let limit, result.count >= limit { return .stop }
            return .next
        }
        return result
    }

    /// Copies the keys of `range`, in ascending order.
    public final func keys(in database: LMDBDatabase, range: LMDBKeyRange = .all) throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        try scan(database, range: range) { key, _ in
            result.append(Array(key))
            return .next
        }
        return result
    }

    /// Opens a cursor on `database` for the duration of `body`.
    public final func withCursor<Result>(
        on database: LMDBDatabase, _ body: (LMDBCursor) throws -> Result
    ) throws -> Result {
        var cursorHandle: OpaquePointer?
        let returnCode = mdb_cursor_open(txn(database), database.handle, &cursorHandle)
        guard returnCode == MDB_SUCCESS, let cursorHandle else {
            throw failure(returnCode, "open a cursor on database '\(database.name)'")
        }
        let cursor = LMDBCursor(handle: cursorHandle, database: database, transaction: self)
        defer { cursor.close() }
        return try body(cursor)
    }
}
