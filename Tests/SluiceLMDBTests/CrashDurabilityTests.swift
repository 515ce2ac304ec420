import Sluice
import SluiceLMDB
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checkpoints the crash writer commits: checkpoint `n` is a pure function of `n`, so
/// that a reopened store can be checked against exactly one checkpoint.
///
/// Every checkpoint rewrites every key (deleting some, so deletions are covered), moves the
/// progress, replaces the one timer and the oldest outbox entry, moves a scan offset, and
/// alternately fills and drops a third partition.
enum CrashModel {
    static let partitions = [InputPartition(topic: "crash", partition: 0), InputPartition(topic: "crash", partition: 1)]
    static let flickering = InputPartition(topic: "crash", partition: 2)
    static let output = OutputPartition(topic: "out", partition: 0)
    static let keysPerPartition = 300
    static let flickeringKeys = 100

    static func key(_ index: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) }
    }

    static func state(checkpoint id: UInt64, key index: Int) -> [UInt8]? {
        if (UInt64(index) + id) % 7 == 0 { return nil }
        var bytes = withUnsafeBytes(of: id.bigEndian) { Array($0) } + key(index)
        bytes += Array(repeating: UInt8(truncatingIfNeeded: index), count: Int((id + UInt64(index)) % 40))
        return bytes
    }

    static func progress(checkpoint id: UInt64, partition: Int) -> PartitionProgress {
        PartitionProgress(nextOffset: Int64(id) * 10 + Int64(partition), watermarkMilliseconds: Int64(id), nextSequence: id + 1)
    }

    static func timer(checkpoint id: UInt64, partition: Int) -> StoredTimer {
        StoredTimer(fireAtMilliseconds: Int64(id), key: [UInt8(partition)], isEventTime: true)
    }

    static func entry(checkpoint id: UInt64, partition: Int) -> OutboxEntry {
        OutboxEntry(
            key: OutboxKey(writer: partitions[partition], sequence: id), destination: output, recordKey: key(partition),
            recordValue: withUnsafeBytes(of: id.bigEndian) { Array($0) })
    }

    static func checkpoint(_ id: UInt64) -> CheckpointWrite {
        var write = CheckpointWrite(id: id, scanOffsets: [output: Int64(id)])
        for (number, partition) in partitions.enumerated() {
            var updates: [[UInt8]: [UInt8]?] = [:]
            for index in 0 ..< keysPerPartition {
                updates[key(index)] = .some(state(checkpoint: id, key: index))
            }
            write.partitions[partition] = PartitionCheckpoint(
                progress: progress(checkpoint: id, partition: number), keyUpdates: updates,
                timersAdded: [timer(checkpoint: id, partition: number)],
                timersRemoved: id > 1 ? [timer(checkpoint: id - 1, partition: number)] : [])
            write.outboxAppends.append(entry(checkpoint: id, partition: number))
            if id > 2 {
                write.outboxRemovals.append(OutboxKey(writer: partition, sequence: id - 2))
            }
        }
        if id % 2 == 1 {
            var updates: [[UInt8]: [UInt8]?] = [:]
            for index in 0 ..< flickeringKeys {
                updates[key(index)] = state(checkpoint: id, key: index) ?? [0]
            }
            write.partitions[flickering] = PartitionCheckpoint(
                progress: progress(checkpoint: id, partition: 2), keyUpdates: updates)
        } else {
            write.droppedPartitions = [flickering]
        }
        return write
    }

    /// Describes every way `store` differs from checkpoint `id` (empty when it matches exactly).
    static func differences(_ store: LMDBCheckpointStore, from id: UInt64) throws -> [String] {
        var problems: [String] = []
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition && problems.count < 10 { problems.append(message()) }
        }
        let storedID = try store.lastCheckpointID()
        check(storedID == (id == 0 ? nil : id), "lastCheckpointID \(String(describing: storedID))")
        guard id > 0 else {
            check(try store.partitions().isEmpty, "partitions before the first checkpoint")
            return problems
        }
        let expectedPartitions = id % 2 == 1 ? partitions + [flickering] : partitions
        let storedPartitions = try store.partitions()
        check(storedPartitions == expectedPartitions, "partitions \(storedPartitions)")
        for (number, partition) in partitions.enumerated() {
            check(try store.progress(of: partition) == progress(checkpoint: id, partition: number), "progress of \(partition)")
            var expectedKeys: [[UInt8]] = []
            for index in 0 ..< keysPerPartition {
                let expected = state(checkpoint: id, key: index)
                if expected != nil { expectedKeys.append(key(index)) }
                let stored = try store.state(of: key(index), in: partition)
                check(stored == expected, "key \(index) of \(partition): \(stored.map { Array($0.prefix(8)) } ?? []) ")
            }
            check(try store.keys(in: partition) == expectedKeys, "key set of \(partition)")
            check(try store.timers(in: partition) == [timer(checkpoint: id, partition: number)], "timers of \(partition)")
        }
        if id % 2 == 1 {
            check(try store.keys(in: flickering).count == flickeringKeys, "keys of \(flickering)")
            check(try store.progress(of: flickering) == progress(checkpoint: id, partition: 2), "progress of \(flickering)")
        } else {
            check(try store.keys(in: flickering).isEmpty, "dropped \(flickering) has keys")
        }
        var expectedOutbox: [OutboxEntry] = []
        for number in partitions.indices {
            for sequence in max(id, 2) - 1 ... id {
                expectedOutbox.append(entry(checkpoint: sequence, partition: number))
            }
        }
        let outbox = try store.outbox()
        check(outbox == expectedOutbox, "outbox \(outbox.map(\.key))")
        let scanOffsets = try store.scanOffsets()
        check(scanOffsets == [output: Int64(id)], "scan offsets \(scanOffsets)")
        return problems
    }
}

