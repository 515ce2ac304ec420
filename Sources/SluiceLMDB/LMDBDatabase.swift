/// A handle to one named database (a sorted key-value table) inside an ``LMDBEnvironment``.
///
/// Obtained from ``LMDBEnvironment/database(named:)``; valid for as long as the
/// environment that created it is open. Keys are ordered bytewise (shorter first on a common prefix).
public struct LMDBDatabase: Sendable, Hashable, CustomStringConvertible {
    /// The database's name.
    public let name: String
    /// The LMDB handle (`MDB_dbi`).
    let handle: UInt32
    /// Identifies the environment, so that a handle is not used with another one.
    let environmentID: UInt64

    init(name: String, handle: UInt32, environmentID: UInt64) {
        self.name = name
        self.handle = handle
        self.environmentID = environmentID
    }

    /// The database's name.
    public var description: String { name }
}
