internal import CLMDB

extension LMDBEnvironment {
    /// The unnamed main database, which lists the named databases and holds the meta record.
    func mainDatabase(in transaction: LMDBTransaction) throws -> LMDBDatabase {
        var dbi: MDB_dbi = 0
        try lmdbCheck(mdb_dbi_open(transaction.handle, nil, 0, &dbi), "open the main database", path: directory)
        return LMDBDatabase(name: "(main)", handle: dbi, environmentID: identifier)
    }

    /// Encodes the meta record: the magic bytes, then the format version (big-endian).
    static func metaRecord(version: UInt32) -> [UInt8] {
        magic + withUnsafeBytes(of: version.bigEndian) { Array($0) }
    }

    /// Verifies the meta record of an existing store, or writes it into an empty environment.
    func checkOrWriteMetaRecord() throws {
        try write { transaction in
            let main = try mainDatabase(in: transaction)
            if let record = try transaction.get(Self.metaKey, in: main) {
                guard record.count == Self.magic.count + 4, record.starts(with: Self.magic) else {
                    throw notASluiceStore("its meta record is not Sluice's")
                }
                let version = record[Self.magic.count...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                guard version <= Self.formatVersion else {
                    throw LMDBError(
                        code: .unsupportedFormatVersion,
                        message: "The state store in \(directory) has format version \(version), but this build "
                            + "reads versions up to \(Self.formatVersion). Run a newer Sluice, or restore a state "
                            + "directory written by this version.")
                }
                return
            }
            guard try transaction.count(in: main) == 0 else {
                throw notASluiceStore("it holds an LMDB environment written by another program")
            }
            try transaction.put(Self.metaRecord(version: Self.formatVersion), forKey: Self.metaKey, in: main)
        }
    }

    /// Replaces the meta record; only for tests that need a store of another format version.
    func overwriteMetaRecordForTesting(version: UInt32) throws {
        try write { transaction in
            try transaction.put(
                Self.metaRecord(version: version), forKey: Self.metaKey, in: try mainDatabase(in: transaction))
        }
    }

    private func notASluiceStore(_ reason: String) -> LMDBError {
        LMDBError(
            code: .notASluiceStore,
            message: "\(directory) is not a Sluice state store: \(reason). Point Sluice at its own state "
                + "directory, or move the files away.")
    }
}
