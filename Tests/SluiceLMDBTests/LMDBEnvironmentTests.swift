import Dispatch
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@testable import SluiceLMDB

@Suite("LMDBEnvironment")
struct LMDBEnvironmentTests {
    @Test func putGetDeleteAndMissingKeys() throws {
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let table = try environment.database(named: "table")
        try environment.write { txn throws in
            try txn.put([1, 2, 3], forKey: [1], in: table)
            try txn.put([4], forKey: [2], in: table)
            #expect(try txn.insert([9], forKey: [2], in: table) == false)
            #expect(try txn.insert([5], forKey: [3], in: table) == true)
        }
        try environment.read { txn throws in
            #expect(try txn.get([1], in: table) == [1, 2, 3])
            #expect(try txn.get([2], in: table) == [4])
            #expect(try txn.get([3], in: table) == [5])
            #expect(try txn.get([7], in: table) == nil)
            #expect(try txn.contains([1], in: table))
            #expect(try !txn.contains([7], in: table))
            #expect(try txn.count(in: table) == 3)
            let length = try txn.withValue(forKey: [1], in: table) { $0?.count }
            #expect(length == 3)
            let missing = try txn.withValue(forKey: [7], in: table) { $0 == nil }
            #expect(missing)
        }
        try environment.write { txn throws in
            #expect(try txn.delete([1], in: table))
            #expect(try !txn.delete([1], in: table))
        }
        #expect(try environment.read { try $0.get([1], in: table) } == nil)
    }

