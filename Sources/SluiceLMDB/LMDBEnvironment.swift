internal import CLMDB
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An LMDB environment in a Sluice state directory: the files `data.mdb`, `lock.mdb` and `sluice.lock`.
///
/// Opening an environment takes the directory's advisory lock, so a second process
/// (or a second environment in this process) cannot open the same directory while
/// this one is open, and refuses directories that do not hold a Sluice store or hold
/// one of a newer format version. The environment is closed when the last reference goes away.
///
/// Transactions are synchronous closures: ``read(_:)`` sees a snapshot, ``write(_:)``
/// commits on return and aborts on throw. Never hold one across an `await`; a durable
/// commit blocks on `fsync`, so call ``write(_:)`` from a thread that may block.
///
/// `@unchecked Sendable`: the `MDB_env` handle is thread-safe for the calls made here
/// (transactions are opened with `MDB_NOTLS` and never shared between threads, since
/// each lives inside one synchronous closure); map resizes are kept apart from open
/// transactions by ``LMDBTransactionGate``; the remaining mutable state sits in `Mutex`es.
public final class LMDBEnvironment: @unchecked Sendable {
    /// The format version of the environment layout written by this build.
    public static let formatVersion: UInt32 = 1

    /// The key of the meta record in the unnamed main database; no named database may use it.
    static let metaKey: [UInt8] = Array("sluice.meta".utf8)
    /// The first bytes of the meta record.
    static let magic: [UInt8] = Array("SLUICEDB".utf8)

    /// The state directory.
    public let directory: String
    /// The configuration the environment was opened with.
    public let configuration: LMDBConfiguration

    let handle: OpaquePointer
    /// Distinguishes this environment from every other one of the process, for ``LMDBDatabase`` handles.
    let identifier: UInt64
    private static let nextIdentifier = Atomic<UInt64>(1)
    private let lockFile: LMDBLockFile
    private let gate = LMDBTransactionGate()
    private let databases = Mutex<[String: LMDBDatabase]>([:])
    private let currentMapSize: Mutex<Int>
    /// Set when LMDB could not map the file again after changing the map size: it has then
    /// unmapped it, and any transaction would read freed memory.
    private let unmapped = Mutex<String?>(nil)
    private let pageSize: Int
    private let logger: Logger

    /// Opens (creating if needed) the environment in `directory`.
    ///
    /// - Throws: ``LMDBError`` with code ``LMDBError/Code-swift.struct/directoryInUse`` when another
    ///   environment holds the directory, ``LMDBError/Code-swift.struct/notASluiceStore`` for foreign or
    ///   damaged files, ``LMDBError/Code-swift.struct/unsupportedFormatVersion`` for a newer layout, and
    ///   ``LMDBError/Code-swift.struct/invalidConfiguration`` for a bad `configuration`.
    public init(
        directory: String, configuration: LMDBConfiguration = .init(),
        logger: Logger = Logger(label: "sluice.lmdb")
    ) throws {
        try configuration.validate()
        var logger = logger
        logger[metadataKey: "sluice.state_directory"] = "\(directory)"
        self.logger = logger
        self.directory = directory
        self.configuration = configuration
        let createdDirectories = try Self.createDirectory(directory)
        lockFile = try LMDBLockFile(directory: directory)

        pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let initialMapSize = Self.round(configuration.initialMapSize, toMultipleOf: pageSize)
        var environment: OpaquePointer?
        try lmdbCheck(mdb_env_create(&environment), "create an LMDB environment", path: directory)
        guard let environment else {
            throw LMDBError(code: .ioFailure, message: "mdb_env_create returned no environment for \(directory).")
        }
        var flags = UInt32(MDB_NOTLS)
        if !configuration.isDurable { flags |= UInt32(MDB_NOSYNC) }
        if configuration.flags.contains(.noReadAhead) { flags |= UInt32(MDB_NORDAHEAD) }
        if configuration.flags.contains(.noMetaSync) { flags |= UInt32(MDB_NOMETASYNC) }
        if configuration.flags.contains(.noMemoryInit) { flags |= UInt32(MDB_NOMEMINIT) }
        do {
            try lmdbCheck(
                mdb_env_set_maxreaders(environment, UInt32(configuration.maxReaders)), "set the reader count",
                path: directory)
            try lmdbCheck(
                mdb_env_set_maxdbs(environment, MDB_dbi(configuration.maxDatabases)), "set the database count",
                path: directory)
            try lmdbCheck(mdb_env_set_mapsize(environment, initialMapSize), "set the map size", path: directory)
            let openCode = mdb_env_open(environment, directory, flags, 0o644)
            if openCode == MDB_INVALID || openCode == MDB_VERSION_MISMATCH {
                throw LMDBError(
                    code: .notASluiceStore,
                    message: "\(directory)/data.mdb is not a Sluice state store (not an LMDB file of a version this "
                        + "build reads). Point Sluice at its own state directory, or move the file away.",
                    returnCode: openCode)
            }
            try lmdbCheck(openCode, "open the LMDB environment", path: directory)
        } catch {
            mdb_env_close(environment)
            throw error
        }
        handle = environment
        identifier = Self.nextIdentifier.wrappingAdd(1, ordering: .relaxed).oldValue

        var deadReaders: Int32 = 0
        let readerCheck = mdb_reader_check(environment, &deadReaders)
        var info = MDB_envinfo()
        mdb_env_info(environment, &info)
        currentMapSize = Mutex(info.me_mapsize)
        try lmdbCheck(readerCheck, "clear stale readers", path: directory)
        if deadReaders > 0 {
            logger.info("Cleared stale LMDB readers", metadata: ["sluice.lmdb.stale_readers": "\(deadReaders)"])
        }
        try checkOrWriteMetaRecord()
        if configuration.isDurable {
            // A commit syncs the data file's contents, not the directory entries that name it:
            // without this, a power loss soon after the first checkpoint could leave a state
            // directory without its data file (or no directory at all).
            try Self.syncDirectory(directory)
            for created in createdDirectories { try Self.syncDirectory(Self.parent(of: created)) }
        }
    }