@Suite("Crash durability")
struct CrashDurabilityTests {
    @Test func theModelMatchesItselfAndNothingElse() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        #expect(try CrashModel.differences(store, from: 0).isEmpty)
        for id: UInt64 in 1 ... 4 {
            try store.commit(CrashModel.checkpoint(id))
            #expect(try CrashModel.differences(store, from: id).isEmpty)
            #expect(try !CrashModel.differences(store, from: id + 1).isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aKilledWriterLeavesExactlyTheLastCommittedCheckpoint() throws {
        let directory = TemporaryDirectory()
        var random = SystemRandomNumberGenerator()
        let requiredKills = 50
        var kills = 0
        var killsAfterAcknowledgedCommits = 0
        var verifiedID: UInt64 = 0
        // How long one commit of the writer takes, learnt as the test runs (the machine may be busy).
        var commitEstimate = Duration.milliseconds(20)
        let started = ContinuousClock.now
        while kills < requiredKills && ContinuousClock.now - started < .seconds(45) {
            let child = ChildProcess(
                test: "LMDBChildProcesses/crashWriter", environment: ["SLUICE_LMDB_CRASH_WRITER": directory.path])
            guard let ready = child.readLine(timeoutMilliseconds: 15_000), ready.hasPrefix("ready ") else {
                Issue.record("The crash writer did not start (kill \(kills)).")
                return
            }
            let readyAt = ContinuousClock.now
            #expect(UInt64(ready.dropFirst(6)) == verifiedID, "The writer reopened at another checkpoint than verified.")
            // Anywhere from before the first commit to a few commits in, landing at random moments inside them.
            let delay = commitEstimate * Double.random(in: 0 ... 3, using: &random)
            usleep(UInt32(min(delay, .seconds(1)) / .microseconds(1)))
            child.killNow()
            let ranFor = ContinuousClock.now - readyAt
            kills += 1
            let acknowledged = child.remainingLines().compactMap { line in
                line.hasPrefix("committed ") ? UInt64(line.dropFirst(10)) : nil
            }
            let lastAcknowledged = acknowledged.max() ?? verifiedID
            if !acknowledged.isEmpty { killsAfterAcknowledgedCommits += 1 }
            commitEstimate = (commitEstimate * 3 + ranFor / (Double(acknowledged.count) + 0.5)) / 4

            let store = try LMDBCheckpointStore(directory: directory.path)
            let stored = try store.lastCheckpointID() ?? 0
            // Committed checkpoints are never lost; at most the one in flight when the kill came is also there.
            #expect(
                stored == lastAcknowledged || stored == lastAcknowledged + 1,
                "After kill \(kills): stored \(stored), last acknowledged \(lastAcknowledged).")
            let problems = try CrashModel.differences(store, from: stored)
            #expect(problems.isEmpty, "After kill \(kills) the store is not exactly checkpoint \(stored): \(problems)")
            verifiedID = stored
        }
        #expect(kills >= requiredKills)
        #expect(killsAfterAcknowledgedCommits >= requiredKills / 4, "Kills should land after some commits, too.")
        #expect(verifiedID >= UInt64(requiredKills / 2), "The writer should make progress between kills.")
        print("Crash durability: \(kills) kills, \(verifiedID) checkpoints, commit ≈ \(commitEstimate)")
    }
}

