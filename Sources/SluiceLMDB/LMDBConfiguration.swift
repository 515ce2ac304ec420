/// How an ``LMDBEnvironment`` is opened.
///
/// The defaults suit a Sluice state directory: durable commits, a map that
/// starts at 64 MiB and may grow to 64 GiB.
public struct LMDBConfiguration: Sendable, Equatable {
    /// Options passed to LMDB when the environment is opened.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw bits; only the constants below are meaningful.
        public let rawValue: UInt32

        /// Creates a set of flags from raw bits.
        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// Do not ask the kernel to read ahead (`MDB_NORDAHEAD`); helps random reads when the map exceeds memory.
        public static let noReadAhead = Flags(rawValue: 1 << 0)
        /// Flush data on commit but not the meta page (`MDB_NOMETASYNC`): a crash may lose the last
        /// transaction but never breaks atomicity. Ignored semantics-wise when ``LMDBConfiguration/isDurable`` is false.
        public static let noMetaSync = Flags(rawValue: 1 << 1)
        /// Do not zero-fill malloc'ed pages before writing them (`MDB_NOMEMINIT`).
        public static let noMemoryInit = Flags(rawValue: 1 << 2)
    }

    /// The map size used when the environment is opened, in bytes. Default: 64 MiB.
    ///
    /// Rounded up to the page size. A larger existing environment is opened at the size its data needs.
    public var initialMapSize: Int
    /// The largest the map may grow to, in bytes. Default: 64 GiB.
    ///
    /// When a write needs more, it fails with ``LMDBError/Code-swift.struct/mapFull`` and nothing is written.
    public var maximumMapSize: Int
    /// How many named databases the environment may hold. Default: 16.
    public var maxDatabases: Int
    /// How many read transactions may be open at once, across all processes. Default: 126.
    public var maxReaders: Int
    /// Whether a commit returns only after its data is on disk (`fsync`). Default: `true`.
    ///
    /// When `false` (`MDB_NOSYNC`) commits stay atomic, but the last ones may be lost in an
    /// operating-system crash or power failure. Sluice's exactly-once guarantee needs `true`.
    public var isDurable: Bool
    /// Further LMDB options. Default: none.
    public var flags: Flags
    /// How long a map resize waits for read transactions of this process to finish. Default: 30 seconds.
    public var resizeTimeout: Duration

    /// Creates a configuration; every parameter has the default documented on its property.
    public init(
        initialMapSize: Int = 64 << 20,
        maximumMapSize: Int = 64 << 30,
        maxDatabases: Int = 16,
        maxReaders: Int = 126,
        isDurable: Bool = true,
        flags: Flags = [],
        resizeTimeout: Duration = .seconds(30)
    ) {
        self.initialMapSize = initialMapSize
        self.maximumMapSize = maximumMapSize
        self.maxDatabases = maxDatabases
        self.maxReaders = maxReaders
        self.isDurable = isDurable
        self.flags = flags
        self.resizeTimeout = resizeTimeout
    }

    /// Checks that the values can be used, throwing ``LMDBError/Code-swift.struct/invalidConfiguration`` otherwise.
    public func validate() throws(LMDBError) {
        func invalid(_ message: String) -> LMDBError {
            LMDBError(code: .invalidConfiguration, message: message)
        }
        guard initialMapSize > 0 else {
            throw invalid("initialMapSize must be positive, got \(initialMapSize).")
        }
        guard maximumMapSize >= initialMapSize else {
            throw invalid(
                "maximumMapSize (\(maximumMapSize) bytes) must not be smaller than initialMapSize (\(initialMapSize) bytes).")
        }
        guard maxDatabases >= 1, maxDatabases <= 32_000 else {
            throw invalid("maxDatabases must be between 1 and 32000, got \(maxDatabases).")
        }
        guard maxReaders >= 1, maxReaders <= 65_535 else {
            throw invalid("maxReaders must be between 1 and 65535, got \(maxReaders).")
        }
        guard resizeTimeout > .zero else {
            throw invalid("resizeTimeout must be positive, got \(resizeTimeout).")
        }
    }
}