    deinit {
        mdb_env_close(handle)
    }

    /// The bytes of the data file in use: pages up to the last one written.
    ///
    /// Safe to read while another thread writes: it waits while the map is being grown, since
    /// LMDB reads the answer from the map itself.
    public var usedBytes: Int {
        // Checked inside the gate: a resize this call waited for may have lost the map.
        gate.enter()
        defer { gate.leave() }
        guard unmapped.withLock({ $0 }) == nil else { return 0 }
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return (Int(info.me_last_pgno) + 1) * pageSize
    }

    /// The longest key LMDB stores (511 bytes in Debian's build); a longer one fails its write.
    public var maxKeyBytes: Int { Int(mdb_env_get_maxkeysize(handle)) }

    /// The current size of the memory map, in bytes.
    public var mapSize: Int {
        currentMapSize.withLock { $0 }
    }

    // MARK: Databases

    /// Returns the named database, creating it if it does not exist.
    ///
    /// Names are fixed strings chosen by the program; `"sluice.meta"` is reserved. The first call for a
    /// name runs a write transaction, so do not call this inside a transaction.
    public func database(named name: String) throws -> LMDBDatabase {
        precondition(!name.isEmpty && Array(name.utf8) != Self.metaKey, "LMDB database name '\(name)' is reserved.")
        if let database = databases.withLock({ $0[name] }) {
            return database
        }
        let database = try write { transaction in
            var dbi: MDB_dbi = 0
            let returnCode = mdb_dbi_open(transaction.handle, name, UInt32(MDB_CREATE), &dbi)
            guard returnCode == MDB_SUCCESS else {
                throw transaction.failure(returnCode, "open database '\(name)'")
            }
            return LMDBDatabase(name: name, handle: dbi, environmentID: identifier)
        }
        databases.withLock { $0[name] = database }
        return database
    }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction: a consistent snapshot, unaffected by concurrent writes.
    ///
    /// Read transactions of several threads run in parallel. Keep them short: a long one
    /// keeps old pages from being reused and delays map growth.
    public func read<Result>(_ body: (LMDBTransaction) throws -> Result) throws -> Result {
        while true {
            try enterMapped()
            var txn: OpaquePointer?
            let returnCode = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
            guard returnCode == MDB_SUCCESS, let txn else {
                gate.leave()
                if returnCode == MDB_MAP_RESIZED {
                    try adoptResizedMap()
                    continue
                }
                throw LMDBError(returnCode: returnCode, operation: "begin a read transaction", path: directory)
            }
            let transaction = LMDBTransaction(handle: txn, environment: self)
            defer {
                transaction.handle = nil
                mdb_txn_abort(txn)
                gate.leave()
            }
            return try body(transaction)
        }
    }

