internal import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension LMDBError {
    /// Converts an `mdb_*` return code (or `errno`) into an error; the one place where that happens.
    ///
    /// - Parameters:
    ///   - returnCode: The non-zero value an `mdb_*` function returned.
    ///   - operation: What was being attempted, in words ("commit a write transaction").
    ///   - path: The environment's directory, for messages.
    init(returnCode: Int32, operation: String, path: String) {
        let detail = String(cString: mdb_strerror(returnCode))
        switch returnCode {
        case MDB_MAP_FULL:
            self.init(
                code: .mapFull,
                message: "Could not \(operation): the LMDB map of \(path) is full (\(detail)).",
                returnCode: returnCode, isRetriable: true)
        case ENOSPC, EDQUOT, EFBIG:
            self.init(
                code: .diskFull,
                message: "Could not \(operation): no space left for \(path) (\(detail)). "
                    + "Free disk space or raise the quota; the last committed data is intact.",
                returnCode: returnCode, isRetriable: true)
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND:
            self.init(
                code: .corrupted,
                message: "Could not \(operation): the LMDB environment in \(path) is damaged (\(detail)). "
                    + "Restore the state directory from a backup or rebuild it from the input topics.",
                returnCode: returnCode)
        case MDB_INVALID, MDB_VERSION_MISMATCH, MDB_INCOMPATIBLE:
            self.init(
                code: .notASluiceStore,
                message: "Could not \(operation): \(path) does not hold an LMDB environment this build can read "
                    + "(\(detail)). Point Sluice at its own state directory, or move the files away.",
                returnCode: returnCode)
        case MDB_READERS_FULL:
            self.init(
                code: .readersFull,
                message: "Could not \(operation): all reader slots of \(path) are taken (\(detail)). "
                    + "Raise LMDBConfiguration.maxReaders or finish read transactions sooner.",
                returnCode: returnCode, isRetriable: true)
        case MDB_DBS_FULL:
            self.init(
                code: .databasesFull,
                message: "Could not \(operation): too many named databases in \(path) (\(detail)). "
                    + "Raise LMDBConfiguration.maxDatabases.",
                returnCode: returnCode)
        case MDB_TXN_FULL, MDB_CURSOR_FULL, MDB_PAGE_FULL:
            self.init(
                code: .transactionFull,
                message: "Could not \(operation): the transaction is too large for LMDB (\(detail)). "
                    + "Split the work into smaller transactions.",
                returnCode: returnCode)
        case MDB_BAD_VALSIZE:
            self.init(
                code: .invalidKeyOrValue,
                message: "Could not \(operation): a key is empty or longer than LMDB allows (\(detail)).",
                returnCode: returnCode)
        case MDB_PANIC:
            self.init(
                code: .environmentFailed,
                message: "Could not \(operation): LMDB hit a fatal error on \(path) (\(detail)). "
                    + "Close the environment and open it again.",
                returnCode: returnCode)
        case EIO:
            // LMDB's page flush returns EIO for a write cut short ("short write, filesystem
            // full?"), which is how a disk or quota filling up in the middle of a commit shows.
            self.init(
                code: .ioFailure,
                message: "Could not \(operation) on \(path): \(detail). LMDB reports a write cut short this way, "
                    + "as when the disk, a quota or the file size limit fills up during the write: check the free "
                    + "space first, then the device. The last committed data is intact.",
                returnCode: returnCode, isRetriable: true)
        case EACCES, EPERM, EROFS:
            self.init(
                code: .ioFailure,
                message: "Could not \(operation): permission denied on \(path) (\(detail)). "
                    + "Check the owner and mode of the directory and its files.",
                returnCode: returnCode)
        default:
            self.init(
                code: .ioFailure,
                message: "Could not \(operation) on \(path): \(detail).",
                returnCode: returnCode, isRetriable: returnCode == EINTR || returnCode == EAGAIN)
        }
    }
}

/// Throws the converted error when an `mdb_*` call did not succeed.
@inline(__always)
func lmdbCheck(_ returnCode: Int32, _ operation: @autoclosure () -> String, path: String) throws(LMDBError) {
    if returnCode != MDB_SUCCESS {
        throw LMDBError(returnCode: returnCode, operation: operation(), path: path)
    }
}
