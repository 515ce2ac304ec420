internal import CLMDB

/// A transaction passed to ``LMDBEnvironment/write(_:)``: reads plus writes, committed all at once.
///
/// Everything the closure writes becomes visible, and durable, together when the
/// closure returns; nothing of it does if the closure throws. The closure may run
/// more than once (after the map grew), so it must not have effects outside the transaction.
public final class LMDBWriteTransaction: LMDBTransaction {
    /// Set when LMDB reported `MDB_MAP_FULL`; the environment then grows the map and runs the closure again.
    var hasHitMapFull = false

    /// Whether this transaction can write: always `true`.
    override public var isReadOnly: Bool { false }

    override func failure(_ returnCode: Int32, _ operation: String) -> LMDBError {
        if returnCode == MDB_MAP_FULL {
            hasHitMapFull = true
        }
        return super.failure(returnCode, operation)
    }

    /// Stores `value` for `key`, replacing any previous value.
    public func put(_ value: [UInt8], forKey key: [UInt8], in database: LMDBDatabase) throws {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in
                try put(value, forKey: key, in: database)
            }
        }
    }

    /// Stores `value` for `key`, replacing any previous value; both buffers are copied into the database.
    public func put(_ value: UnsafeRawBufferPointer, forKey key: UnsafeRawBufferPointer, in database: LMDBDatabase) throws {
        _ = try put(value, forKey: key, in: database, flags: 0)
    }

    /// Stores `value` for `key` unless the key already has a value; returns whether it was stored.
    public func insert(_ value: [UInt8], forKey key: [UInt8], in database: LMDBDatabase) throws -> Bool {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in
                try put(value, forKey: key, in: database, flags: UInt32(MDB_NOOVERWRITE))
            }
        }
    }

    private func put(
        _ value: UnsafeRawBufferPointer, forKey key: UnsafeRawBufferPointer, in database: LMDBDatabase, flags: UInt32
    ) throws -> Bool {
        let txn = txn(database)
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var dataValue = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let returnCode = mdb_put(txn, database.handle, &keyValue, &dataValue, flags)
        switch returnCode {
        case MDB_SUCCESS: return true
        case MDB_KEYEXIST: return false
        default: throw failure(returnCode, "write a key to database '\(database.name)'")
        }
    }

    /// Removes the value stored for `key`; returns whether there was one.
    @discardableResult
    public func delete(_ key: [UInt8], in database: LMDBDatabase) throws -> Bool {
        try key.withUnsafeBytes { key in try delete(key, in: database) }
    }

    /// Removes the value stored for `key`; returns whether there was one.
    @discardableResult
    public func delete(_ key: UnsafeRawBufferPointer, in database: LMDBDatabase) throws -> Bool {
        let txn = txn(database)
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let returnCode = mdb_del(txn, database.handle, &keyValue, nil)
        switch returnCode {
        case MDB_SUCCESS: return true
        case MDB_NOTFOUND: return false
        default: throw failure(returnCode, "delete a key from database '\(database.name)'")
        }
    }

    /// Removes every entry of `range`; returns how many were removed.
    @discardableResult
    public func deleteAll(in database: LMDBDatabase, range: LMDBKeyRange) throws -> Int {
        try withCursor(on: database) { cursor in
            var removed = 0
            var isPositioned: Bool
            if let start = range.start {
                isPositioned = try cursor.seek(toFirstKeyAtOrAfter: start)
            } else {
                isPositioned = try cursor.moveToFirst()
            }
            while isPositioned {
                guard let key = cursor.withCurrent({ key, _ in range.isPastEnd(key) ? nil : Array(key) }) else { break }
                try cursor.deleteCurrent()
                removed += 1
                // Seek past the deleted key: after deleting the database's last entry LMDB's cursor
                // is left on nothing, and reading it fails with EINVAL instead of "not found".
                isPositioned = try cursor.seek(toFirstKeyAtOrAfter: key)
            }
            return removed
        }
    }

    /// Removes every entry of `database`, keeping the database itself.
    public func removeAll(in database: LMDBDatabase) throws {
        let returnCode = mdb_drop(txn(database), database.handle, 0)
        guard returnCode == MDB_SUCCESS else {
            throw failure(returnCode, "empty database '\(database.name)'")
        }
    }
}
