import Testing

@testable import Sluice
@testable import SluiceLMDB

/// The store keeps the key names that state documents refer to (``CheckpointStore/stateKeyTable``).
@Suite("LMDBCheckpointStore key names")
struct LMDBStateKeyNamesTests {
    static let sensors = InputPartition(topic: "sensors", partition: 0)

    struct Window: Codable, Equatable {
        var start: Int64
        var sum: Int
    }

    struct Late: Codable, Equatable {
        var when: Int
    }

    static func write(_ id: UInt64, _ states: [UInt8: [UInt8]]) -> CheckpointWrite {
        CheckpointWrite(
            id: id,
            partitions: [
                sensors: PartitionCheckpoint(
                    progress: PartitionProgress(nextOffset: Int64(id), watermarkMilliseconds: nil, nextSequence: 0),
                    keyUpdates: Dictionary(uniqueKeysWithValues: states.map { ([$0.key], .some($0.value)) }))
            ])
    }

    @Test("names are saved with the commit that first uses them and loaded when the store opens again")
    func savedAndLoaded() throws {
        let directory = TemporaryDirectory()
        let windows = [Window(start: 10, sum: 4), Window(start: 20, sum: -1)]
        do {
            let store = try LMDBCheckpointStore(directory: directory.path)
            let table = try #require(store.stateKeyTable)
            #expect(table.count == 0)
            let encoder = BinaryStateEncoder(keyTable: table)
            try store.commit(Self.write(1, [1: try encoder.encode(windows)]))
            // A name added by an encoding whose commit fails is saved by the next commit.
            let later = try encoder.encode(["late": Late(when: 30)] as [String: Late])
            #expect(throws: LMDBCheckpointStoreError.self) { try store.commit(Self.write(1, [2: later])) }
            try store.commit(Self.write(2, [2: later]))
            #expect(table.allNames == ["start", "sum", "when"])
        }
        let store = try LMDBCheckpointStore(directory: directory.path)
        let table = try #require(store.stateKeyTable)
        #expect(table.allNames == ["start", "sum", "when"])
        let decoder = BinaryStateDecoder(keyTable: table)
        #expect(try decoder.decode([Window].self, from: try #require(try store.state(of: [1], in: Self.sensors))) == windows)
        #expect(
            try decoder.decode([String: Late].self, from: try #require(try store.state(of: [2], in: Self.sensors)))
                == ["late": Late(when: 30)])
    }

    @Test("each field name is saved once, under consecutive indexes; dictionary keys are not saved")
    func savedOnce() throws {
        let directory = TemporaryDirectory()
        let store = try LMDBCheckpointStore(directory: directory.path)
        let table = try #require(store.stateKeyTable)
        let encoder = BinaryStateEncoder(keyTable: table)
        try store.commit(Self.write(1, [1: try encoder.encode(Window(start: 1, sum: 1))]))
        try store.commit(Self.write(2, [1: try encoder.encode(Window(start: 2, sum: 2))]))
        try store.commit(Self.write(3, [3: try encoder.encode(["extra": 1] as [String: Int])]))
        let names = try store.environment.database(named: LMDBCheckpointSchema.keyNamesDatabase)
        let saved = try store.environment.read { transaction in
            var saved: [(Int, String)] = []
            try transaction.scan(names) { key, value in
                saved.append((try LMDBCheckpointSchema.decodeKeyNameIndex(key), String(decoding: value, as: UTF8.self)))
                return .next
            }
            return saved
        }
        #expect(saved.map(\.0) == [0, 1])
        #expect(saved.map(\.1) == ["start", "sum"])
    }

    @Test("a store written before key names existed (no key-name database) opens, reads and upgrades")
    func storeWithoutKeyNames() throws {
        let directory = TemporaryDirectory()
        let old = Window(start: 7, sum: 70)
        do {
            // The layout a format-2 build wrote: its databases and records, no key names.
            let environment = try LMDBEnvironment(directory: directory.path)
            let meta = try environment.database(named: LMDBCheckpointSchema.metaDatabase)
            let partitions = try environment.database(named: LMDBCheckpointSchema.partitionsDatabase)
            let state = try environment.database(named: LMDBCheckpointSchema.stateDatabase)
            try environment.write { transaction in
                try transaction.put(LMDBCheckpointSchema.formatRecord(version: 2), forKey: LMDBCheckpointSchema.formatKey, in: meta)
                try transaction.put(LMDBCheckpointSchema.uint64Record(4), forKey: LMDBCheckpointSchema.checkpointIDKey, in: meta)
                try transaction.put(
                    LMDBCheckpointSchema.partitionRecord(
                        id: 1, progress: PartitionProgress(nextOffset: 40, watermarkMilliseconds: nil, nextSequence: 0)),
                    forKey: LMDBCheckpointSchema.partitionKey(topic: Self.sensors.topic, partition: Self.sensors.partition),
                    in: partitions)
                try transaction.put(try BinaryStateEncoder().encode(old), forKey: LMDBCheckpointSchema.partitionPrefix(1) + [9], in: state)
            }
        }
        let store = try LMDBCheckpointStore(directory: directory.path)
        let format = try store.environment.read { transaction in
            try transaction.get(LMDBCheckpointSchema.formatKey, in: try store.environment.database(named: LMDBCheckpointSchema.metaDatabase))
        }
        #expect(format.flatMap(LMDBCheckpointSchema.decodeFormatRecord) == LMDBCheckpointSchema.formatVersion)
        let table = try #require(store.stateKeyTable)
        #expect(table.count == 0)
        #expect(try store.lastCheckpointID() == 4)
        let decoder = BinaryStateDecoder(keyTable: table)
        #expect(try decoder.decode(Window.self, from: try #require(try store.state(of: [9], in: Self.sensors))) == old)
        let new = Window(start: 8, sum: 80)
        try store.commit(Self.write(5, [9: try BinaryStateEncoder(keyTable: table).encode(new)]))
        #expect(try decoder.decode(Window.self, from: try #require(try store.state(of: [9], in: Self.sensors))) == new)
    }

    @Test(
        "damaged key names are refused when the store opens",
        arguments: [
            [(1, Array("gap".utf8))], [(0, Array("twice".utf8)), (1, Array("twice".utf8))], [(0, [0xFF, 0xFE] as [UInt8])],
        ])
    func damagedNames(_ entries: [(Int, [UInt8])]) throws {
        let directory = TemporaryDirectory()
        do {
            let store = try LMDBCheckpointStore(directory: directory.path)
            let names = try store.environment.database(named: LMDBCheckpointSchema.keyNamesDatabase)
            try store.environment.write { transaction in
                for (index, name) in entries {
                    try transaction.put(name, forKey: LMDBCheckpointSchema.keyNameKey(index), in: names)
                }
            }
        }
        let error = #expect(throws: LMDBCheckpointStoreError.self) { _ = try LMDBCheckpointStore(directory: directory.path) }
        #expect(error?.code == .corruptedRecord)
        #expect(error?.message.contains("state key names") == true)
    }
}
