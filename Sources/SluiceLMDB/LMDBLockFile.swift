#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The advisory lock that makes one environment the only writer of a state directory.
///
/// `flock` locks belong to the open file description, so a second open of the
/// same directory is refused whether it comes from another process or from this
/// one. The kernel releases the lock when the holder exits, however it exits, so
/// a crash never leaves a stale lock behind. The file holds the holder's PID as
/// text, for the error message; it is never deleted, because deleting a lock file
/// races with the next process that opens it.
struct LMDBLockFile: ~Copyable {
    /// The lock file's name inside the state directory.
    static let fileName = "sluice.lock"

    private let descriptor: Int32

    /// Takes the lock or throws ``LMDBError/Code-swift.struct/directoryInUse``.
    init(directory: String) throws(LMDBError) {
        let path = directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LMDBError(returnCode: errno, operation: "open the lock file \(path)", path: directory)
        }
        var result: Int32
        repeat {
            result = flock(descriptor, LOCK_EX | LOCK_NB)
        } while result != 0 && errno == EINTR
        if result != 0 {
            let error = errno
            let holder = Self.readHolder(descriptor)
            close(descriptor)
            if error == EWOULDBLOCK {
                let who = holder.map { "PID \($0)" } ?? "another process"
                throw LMDBError(
                    code: .directoryInUse,
                    message: "State directory \(directory) is in use by \(who). Two writers would break "
                        + "exactly-once processing: stop the other instance, or give this one its own directory.",
                    returnCode: error, isRetriable: true)
            }
            throw LMDBError(returnCode: error, operation: "lock \(path)", path: directory)
        }
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) != 0 || text.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, $0.count, 0) }) != text.count {
            let error = errno
            close(descriptor)
            throw LMDBError(returnCode: error, operation: "write the lock file \(path)", path: directory)
        }
        self.descriptor = descriptor
    }

    deinit {
        // Closing the descriptor releases the lock. The PID text is left in place: clearing it
        // here could erase the PID of a process that took the lock in the meantime.
        close(descriptor)
    }

    private static func readHolder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let digits = buffer[..<count].prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        return Int32(String(decoding: digits, as: UTF8.self))
    }
}