    /// Runs `body` in a write transaction, committing (durably, unless configured otherwise) when it returns
    /// and aborting when it throws.
    ///
    /// When the map is full, the transaction is aborted, the map doubled (up to
    /// ``LMDBConfiguration/maximumMapSize``) and `body` run again, so `body` must have no effects outside the
    /// transaction. Past the maximum it throws ``LMDBError/Code-swift.struct/mapFull`` and the database keeps
    /// its previous contents. Write transactions run one at a time; a second waits for the first.
    /// Do not start a write inside a read or write transaction.
    public func write<Result>(_ body: (LMDBWriteTransaction) throws -> Result) throws -> Result {
        while true {
            let attemptMapSize = mapSize
            try enterMapped()
            var txn: OpaquePointer?
            let beginCode = mdb_txn_begin(handle, nil, 0, &txn)
            guard beginCode == MDB_SUCCESS, let txn else {
                gate.leave()
                if beginCode == MDB_MAP_RESIZED {
                    try adoptResizedMap()
                    continue
                }
                throw LMDBError(returnCode: beginCode, operation: "begin a write transaction", path: directory)
            }
            let transaction = LMDBWriteTransaction(handle: txn, environment: self)
            let result: Result
            do {
                result = try body(transaction)
            } catch {
                transaction.handle = nil
                mdb_txn_abort(txn)
                gate.leave()
                if transaction.hasHitMapFull {
                    try grow(from: attemptMapSize)
                    continue
                }
                throw error
            }
            transaction.handle = nil
            if transaction.hasHitMapFull {
                // The closure caught the map-full error itself; the transaction cannot commit.
                mdb_txn_abort(txn)
                gate.leave()
                try grow(from: attemptMapSize)
                continue
            }
            let commitCode = mdb_txn_commit(txn)
            gate.leave()
            if commitCode == MDB_MAP_FULL {
                try grow(from: attemptMapSize)
                continue
            }
            try lmdbCheck(commitCode, "commit a write transaction", path: directory)
            return result
        }
    }

    /// Flushes committed data to disk; needed only when ``LMDBConfiguration/isDurable`` is `false`.
    public func sync() throws {
        try lmdbCheck(mdb_env_sync(handle, 1), "flush the environment to disk", path: directory)
    }

    // MARK: Map growth

    /// Doubles the map (up to the maximum) unless another write already grew it past `attemptMapSize`.
    private func grow(from attemptMapSize: Int) throws {
        let maximum = Self.round(configuration.maximumMapSize, toMultipleOf: pageSize)
        if mapSize > attemptMapSize {
            return
        }
        guard attemptMapSize < maximum else {
            throw LMDBError(
                code: .mapFull,
                message: "The LMDB map of \(directory) is full: the write needs more than the maximum map size of "
                    + "\(configuration.maximumMapSize) bytes (current map \(attemptMapSize) bytes). Nothing of the "
                    + "failed write was stored; the last commit is intact. Raise LMDBConfiguration.maximumMapSize.",
                returnCode: MDB_MAP_FULL)
        }
        let newSize = min(Self.round(attemptMapSize * 2, toMultipleOf: pageSize), maximum)
        var resizeCode: Int32 = MDB_SUCCESS
        let didResize = gate.exclusively(timeout: configuration.resizeTimeout) {
            if currentMapSize.withLock({ $0 }) > attemptMapSize { return }
            resizeCode = mdb_env_set_mapsize(handle, newSize)
            if resizeCode == MDB_SUCCESS {
                var info = MDB_envinfo()
                mdb_env_info(handle, &info)
                currentMapSize.withLock { $0 = info.me_mapsize }
            } else {
                markUnmapped(resizeCode, "growing the map to \(newSize) bytes")
            }
        }
        guard didResize else {
            throw LMDBError(
                code: .resizeBlocked,
                message: "The LMDB map of \(directory) must grow, but read transactions of this process stayed open "
                    + "longer than \(configuration.resizeTimeout). Keep read transactions short and never start a "
                    + "write inside one.",
                isRetriable: true)
        }
        try lmdbCheck(resizeCode, "grow the map to \(newSize) bytes", path: directory)
        logger.info(
            "Grew the LMDB map",
            metadata: ["sluice.lmdb.old_map_size": "\(attemptMapSize)", "sluice.lmdb.map_size": "\(mapSize)"])
    }

