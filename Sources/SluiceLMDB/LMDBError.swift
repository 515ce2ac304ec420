/// An error raised by the LMDB layer.
///
/// Every `mdb_*` return code is converted into an `LMDBError` once, where the
/// C call is made. The ``code`` says what went wrong in terms a caller can
/// branch on, ``message`` says what to do about it, ``returnCode`` keeps the
/// underlying LMDB or `errno` value, and ``isRetriable`` says whether trying
/// the same operation again later can succeed.
public struct LMDBError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; match with `==`, not exhaustively.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: Hashable, Sendable {
            case mapFull
            case diskFull
            case directoryInUse
            case notASluiceStore
            case unsupportedFormatVersion
            case corrupted
            case readersFull
            case databasesFull
            case transactionFull
            case invalidKeyOrValue
            case invalidConfiguration
            case resizeBlocked
            case environmentFailed
            case ioFailure
        }

        fileprivate let value: Value

        fileprivate init(_ value: Value) {
            self.value = value
        }

        /// The map reached ``LMDBConfiguration/maximumMapSize`` and the write could not be completed.
        public static let mapFull = Code(.mapFull)
        /// The file system holding the environment is full (`ENOSPC`) or the file size limit was reached.
        public static let diskFull = Code(.diskFull)
        /// Another process, or another environment in this process, holds the directory's lock.
        public static let directoryInUse = Code(.directoryInUse)
        /// The directory holds data that was not written by Sluice, or is not an LMDB environment at all.
        public static let notASluiceStore = Code(.notASluiceStore)
        /// The directory was written by a newer (or unknown) format version.
        public static let unsupportedFormatVersion = Code(.unsupportedFormatVersion)
        /// LMDB found a damaged page or record.
        public static let corrupted = Code(.corrupted)
        /// Every reader slot of the environment is in use.
        public static let readersFull = Code(.readersFull)
        /// More named databases were opened than ``LMDBConfiguration/maxDatabases`` allows.
        public static let databasesFull = Code(.databasesFull)
        /// One transaction changed more pages than LMDB can track.
        public static let transactionFull = Code(.transactionFull)
        /// A key was empty or too long, or a value was too large.
        public static let invalidKeyOrValue = Code(.invalidKeyOrValue)
        /// The configuration is not usable (see ``LMDBConfiguration/validate()``).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The map could not grow because read transactions in this process did not finish in time.
        public static let resizeBlocked = Code(.resizeBlocked)
        /// LMDB reported a fatal environment error; the environment must be closed and opened again.
        public static let environmentFailed = Code(.environmentFailed)
        /// Any other failure of LMDB or of the operating system.
        public static let ioFailure = Code(.ioFailure)

        /// The name of the code, for logs.
        public var description: String {
            switch value {
            case .mapFull: "mapFull"
            case .diskFull: "diskFull"
            case .directoryInUse: "directoryInUse"
            case .notASluiceStore: "notASluiceStore"
            case .unsupportedFormatVersion: "unsupportedFormatVersion"
            case .corrupted: "corrupted"
            case .readersFull: "readersFull"
            case .databasesFull: "databasesFull"
            case .transactionFull: "transactionFull"
            case .invalidKeyOrValue: "invalidKeyOrValue"
            case .invalidConfiguration: "invalidConfiguration"
            case .resizeBlocked: "resizeBlocked"
            case .environmentFailed: "environmentFailed"
            case .ioFailure: "ioFailure"
            }
        }
    }

    /// What kind of failure this is.
    public let code: Code
    /// What happened and what a person can do about it.
    public let message: String
    /// The LMDB return code (`MDB_*`, negative) or `errno` value (positive) behind the error, if any.
    public let returnCode: Int32?
    /// Whether the same operation may succeed if tried again later without changing the configuration.
    public let isRetriable: Bool

    /// Creates an error. Used by the LMDB layer and by stores built on it.
    public init(code: Code, message: String, returnCode: Int32? = nil, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.returnCode = returnCode
        self.isRetriable = isRetriable
    }

    /// The code and message, with the return code when there is one.
    public var description: String {
        if let returnCode {
            return "LMDBError.\(code) (\(returnCode)): \(message)"
        }
        return "LMDBError.\(code): \(message)"
    }
}
