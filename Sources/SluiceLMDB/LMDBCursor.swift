internal import CLMDB

/// A position in one database of a transaction, moved in key order.
///
/// Passed to the closure of ``LMDBTransaction/withCursor(on:_:)`` and valid only there.
/// After a move that returns `true`, the entry under the cursor is read with
/// ``withCurrent(_:)`` (without copying) or ``currentKey`` and ``currentValue`` (copies).
public final class LMDBCursor {
    private var handle: OpaquePointer?
    private let database: LMDBDatabase
    private unowned let transaction: LMDBTransaction
    private var key = MDB_val()
    private var value = MDB_val()
    private var isPositioned = false

    init(handle: OpaquePointer, database: LMDBDatabase, transaction: LMDBTransaction) {
        self.handle = handle
        self.database = database
        self.transaction = transaction
    }

    func close() {
        if let handle {
            // Write-transaction cursors must be closed before the transaction ends; read ones may be.
            mdb_cursor_close(handle)
        }
        handle = nil
    }

    private func move(_ operation: MDB_cursor_op, _ name: String) throws -> Bool {
        guard let handle, transaction.handle != nil else {
            preconditionFailure("An LMDB cursor was used after the closure it was passed to returned.")
        }
        let returnCode = mdb_cursor_get(handle, &key, &value, operation)
        switch returnCode {
        case MDB_SUCCESS:
            isPositioned = true
        case MDB_NOTFOUND:
            isPositioned = false
        default:
            isPositioned = false
            throw transaction.failure(returnCode, "\(name) in database '\(database.name)'")
        }
        return isPositioned
    }

    /// Moves to the first entry; returns `false` if the database is empty.
    @discardableResult
    public func moveToFirst() throws -> Bool {
        try move(MDB_FIRST, "move a cursor to the first key")
    }

    /// Moves to the last entry; returns `false` if the database is empty.
    @discardableResult
    public func moveToLast() throws -> Bool {
        try move(MDB_LAST, "move a cursor to the last key")
    }

    /// Moves to the next entry; returns `false` past the last one.
    @discardableResult
    public func moveToNext() throws -> Bool {
        try move(MDB_NEXT, "move a cursor to the next key")
    }

    /// Moves to the previous entry; returns `false` before the first one.
    @discardableResult
    public func moveToPrevious() throws -> Bool {
        try move(MDB_PREV, "move a cursor to the previous key")
    }

    /// Re-reads the entry under the cursor (after ``deleteCurrent()``, the one that followed the deleted entry).
    @discardableResult
    public func moveToCurrent() throws -> Bool {
        try move(MDB_GET_CURRENT, "read the key under a cursor")
    }

    /// Moves to the first entry whose key is `key` or sorts after it; returns `false` if there is none.
    @discardableResult
    public func seek(toFirstKeyAtOrAfter key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { bytes in
            self.key = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            return try move(MDB_SET_RANGE, "seek a cursor")
        }
    }

    /// Passes the key and value under the cursor to `body` without copying them.
    ///
    /// The buffers point into the memory map and are valid only during `body`.
    /// Calling this when the last move returned `false` stops the program.
    public func withCurrent<Result>(
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        precondition(isPositioned && handle != nil, "LMDBCursor.withCurrent called while the cursor is on no entry.")
        return try body(
            UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
            UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }

    /// A copy of the key under the cursor.
    public var currentKey: [UInt8] {
        withCurrent { key, _ in Array(key) }
    }

    /// A copy of the value under the cursor.
    public var currentValue: [UInt8] {
        withCurrent { _, value in Array(value) }
    }

    /// Deletes the entry under the cursor; the cursor then stands on the entry that followed it.
    ///
    /// Only in write transactions; calling it in a read transaction stops the program.
    public func deleteCurrent() throws {
        precondition(!transaction.isReadOnly, "LMDBCursor.deleteCurrent called in a read transaction.")
        precondition(isPositioned, "LMDBCursor.deleteCurrent called while the cursor is on no entry.")
        guard let handle, transaction.handle != nil else {
            preconditionFailure("An LMDB cursor was used after the closure it was passed to returned.")
        }
        let returnCode = mdb_cursor_del(handle, 0)
        isPositioned = false
        guard returnCode == MDB_SUCCESS else {
            throw transaction.failure(returnCode, "delete the key under a cursor in database '\(database.name)'")
        }
    }
}