    /// Records that LMDB failed to map the file again (in 0.9.x it unmaps the old map first).
    private func markUnmapped(_ code: Int32, _ operation: String) {
        let text = String(cString: mdb_strerror(code))
        unmapped.withLock { $0 = $0 ?? "\(operation) failed (\(text))" }
    }

    /// Enters the gate, then throws (having left it) if the map is gone: checked inside, since
    /// a resize this call waited for in ``LMDBTransactionGate/enter()`` may have lost the map.
    private func enterMapped() throws {
        gate.enter()
        do {
            try checkMapped()
        } catch {
            gate.leave()
            throw error
        }
    }

    /// Throws once the map is gone (see ``markUnmapped(_:_:)``), instead of letting a
    /// transaction read unmapped memory.
    private func checkMapped() throws {
        if let reason = unmapped.withLock({ $0 }) {
            throw LMDBError(
                code: .environmentFailed,
                message: "The LMDB environment of \(directory) is unusable: \(reason), and LMDB had already unmapped "
                    + "the file. The data on disk is intact; open the environment again (restart the process), with "
                    + "more address space or a smaller LMDBConfiguration.maximumMapSize.")
        }
    }

    /// Adopts a map size another process set (`MDB_MAP_RESIZED`).
    private func adoptResizedMap() throws {
        var resizeCode: Int32 = MDB_SUCCESS
        let didResize = gate.exclusively(timeout: configuration.resizeTimeout) {
            resizeCode = mdb_env_set_mapsize(handle, 0)
            guard resizeCode == MDB_SUCCESS else {
                markUnmapped(resizeCode, "adopting the map size another process set")
                return
            }
            var info = MDB_envinfo()
            mdb_env_info(handle, &info)
            currentMapSize.withLock { $0 = info.me_mapsize }
        }
        guard didResize else {
            throw LMDBError(
                code: .resizeBlocked,
                message: "Another process grew the LMDB map of \(directory), but read transactions of this process "
                    + "stayed open longer than \(configuration.resizeTimeout).",
                isRetriable: true)
        }
        try lmdbCheck(resizeCode, "adopt the new map size", path: directory)
    }

    // MARK: Opening helpers

    private static func round(_ size: Int, toMultipleOf pageSize: Int) -> Int {
        let (rounded, overflow) = size.addingReportingOverflow(pageSize - 1)
        return overflow ? Int.max - Int.max % pageSize : rounded - rounded % pageSize
    }

    /// Creates `directory` and its missing parents; returns the paths it created, outermost first.
    private static func createDirectory(_ directory: String) throws -> [String] {
        var path = directory.hasPrefix("/") ? "" : "."
        var created: [String] = []
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o755) == 0 {
                created.append(path)
            } else if errno != EEXIST {
                throw LMDBError(returnCode: errno, operation: "create the state directory \(path)", path: directory)
            }
        }
        var status = stat()
        guard stat(directory, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            throw LMDBError(
                code: .notASluiceStore,
                message: "\(directory) is not a directory. Sluice keeps its state in a directory of its own.")
        }
        return created
    }

    /// The directory that holds `path` (one made by ``createDirectory(_:)``, so never the root).
    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Makes the entries of `directory` durable.
    private static func syncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else {
            throw LMDBError(returnCode: errno, operation: "open the directory \(directory) to sync it", path: directory)
        }
        defer { close(descriptor) }
        // EINVAL: a file system that cannot sync directories (and has nothing to make durable).
        guard fsync(descriptor) == 0 || errno == EINVAL else {
            throw LMDBError(returnCode: errno, operation: "sync the directory \(directory)", path: directory)
        }
    }
}
