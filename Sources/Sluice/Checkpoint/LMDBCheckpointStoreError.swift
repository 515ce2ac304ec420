/// An error of ``LMDBCheckpointStore`` that is not an ``LMDBError`` of the storage layer below it.
public struct LMDBCheckpointStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; match with `==`, not exhaustively.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: Hashable, Sendable {
            case checkpointIDNotIncreasing
            case conflictingChanges
            case corruptedRecord
            case unsupportedFormatVersion
        }

        fileprivate let value: Value

        /// A checkpoint's id was not greater than the id of the last committed checkpoint.
        public static let checkpointIDNotIncreasing = Code(value: .checkpointIDNotIncreasing)
        /// A checkpoint both updates and drops the same input partition.
        public static let conflictingChanges = Code(value: .conflictingChanges)
        /// A stored record could not be decoded.
        public static let corruptedRecord = Code(value: .corruptedRecord)
        /// The store was written by a newer (or unknown) checkpoint format version.
        public static let unsupportedFormatVersion = Code(value: .unsupportedFormatVersion)

        /// The name of the code, for logs.
        public var description: String {
            switch value {
            case .checkpointIDNotIncreasing: "checkpointIDNotIncreasing"
            case .conflictingChanges: "conflictingChanges"
            case .corruptedRecord: "corruptedRecord"
            case .unsupportedFormatVersion: "unsupportedFormatVersion"
            }
        }
    }

    /// What kind of failure this is.
    public let code: Code
    /// What happened and what a person can do about it.
    public let message: String
    /// Whether the same operation may succeed if tried again: never, for these errors.
    public var isRetriable: Bool { false }

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The code and message.
    public var description: String { "LMDBCheckpointStoreError.\(code): \(message)" }
}