/// Tests that run only inside a child process started by ``ChildProcess``; disabled otherwise.
@Suite("LMDBChildProcesses")
struct LMDBChildProcesses {
    /// Holds the lock of `SLUICE_LMDB_LOCK_HOLDER` until killed.
    @Test(.enabled(if: environmentVariable("SLUICE_LMDB_LOCK_HOLDER") != nil))
    func holdLock() throws {
        let environment = try LMDBEnvironment(directory: environmentVariable("SLUICE_LMDB_LOCK_HOLDER")!)
        reportToParent("locked")
        while true {
            _ = environment
            sleep(60)
        }
    }

    /// Commits ``CrashModel`` checkpoints to `SLUICE_LMDB_CRASH_WRITER` until killed, reporting each commit.
    @Test(.enabled(if: environmentVariable("SLUICE_LMDB_CRASH_WRITER") != nil))
    func crashWriter() throws {
        let store = try LMDBCheckpointStore(directory: environmentVariable("SLUICE_LMDB_CRASH_WRITER")!)
        var id = try store.lastCheckpointID() ?? 0
        reportToParent("ready \(id)")
        while true {
            id += 1
            try store.commit(CrashModel.checkpoint(id))
            reportToParent("committed \(id)")
        }
    }

    /// Commits one checkpoint to `SLUICE_LMDB_DISK_FULL`, then lowers the file size limit so that the
    /// next, larger checkpoint cannot be written, and reports how that commit failed. With
    /// `SLUICE_LMDB_DISK_FULL_SLACK` the limit lies that many bytes past the file's end, so that the
    /// first write past the end is cut short instead of refused.
    @Test(.enabled(if: environmentVariable("SLUICE_LMDB_DISK_FULL") != nil))
    func diskFullWriter() throws {
        let directory = environmentVariable("SLUICE_LMDB_DISK_FULL")!
        let store = try LMDBCheckpointStore(directory: directory)
        let partition = InputPartition(topic: "orders", partition: 0)
        try store.commit(
            CheckpointWrite(
                id: 1,
                partitions: [
                    partition: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: 1, watermarkMilliseconds: nil, nextSequence: 0),
                        keyUpdates: [[1]: [1]])
                ]))
        var status = stat()
        stat(directory + "/data.mdb", &status)
        signal(SIGXFSZ, SIG_IGN)
        var limit = rlimit()
        getrlimit(RLIMIT_FSIZE_VALUE, &limit)
        limit.rlim_cur = rlim_t(Int(status.st_size) + (environmentVariable("SLUICE_LMDB_DISK_FULL_SLACK").flatMap { Int($0) } ?? 0))
        setrlimit(RLIMIT_FSIZE_VALUE, &limit)
        var updates: [[UInt8]: [UInt8]?] = [:]
        for index in 0 ..< 20_000 { updates[CrashModel.key(index)] = Array(repeating: 2, count: 32) }
        do {
            try store.commit(
                CheckpointWrite(
                    id: 2,
                    partitions: [
                        partition: PartitionCheckpoint(
                            progress: PartitionProgress(nextOffset: 2, watermarkMilliseconds: nil, nextSequence: 0),
                            keyUpdates: updates)
                    ]))
            reportToParent("committed")
        } catch let error as LMDBError {
            reportToParent("error \(error.code) \(error.isRetriable ? "retriable" : "final") \(error.message)")
        }
    }
}

#if canImport(Glibc)
private let RLIMIT_FSIZE_VALUE = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)
#else
private let RLIMIT_FSIZE_VALUE = RLIMIT_FSIZE
#endif