    @Test func throwingClosureAbortsTheWrite() throws {
        struct Failure: Error {}
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let table = try environment.database(named: "table")
        try environment.write { try $0.put([1], forKey: [1], in: table) }
        #expect(throws: Failure.self) {
            try environment.write { txn throws in
                try txn.put([2], forKey: [1], in: table)
                try txn.put([2], forKey: [2], in: table)
                throw Failure()
            }
        }
        try environment.read { txn throws in
            #expect(try txn.get([1], in: table) == [1])
            #expect(try txn.get([2], in: table) == nil)
        }
    }

    @Test func dataSurvivesReopening() throws {
        let directory = TemporaryDirectory()
        do {
            let environment = try LMDBEnvironment(directory: directory.path + "/nested/state")
            let table = try environment.database(named: "table")
            try environment.write { try $0.put([42], forKey: Array("answer".utf8), in: table) }
        }
        let environment = try LMDBEnvironment(directory: directory.path + "/nested/state")
        let table = try environment.database(named: "table")
        #expect(try environment.read { try $0.get(Array("answer".utf8), in: table) } == [42])
    }

    @Test func namedDatabasesAreSeparate() throws {
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let first = try environment.database(named: "first")
        let second = try environment.database(named: "second")
        try environment.write { txn throws in
            try txn.put([1], forKey: [0], in: first)
            try txn.put([2], forKey: [0], in: second)
        }
        #expect(try environment.read { try $0.get([0], in: first) } == [1])
        #expect(try environment.read { try $0.get([0], in: second) } == [2])
        #expect(try environment.database(named: "first") == first)
    }

    @Test func scansVisitRangesAndPrefixesInOrder() throws {
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let table = try environment.database(named: "table")
        let keys: [[UInt8]] = [[1], [1, 0], [1, 1], [1, 1, 5], [1, 2], [1, 255], [2], [2, 0], [3]]
        try environment.write { txn throws in
            for key in keys.shuffled() {
                try txn.put(key + [9], forKey: key, in: table)
            }
        }
        try environment.read { txn throws in
            #expect(try txn.keys(in: table) == keys)
            #expect(try txn.keys(in: table, range: .prefix([1])) == Array(keys[0 ... 5]))
            #expect(try txn.keys(in: table, range: .prefix([1, 1])) == [[1, 1], [1, 1, 5]])
            #expect(try txn.keys(in: table, range: .prefix([1], from: [1, 1, 6])) == [[1, 2], [1, 255]])
            #expect(try txn.keys(in: table, range: .prefix([4])) == [])
            #expect(try txn.keys(in: table, range: LMDBKeyRange(start: [1, 1], end: [2])) == Array(keys[2 ... 5]))
            #expect(try txn.keys(in: table, range: LMDBKeyRange(start: [1, 3])) == [[1, 255], [2], [2, 0], [3]])
            #expect(try txn.keys(in: table, range: LMDBKeyRange(end: [1, 1])) == [[1], [1, 0]])
            let entries = try txn.entries(in: table, range: .prefix([2]), limit: 1)
            #expect(entries.count == 1)
            #expect(entries.first?.key == [2] && entries.first?.value == [2, 9])
            var visited = 0
            try txn.scan(table) { _, _ in
                visited += 1
                return visited == 3 ? .stop : .next
            }
            #expect(visited == 3)
        }
    }

    @Test func cursorsMoveBothWaysAndDelete() throws {
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let table = try environment.database(named: "table")
        try environment.write { txn throws in
            for key in UInt8(0) ..< 10 { try txn.put([key * 2], forKey: [key], in: table) }
        }
        try environment.read { txn throws in
            try txn.withCursor(on: table) { cursor throws in
                #expect(try cursor.moveToLast())
                #expect(cursor.currentKey == [9] && cursor.currentValue == [18])
                #expect(try cursor.moveToPrevious())
                #expect(cursor.currentKey == [8])
                #expect(try cursor.seek(toFirstKeyAtOrAfter: [4, 1]))
                #expect(cursor.currentKey == [5])
                #expect(try !cursor.seek(toFirstKeyAtOrAfter: [10]))
                #expect(try cursor.moveToFirst())
                #expect(cursor.currentKey == [0])
            }
        }
        try environment.write { txn throws in
            try txn.withCursor(on: table) { cursor throws in
                try cursor.seek(toFirstKeyAtOrAfter: [3])
                try cursor.deleteCurrent()
                #expect(try cursor.moveToCurrent())
                #expect(cursor.currentKey == [4])
            }
        }
        #expect(try environment.read { try $0.keys(in: table) }.count == 9)
    }

    @Test func deleteAllRemovesExactlyTheRangeAcrossManyPages() throws {
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let table = try environment.database(named: "table")
        try environment.write { txn throws in
            for group in UInt8(0) ..< 3 {
                for index in UInt16(0) ..< 3_000 {
                    try txn.put(Array(repeating: 7, count: 40), forKey: [group, UInt8(index >> 8), UInt8(index & 0xFF)], in: table)
                }
            }
        }
        let removed = try environment.write { try $0.deleteAll(in: table, range: .prefix([1])) }
        #expect(removed == 3_000)
        try environment.read { txn throws in
            #expect(try txn.count(in: table) == 6_000)
            #expect(try txn.keys(in: table, range: .prefix([1])).isEmpty)
            #expect(try txn.keys(in: table, range: .prefix([0])).count == 3_000)
            #expect(try txn.keys(in: table, range: .prefix([2])).count == 3_000)
        }
        try environment.write { try $0.removeAll(in: table) }
        #expect(try environment.read { try $0.count(in: table) } == 0)
    }

    /// Deleting up to the last entry of a database once failed with EINVAL when the cursor ran off the end.
    @Test func deleteAllRemovesTheLastEntriesOfADatabase() throws {
        let directory = TemporaryDirectory()
        let environment = try LMDBEnvironment(directory: directory.path)
        let table = try environment.database(named: "table")
        try environment.write { txn throws in
            for group in UInt8(0) ..< 3 {
                for index in UInt8(0) ..< 200 { try txn.put([index], forKey: [group, index], in: table) }
            }
        }
        #expect(try environment.write { try $0.deleteAll(in: table, range: .prefix([2])) } == 200)
        #expect(try environment.read { try $0.count(in: table) } == 400)
        #expect(try environment.write { try $0.deleteAll(in: table, range: .all) } == 400)
        #expect(try environment.read { try $0.count(in: table) } == 0)
        #expect(try environment.write { try $0.deleteAll(in: table, range: .all) } == 0)
    }

    @Test func mapGrowsFromATinyInitialSize() throws {
        let directory = TemporaryDirectory()
        let configuration = LMDBConfiguration(initialMapSize: 64 << 10, maximumMapSize: 256 << 20)
        let logs = CapturedLogs()
        let environment = try LMDBEnvironment(
            directory: directory.path, configuration: configuration, logger: logs.logger())
        let table = try environment.database(named: "table")
        let initialSize = environment.mapSize
        var runs = 0
        try environment.write { txn throws in
            runs += 1
            for index in 0 ..< 20_000 {
                try txn.put(Array(repeating: UInt8(index & 0xFF), count: 100), forKey: bigEndian(index), in: table)
            }
        }
        #expect(runs > 1)
        #expect(environment.mapSize > initialSize)
        #expect(logs.messages.contains("Grew the LMDB map"))
        try environment.read { txn throws in
            #expect(try txn.count(in: table) == 20_000)
            #expect(try txn.get(bigEndian(19_999), in: table) == Array(repeating: UInt8(19_999 & 0xFF), count: 100))
        }
    }

    @Test func mapGrowthRetriesEvenWhenTheClosureSwallowsTheError() throws {
        let directory = TemporaryDirectory()
        let configuration = LMDBConfiguration(initialMapSize: 64 << 10, maximumMapSize: 64 << 20)
        let environment = try LMDBEnvironment(
            directory: directory.path, configuration: configuration, logger: CapturedLogs().logger())
        let table = try environment.database(named: "table")
        try environment.write { txn throws in
            for index in 0 ..< 5_000 {
                do {
                    try txn.put(Array(repeating: 1, count: 100), forKey: bigEndian(index), in: table)
                } catch {
                    break
                }
            }
        }
        #expect(try environment.read { try $0.count(in: table) } == 5_000)
    }

    @Test func writesPastTheMaximumFailWithMapFullAndKeepEarlierData() throws {
        let directory = TemporaryDirectory()
        let configuration = LMDBConfiguration(initialMapSize: 64 << 10, maximumMapSize: 1 << 20)
        let environment = try LMDBEnvironment(
            directory: directory.path, configuration: configuration, logger: CapturedLogs().logger())
        let table = try environment.database(named: "table")
        try environment.write { try $0.put([1], forKey: [1], in: table) }
        let error = #expect(throws: LMDBError.self) {
            try environment.write { txn throws in
                try txn.put([2], forKey: [1], in: table)
                for index in 0 ..< 50_000 {
                    try txn.put(Array(repeating: 3, count: 100), forKey: bigEndian(index + 10), in: table)
                }
            }
        }
        #expect(error?.code == .mapFull)
        #expect(error?.message.contains("\(1 << 20)") == true)
        #expect(error?.isRetriable == false)
        try environment.read { txn throws in
            #expect(try txn.get([1], in: table) == [1])
            #expect(try txn.count(in: table) == 1)
        }
        // Still usable for writes that fit.
        try environment.write { try $0.put([4], forKey: [4], in: table) }
        #expect(try environment.read { try $0.get([4], in: table) } == [4])
    }

    @Test func aSecondEnvironmentOnTheSameDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let first = try LMDBEnvironment(directory: directory.path)
            let error = #expect(throws: LMDBError.self) {
                _ = try LMDBEnvironment(directory: directory.path)
            }
            #expect(error?.code == .directoryInUse)
            #expect(error?.message.contains("is in use by PID \(getpid())") == true)
            _ = first
        }
        // Released when the first environment goes away.
        _ = try LMDBEnvironment(directory: directory.path)
    }

    /// A child forked while this process held the lock shares it until it execs. Stand in for
    /// that child with a second open file description of the lock file that holds the lock
    /// under this process's PID, with no environment here, and lets go 200 ms later.
    @Test func aLockOnlyAForkedChildStillSharesIsWaitedOut() throws {
        let directory = TemporaryDirectory()
        do { _ = try LMDBEnvironment(directory: directory.path) }
        let descriptor = open(directory.path + "/" + LMDBLockFile.fileName, O_RDWR)
        try #require(descriptor >= 0)
        // A child another test forks while the environment above holds the lock shares it until
        // it execs (the very case under test): retry for up to 2 s, as the store's open does.
        var locked = flock(descriptor, LOCK_EX | LOCK_NB) == 0
        let deadline = ContinuousClock.now + .seconds(2)
        while !locked && ContinuousClock.now < deadline {
            usleep(5_000)
            locked = flock(descriptor, LOCK_EX | LOCK_NB) == 0
        }
        try #require(locked)
        // On a dispatch thread, not the test pool, which the waiting open below may occupy.
        let released = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) {
            close(descriptor)
            released.signal()
        }
        let environment = try LMDBEnvironment(directory: directory.path)
        #expect(environment.directory == directory.path)
        released.wait()
    }

    @Test func aDirectoryHeldByAnotherProcessIsRefused() throws {
        let directory = TemporaryDirectory()
        let child = ChildProcess(
            test: "LMDBChildProcesses/holdLock", environment: ["SLUICE_LMDB_LOCK_HOLDER": directory.path])
        #expect(child.readLine() == "locked")
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBEnvironment(directory: directory.path)
        }
        #expect(error?.code == .directoryInUse)
        #expect(error?.message.contains("in use by PID \(child.pid)") == true)
        child.killNow()
        // The kernel releases the lock of a killed process.
        _ = try LMDBEnvironment(directory: directory.path)
    }

    @Test func randomBytesAreNotAStore() throws {
        let directory = TemporaryDirectory()
        var random = TestRandom(seed: 7)
        writeFile(directory.path + "/data.mdb", random.bytes(64 << 10))
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBEnvironment(directory: directory.path)
        }
        #expect(error?.code == .notASluiceStore)
        #expect(error?.message.contains(directory.path) == true)
    }

    @Test func aForeignLMDBEnvironmentIsNotAStore() throws {
        let directory = TemporaryDirectory()
        do {
            let environment = try LMDBEnvironment(directory: directory.path)
            let table = try environment.database(named: "someone-elses")
            try environment.write { txn throws in
                try txn.put([1], forKey: [1], in: table)
                // Make it look like a plain LMDB file written by another program: no meta record.
                try txn.delete(LMDBEnvironment.metaKey, in: try environment.mainDatabase(in: txn))
            }
        }
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBEnvironment(directory: directory.path)
        }
        #expect(error?.code == .notASluiceStore)
        #expect(error?.message.contains("another program") == true)
    }

    @Test func aNewerFormatVersionIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let environment = try LMDBEnvironment(directory: directory.path)
            try environment.overwriteMetaRecordForTesting(version: LMDBEnvironment.formatVersion + 1)
        }
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBEnvironment(directory: directory.path)
        }
        #expect(error?.code == .unsupportedFormatVersion)
        #expect(error?.message.contains("format version \(LMDBEnvironment.formatVersion + 1)") == true)
    }

    @Test func invalidConfigurationsAreRefused() throws {
        let directory = TemporaryDirectory()
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBEnvironment(
                directory: directory.path,
                configuration: LMDBConfiguration(initialMapSize: 2 << 20, maximumMapSize: 1 << 20))
        }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func readersRunWhileAnotherThreadGrowsTheMap() async throws {
        let directory = TemporaryDirectory()
        let configuration = LMDBConfiguration(initialMapSize: 64 << 10, maximumMapSize: 256 << 20)
        let environment = try LMDBEnvironment(
            directory: directory.path, configuration: configuration, logger: CapturedLogs().logger())
        let table = try environment.database(named: "table")
        try environment.write { try $0.put([1], forKey: [0, 0, 0, 0], in: table) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0 ..< 20 {
                    try environment.write { txn throws in
                        for index in 0 ..< 500 {
                            try txn.put(Array(repeating: 1, count: 200), forKey: bigEndian(1 + round * 500 + index), in: table)
                        }
                    }
                }
            }
            group.addTask {
                for _ in 0 ..< 2_000 {
                    let value = try environment.read { try $0.get([0, 0, 0, 0], in: table) }
                    #expect(value == [1])
                }
            }
            try await group.waitForAll()
        }
        #expect(try environment.read { try $0.count(in: table) } == 10_001)
    }

    /// `usedBytes` reads LMDB's map; it once crashed when a commit grew the map meanwhile.
    @Test func usedBytesCanBeReadWhileAnotherThreadGrowsTheMap() async throws {
        let directory = TemporaryDirectory()
        let configuration = LMDBConfiguration(initialMapSize: 64 << 10, maximumMapSize: 256 << 20)
        let environment = try LMDBEnvironment(
            directory: directory.path, configuration: configuration, logger: CapturedLogs().logger())
        let table = try environment.database(named: "table")
        let initialMap = environment.mapSize
        let sizes = try await withThrowingTaskGroup(of: [Int].self) { group in
            group.addTask {
                for round in 0 ..< 20 {
                    try environment.write { txn throws in
                        for index in 0 ..< 500 {
                            try txn.put(Array(repeating: 1, count: 200), forKey: bigEndian(round * 500 + index), in: table)
                        }
                    }
                }
                return []
            }
            group.addTask {
                var seen: [Int] = []
                for _ in 0 ..< 20_000 { seen.append(environment.usedBytes) }
                return seen
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(environment.mapSize > initialMap)
        #expect(sizes.count == 20_000)
        // Committed data only grows here, so the readings never go down.
        #expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(environment.usedBytes >= sizes.last ?? 0)
    }
}

func bigEndian(_ value: Int) -> [UInt8] {
    withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) }
}
