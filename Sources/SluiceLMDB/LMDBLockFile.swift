import Synchronization

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
///
/// A child process forked while this process held the lock shares the lock's open file
/// description until it execs (the descriptor is close-on-exec), so for that moment the
/// lock outlives its environment here. An open that finds the lock held by this process's
/// PID, though no environment of this process holds it, therefore tries again for up to two
/// seconds before giving up; a directory this process really holds is refused at once.
struct LMDBLockFile: ~Copyable {
    /// The lock file's name inside the state directory.
    static let fileName = "sluice.lock"

    /// How long an open waits out a lock that only a just-forked child still shares.
    static let inheritedLockWait: Duration = .seconds(2)

    /// The lock files (device and inode) that environments of this process hold.
    private static let heldHere = Mutex<Set<FileIdentity>>([])

    private struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private let descriptor: Int32
    private let identity: FileIdentity

    /// Takes the lock or throws ``LMDBError/Code-swift.struct/directoryInUse``.
    init(directory: String) throws(LMDBError) {
        let path = directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LMDBError(returnCode: errno, operation: "open the lock file \(path)", path: directory)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = errno
            close(descriptor)
            throw LMDBError(returnCode: error, operation: "inspect the lock file \(path)", path: directory)
        }
        let identity = FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        let deadline = ContinuousClock.now + Self.inheritedLockWait
        var result: Int32
        while true {
            repeat {
                result = flock(descriptor, LOCK_EX | LOCK_NB)
            } while result != 0 && errno == EINTR
            if result == 0 { break }
            let error = errno
            guard error == EWOULDBLOCK, Self.readHolder(descriptor) == getpid(),
                !Self.heldHere.withLock({ $0.contains(identity) }), ContinuousClock.now < deadline
            else { break }
            // Held under this process's PID by no environment here: a forked child that has not
            // exec'd yet still shares the lock. It lets go when it does.
            usleep(5_000)
        }
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
        Self.heldHere.withLock { _ = $0.insert(identity) }
        self.descriptor = descriptor
        self.identity = identity
    }

    deinit {
        // Closing the descriptor releases the lock. The PID text is left in place: clearing it
        // here could erase the PID of a process that took the lock in the meantime.
        Self.heldHere.withLock { _ = $0.remove(identity) }
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
