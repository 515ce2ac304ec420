import Testing

@testable import Sluice
@testable import SluiceLMDB

@Suite("LMDBCheckpointStore")
struct LMDBCheckpointStoreTests {
    static let orders = InputPartition(topic: "orders", partition: 0)
    static let orders1 = InputPartition(topic: "orders", partition: 1)
    static let payments = InputPartition(topic: "payments", partition: -3)
    static let sums = OutputPartition(topic: "sums", partition: 2)
    static let alerts = OutputPartition(topic: "alerts", partition: 0)

    static func entry(_ writer: InputPartition, _ sequence: UInt64, to destination: OutputPartition = sums) -> OutboxEntry {
        OutboxEntry(
            key: OutboxKey(writer: writer, sequence: sequence), destination: destination,
            recordKey: sequence.isMultiple(of: 2) ? nil : Array("key-\(sequence)".utf8),
            recordValue: Array("value-\(sequence)".utf8),
            headers: sequence.isMultiple(of: 3)
                ? [OutputHeader(name: "trace", value: [1, 2, 3]), OutputHeader(name: "empty", value: [])] : [])
    }

    @Test func anEmptyStoreHasNothing() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        #expect(try store.lastCheckpointID() == nil)
        #expect(try store.partitions().isEmpty)
        #expect(try store.progress(of: Self.orders) == nil)
        #expect(try store.state(of: [1], in: Self.orders) == nil)
        #expect(try store.keys(in: Self.orders).isEmpty)
        #expect(try store.timers(in: Self.orders).isEmpty)
        #expect(try store.outbox().isEmpty)
        #expect(try store.scanOffsets().isEmpty)
    }

    @Test func everyPartOfACheckpointRoundTrips() throws {
        let directory = TemporaryDirectory()
        let timers = [
            StoredTimer(fireAtMilliseconds: 500, key: [2], isEventTime: true),
            StoredTimer(fireAtMilliseconds: -20, key: [1, 2], isEventTime: false),
            StoredTimer(fireAtMilliseconds: 500, key: [1], isEventTime: false),
            StoredTimer(fireAtMilliseconds: 500, key: [1], isEventTime: true),
            StoredTimer(fireAtMilliseconds: Int64.max, key: [], isEventTime: true),
        ]
        let outbox = [
            Self.entry(Self.payments, 1, to: Self.alerts), Self.entry(Self.orders, 300), Self.entry(Self.orders, 2),
            Self.entry(Self.orders1, 0), Self.entry(Self.orders, UInt64.max),
        ]
        let checkpoint = CheckpointWrite(
            id: 7,
            partitions: [
                Self.orders: PartitionCheckpoint(
                    progress: PartitionProgress(nextOffset: 1_234, watermarkMilliseconds: -5, nextSequence: 301),
                    keyUpdates: [[1]: [10, 11], [1, 2]: [], []: [99], [2]: nil], timersAdded: timers),
                Self.payments: PartitionCheckpoint(
                    progress: PartitionProgress(nextOffset: 0, watermarkMilliseconds: nil, nextSequence: 2),
                    keyUpdates: [[1]: [20]]),
            ],
            outboxAppends: outbox, scanOffsets: [Self.sums: 88, Self.alerts: -1])
        do {
            let store = try LMDBCheckpointStore(directory: directory.path)
            try store.commit(checkpoint)
        }
        // Everything comes back after reopening.
        let store = try LMDBCheckpointStore(directory: directory.path)
        #expect(try store.lastCheckpointID() == 7)
        #expect(try store.partitions() == [Self.orders, Self.payments])
        #expect(
            try store.progress(of: Self.orders)
                == PartitionProgress(nextOffset: 1_234, watermarkMilliseconds: -5, nextSequence: 301))
        #expect(
            try store.progress(of: Self.payments)
                == PartitionProgress(nextOffset: 0, watermarkMilliseconds: nil, nextSequence: 2))
        #expect(try store.state(of: [1], in: Self.orders) == [10, 11])
        #expect(try store.state(of: [1, 2], in: Self.orders) == [])
        #expect(try store.state(of: [], in: Self.orders) == [99])
        #expect(try store.state(of: [2], in: Self.orders) == nil)
        #expect(try store.state(of: [1], in: Self.payments) == [20])
        #expect(try store.state(of: [1], in: Self.orders1) == nil)
        #expect(try store.keys(in: Self.orders) == [[], [1], [1, 2]])
        #expect(try store.keys(in: Self.payments) == [[1]])
        #expect(try store.timers(in: Self.orders) == timers.sorted())
        #expect(try store.timers(in: Self.payments).isEmpty)
        #expect(try store.outbox() == outbox.sorted { $0.key < $1.key })
        #expect(try store.scanOffsets() == [Self.sums: 88, Self.alerts: -1])
    }

    static let mixedTimers: [StoredTimer] = {
        var timers: [StoredTimer] = []
        for index in 0 ..< 40 {
            timers.append(StoredTimer(fireAtMilliseconds: Int64(index % 7) * 1_000 - 3_000, key: [UInt8(index)], isEventTime: true))
        }
        for index in 0 ..< 9 {
            timers.append(StoredTimer(fireAtMilliseconds: Int64(index % 3) * 1_000, key: [UInt8(index)], isEventTime: false))
        }
        timers.append(StoredTimer(fireAtMilliseconds: .max, key: [], isEventTime: true))
        timers.append(StoredTimer(fireAtMilliseconds: .min, key: [255], isEventTime: true))
        return timers
    }()

    @Test func timersOfOneKindComeInChunksEarliestFirst() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let checkpoint = CheckpointWrite(
            id: 1,
            partitions: [
                Self.orders: PartitionCheckpoint(
                    progress: PartitionProgress(nextOffset: 1, watermarkMilliseconds: nil, nextSequence: 0),
                    keyUpdates: [:], timersAdded: Self.mixedTimers),
                Self.orders1: PartitionCheckpoint(
                    progress: PartitionProgress(nextOffset: 1, watermarkMilliseconds: nil, nextSequence: 0),
                    keyUpdates: [:], timersAdded: [StoredTimer(fireAtMilliseconds: 0, key: [1], isEventTime: true)]),
            ])
        try store.commit(checkpoint)
        let reference = InMemoryCheckpointStore()
        try reference.commit(checkpoint)

        for isEventTime in [true, false] {
            let expected = Self.mixedTimers.filter { $0.isEventTime == isEventTime }.sorted()
            var read: [StoredTimer] = []
            var after: StoredTimer?
            while true {
                let chunk = try store.timers(in: Self.orders, isEventTime: isEventTime, after: after, limit: 7)
                #expect(chunk.count <= 7)
                read += chunk
                if chunk.count < 7 { break }
                after = chunk.last
            }
            #expect(read == expected)
            // The protocol's default (a filter over every timer) agrees.
            #expect(try reference.timers(in: Self.orders, isEventTime: isEventTime, after: after, limit: 7)
                == store.timers(in: Self.orders, isEventTime: isEventTime, after: after, limit: 7))
        }
        #expect(try store.timers(in: Self.orders, isEventTime: true, after: nil, limit: 0).isEmpty)
        #expect(try store.timers(in: Self.payments, isEventTime: true, after: nil, limit: 10).isEmpty)
    }

    /// Format 1 ordered timer keys by time before kind; a store of that format is rewritten once when opened.
    @Test func aFormat1StoreIsUpgradedWhenOpened() throws {
        let directory = TemporaryDirectory()
        try LMDBCheckpointStore(directory: directory.path).commit(
            CheckpointWrite(
                id: 3,
                partitions: [
                    Self.orders: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: 9, watermarkMilliseconds: 5, nextSequence: 2),
                        keyUpdates: [[7]: [1, 2, 3]], timersAdded: Self.mixedTimers)
                ]))
        // Rewrite the timers and the format record as format 1 wrote them.
        do {
            let environment = try LMDBEnvironment(directory: directory.path)
            let timers = try environment.database(named: LMDBCheckpointSchema.timersDatabase)
            let meta = try environment.database(named: LMDBCheckpointSchema.metaDatabase)
            try environment.write { transaction in
                var keys: [(UInt32, StoredTimer)] = []
                try transaction.scan(timers) { key, _ in
                    var reader = LMDBRecordReader(key, decoding: "test")
                    let id = try reader.readUInt32()
                    keys.append((id, try LMDBCheckpointSchema.decodeTimerKey(key)))
                    return .next
                }
                #expect(keys.count == Self.mixedTimers.count)
                try transaction.deleteAll(in: timers, range: .all)
                for (id, timer) in keys {
                    var writer = LMDBRecordWriter(capacity: 16)
                    writer.append(bigEndian: id)
                    writer.append(ordered: timer.fireAtMilliseconds)
                    writer.append(timer.isEventTime ? 1 : 0)
                    writer.append(contentsOf: timer.key)
                    try transaction.put([], forKey: writer.bytes, in: timers)
                }
                try transaction.put(LMDBCheckpointSchema.formatRecord(version: 1), forKey: LMDBCheckpointSchema.formatKey, in: meta)
            }
        }
        do {
            let store = try LMDBCheckpointStore(directory: directory.path)
            #expect(try store.timers(in: Self.orders) == Self.mixedTimers.sorted())
        }
        // Opened again, the store is in the current format and is left as it is.
        let store = try LMDBCheckpointStore(directory: directory.path)
        #expect(try store.timers(in: Self.orders) == Self.mixedTimers.sorted())
        #expect(
            try store.timers(in: Self.orders, isEventTime: false, after: nil, limit: 100)
                == Self.mixedTimers.filter { !$0.isEventTime }.sorted())
        #expect(try store.lastCheckpointID() == 3)
        #expect(try store.state(of: [7], in: Self.orders) == [1, 2, 3])
    }

    @Test func commitsAreIncremental() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let early = StoredTimer(fireAtMilliseconds: 10, key: [1], isEventTime: true)
        let late = StoredTimer(fireAtMilliseconds: 20, key: [2], isEventTime: true)
        try store.commit(
            CheckpointWrite(
                id: 1,
                partitions: [
                    Self.orders: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: 10, watermarkMilliseconds: 1, nextSequence: 2),
                        keyUpdates: [[1]: [1], [2]: [2], [3]: [3]], timersAdded: [early, late])
                ],
                outboxAppends: [Self.entry(Self.orders, 0), Self.entry(Self.orders, 1)], scanOffsets: [Self.sums: 5]))
        try store.commit(
            CheckpointWrite(
                id: 5,
                partitions: [
                    Self.orders: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: 20, watermarkMilliseconds: 15, nextSequence: 3),
                        keyUpdates: [[2]: nil, [3]: [33], [4]: [4]], timersRemoved: [early])
                ],
                outboxAppends: [Self.entry(Self.orders, 2)], outboxRemovals: [OutboxKey(writer: Self.orders, sequence: 0)],
                scanOffsets: [Self.alerts: 7]))
        #expect(try store.lastCheckpointID() == 5)
        #expect(try store.keys(in: Self.orders) == [[1], [3], [4]])
        #expect(try store.state(of: [1], in: Self.orders) == [1])
        #expect(try store.state(of: [2], in: Self.orders) == nil)
        #expect(try store.state(of: [3], in: Self.orders) == [33])
        #expect(
            try store.progress(of: Self.orders)
                == PartitionProgress(nextOffset: 20, watermarkMilliseconds: 15, nextSequence: 3))
        #expect(try store.timers(in: Self.orders) == [late])
        #expect(try store.outbox().map(\.key.sequence) == [1, 2])
        #expect(try store.scanOffsets() == [Self.sums: 5, Self.alerts: 7])

        // A checkpoint that changes nothing but progress leaves everything else alone.
        try store.commit(
            CheckpointWrite(
                id: 6,
                partitions: [
                    Self.orders: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: 21, watermarkMilliseconds: 15, nextSequence: 3))
                ]))
        #expect(try store.keys(in: Self.orders) == [[1], [3], [4]])
        #expect(try store.timers(in: Self.orders) == [late])
        #expect(try store.outbox().count == 2)
        #expect(try store.progress(of: Self.orders)?.nextOffset == 21)
    }

    @Test func droppedPartitionsLoseStateButKeepUnconfirmedOutputs() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let timer = StoredTimer(fireAtMilliseconds: 1, key: [1], isEventTime: false)
        func partition(_ value: UInt8) -> PartitionCheckpoint {
            PartitionCheckpoint(
                progress: PartitionProgress(nextOffset: Int64(value), watermarkMilliseconds: nil, nextSequence: 1),
                keyUpdates: [[1]: [value], [2]: [value]], timersAdded: [timer])
        }
        try store.commit(
            CheckpointWrite(
                id: 1, partitions: [Self.orders: partition(1), Self.orders1: partition(2), Self.payments: partition(3)],
                outboxAppends: [Self.entry(Self.orders, 0), Self.entry(Self.orders1, 0), Self.entry(Self.payments, 0)]))
        try store.commit(CheckpointWrite(id: 2, droppedPartitions: [Self.orders]))

        #expect(try store.partitions() == [Self.orders1, Self.payments])
        #expect(try store.progress(of: Self.orders) == nil)
        #expect(try store.state(of: [1], in: Self.orders) == nil)
        #expect(try store.keys(in: Self.orders).isEmpty)
        #expect(try store.timers(in: Self.orders).isEmpty)
        // Committed results exist nowhere else until their publication is confirmed.
        #expect(try store.outbox().map(\.key.writer) == [Self.orders, Self.orders1, Self.payments])
        #expect(try store.keys(in: Self.orders1) == [[1], [2]])
        #expect(try store.state(of: [2], in: Self.orders1) == [2])
        #expect(try store.timers(in: Self.payments) == [timer])

        // The partition can come back later, starting empty.
        try store.commit(
            CheckpointWrite(
                id: 3,
                partitions: [
                    Self.orders: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: 9, watermarkMilliseconds: nil, nextSequence: 0),
                        keyUpdates: [[7]: [7]])
                ]))
        #expect(try store.keys(in: Self.orders) == [[7]])
        #expect(try store.timers(in: Self.orders).isEmpty)
        #expect(try store.keys(in: Self.orders1) == [[1], [2]])

        let error = #expect(throws: LMDBCheckpointStoreError.self) {
            try store.commit(CheckpointWrite(id: 4, partitions: [Self.orders1: partition(4)], droppedPartitions: [Self.orders1]))
        }
        #expect(error?.code == .conflictingChanges)
        #expect(try store.lastCheckpointID() == 3)
    }

    @Test func checkpointIDsMustIncrease() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let update = PartitionCheckpoint(
            progress: PartitionProgress(nextOffset: 1, watermarkMilliseconds: nil, nextSequence: 0), keyUpdates: [[1]: [1]])
        try store.commit(CheckpointWrite(id: 10, partitions: [Self.orders: update]))
        for staleID: UInt64 in [10, 9, 0] {
            var stale = update
            stale.keyUpdates = [[1]: [2]]
            let error = #expect(throws: LMDBCheckpointStoreError.self) {
                try store.commit(CheckpointWrite(id: staleID, partitions: [Self.orders: stale]))
            }
            #expect(error?.code == .checkpointIDNotIncreasing)
            #expect(error?.message.contains("\(staleID)") == true)
        }
        #expect(try store.lastCheckpointID() == 10)
        #expect(try store.state(of: [1], in: Self.orders) == [1])
        try store.commit(CheckpointWrite(id: 11))
        #expect(try store.lastCheckpointID() == 11)
    }

    @Test func theMaximumMapSizeErrorKeepsTheLastCheckpoint() throws {
        let directory = TemporaryDirectory()
        let configuration = LMDBConfiguration(initialMapSize: 64 << 10, maximumMapSize: 2 << 20)
        let store = try LMDBCheckpointStore(
            directory: directory.path, configuration: configuration, logger: CapturedLogs().logger())
        func checkpoint(_ id: UInt64, keys: Range<Int>) -> CheckpointWrite {
            var updates: [[UInt8]: [UInt8]?] = [:]
            for key in keys { updates[bigEndian(key)] = Array(repeating: UInt8(truncatingIfNeeded: id), count: 32) }
            return CheckpointWrite(
                id: id,
                partitions: [
                    Self.orders: PartitionCheckpoint(
                        progress: PartitionProgress(nextOffset: Int64(id), watermarkMilliseconds: nil, nextSequence: id),
                        keyUpdates: updates)
                ])
        }
        // Grows from 64 KiB on the way.
        try store.commit(checkpoint(1, keys: 0 ..< 5_000))
        #expect(store.environment.mapSize > 64 << 10)
        let error = #expect(throws: LMDBError.self) {
            try store.commit(checkpoint(2, keys: 0 ..< 100_000))
        }
        #expect(error?.code == .mapFull)
        #expect(try store.lastCheckpointID() == 1)
        #expect(try store.progress(of: Self.orders)?.nextOffset == 1)
        #expect(try store.keys(in: Self.orders).count == 5_000)
        #expect(try store.state(of: bigEndian(4_999), in: Self.orders) == Array(repeating: 1, count: 32))
        // And the store still takes checkpoints that fit.
        try store.commit(checkpoint(3, keys: 0 ..< 10))
        #expect(try store.state(of: bigEndian(0), in: Self.orders) == Array(repeating: 3, count: 32))
    }

    @Test func aNewerCheckpointFormatIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let store = try LMDBCheckpointStore(directory: directory.path)
            let meta = try store.environment.database(named: LMDBCheckpointSchema.metaDatabase)
            try store.environment.write { txn throws in
                try txn.put(
                    LMDBCheckpointSchema.formatRecord(version: LMDBCheckpointStore.formatVersion + 1),
                    forKey: LMDBCheckpointSchema.formatKey, in: meta)
            }
        }
        let error = #expect(throws: LMDBCheckpointStoreError.self) {
            _ = try LMDBCheckpointStore(directory: directory.path)
        }
        #expect(error?.code == .unsupportedFormatVersion)
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBCheckpointStore(directory: directory.path)
        }
        #expect(error?.code == .directoryInUse)
        #expect(try store.lastCheckpointID() == nil)
    }

    @Test func aCorruptDataFileIsRefused() throws {
        let directory = TemporaryDirectory()
        var random = TestRandom(seed: 99)
        writeFile(directory.path + "/data.mdb", random.bytes(20_000))
        let error = #expect(throws: LMDBError.self) {
            _ = try LMDBCheckpointStore(directory: directory.path)
        }
        #expect(error?.code == .notASluiceStore)
    }

    @Test func aFullDiskFailsClearlyAndKeepsTheLastCheckpoint() throws {
        let directory = TemporaryDirectory()
        let child = ChildProcess(
            test: "LMDBChildProcesses/diskFullWriter", environment: ["SLUICE_LMDB_DISK_FULL": directory.path])
        let report = child.readLine()
        child.waitForExit()
        #expect(report?.hasPrefix("error diskFull retriable ") == true, "\(report ?? "no report")")
        let store = try LMDBCheckpointStore(directory: directory.path)
        #expect(try store.lastCheckpointID() == 1)
        #expect(try store.keys(in: Self.orders) == [[1]])
        #expect(try store.progress(of: Self.orders)?.nextOffset == 1)
    }

    @Test func aWriteCutShortByAFullDiskSaysSo() throws {
        // The limit half a page past the file's end: the commit's first write past the end is
        // cut short, which LMDB reports as EIO rather than as the file system's error.
        let directory = TemporaryDirectory()
        let child = ChildProcess(
            test: "LMDBChildProcesses/diskFullWriter",
            environment: ["SLUICE_LMDB_DISK_FULL": directory.path, "SLUICE_LMDB_DISK_FULL_SLACK": "2048"])
        let report = child.readLine()
        child.waitForExit()
        #expect(report?.hasPrefix("error ioFailure retriable ") == true, "\(report ?? "no report")")
        #expect(report?.contains("check the free space") == true, "\(report ?? "no report")")
        let store = try LMDBCheckpointStore(directory: directory.path)
        #expect(try store.lastCheckpointID() == 1)
        #expect(try store.keys(in: Self.orders) == [[1]])
    }

    @Test func keyUpdatesAreSortedInLMDBOrder() {
        var random = TestRandom(seed: 5)
        var updates: [[UInt8]: [UInt8]?] = [[]: nil, [0]: [0], Array(repeating: 0, count: 16): nil]
        for _ in 0 ..< 2_000 {
            let sharedPrefix = Array(repeating: UInt8(7), count: Int.random(in: 0 ... 20, using: &random))
            let tail = random.bytes(Int.random(in: 0 ... 3, using: &random)).map { $0 % 3 }
            updates[sharedPrefix + tail] = .some([1])
        }
        let sorted = LMDBKeyOrder(updates).sortedKeys
        #expect(sorted == updates.keys.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(sorted.count == updates.count)
    }

    @Test func recordsRoundTripThroughTheEncoding() throws {
        let progress = PartitionProgress(nextOffset: Int64.min, watermarkMilliseconds: Int64.max, nextSequence: .max)
        let record = LMDBCheckpointSchema.partitionRecord(id: 0xFFFF_FFFF, progress: progress)
        let decoded = try record.withUnsafeBytes { try LMDBCheckpointSchema.decodePartitionRecord($0) }
        #expect(decoded.id == 0xFFFF_FFFF && decoded.progress == progress)
        let entry = Self.entry(InputPartition(topic: "ünïcode", partition: .min), 3)
        let key = LMDBCheckpointSchema.outboxKey(entry.key)
        let value = LMDBCheckpointSchema.outboxValue(entry)
        let back = try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { try LMDBCheckpointSchema.decodeOutboxEntry(key: key, value: $0) }
        }
        #expect(back == entry)
        // A truncated record is reported, not misread.
        #expect(throws: LMDBCheckpointStoreError.self) {
            try Array(value.dropLast()).withUnsafeBytes { truncated in
                try key.withUnsafeBytes { try LMDBCheckpointSchema.decodeOutboxEntry(key: $0, value: truncated) }
            }
        }
        // Ordered encodings sort like the numbers.
        let numbers: [Int64] = [.min, -2, -1, 0, 1, 2, .max]
        let encoded = numbers.map { number -> [UInt8] in
            var writer = LMDBRecordWriter()
            writer.append(ordered: number)
            return writer.bytes
        }
        #expect(encoded == encoded.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
