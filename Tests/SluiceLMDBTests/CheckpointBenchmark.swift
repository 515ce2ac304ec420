import Sluice
import SluiceLMDB
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures durable checkpoint commits of the size the engine writes every second.
///
/// Disabled unless `SLUICE_BENCH=1`; see `Benchmarks/Checkpoint/README.md`.
@Suite("Checkpoint benchmark")
struct CheckpointBenchmark {
    static let isEnabled = environmentVariable("SLUICE_BENCH") == "1"

    static func integer(_ name: String, default value: Int) -> Int {
        environmentVariable(name).flatMap(Int.init) ?? value
    }

    @Test(.enabled(if: isEnabled))
    func durableCheckpointOf100kChangedKeys() throws {
        let changedKeys = Self.integer("SLUICE_BENCH_KEYS", default: 100_000)
        let keySpace = Self.integer("SLUICE_BENCH_KEY_SPACE", default: 1_000_000)
        let checkpoints = Self.integer("SLUICE_BENCH_CHECKPOINTS", default: 20)
        let partitionCount = 8
        let partitions = (0 ..< partitionCount).map { InputPartition(topic: "bench-input", partition: Int32($0)) }
        let outputs = (0 ..< 4).map { OutputPartition(topic: "bench-output", partition: Int32($0)) }
        let directory = TemporaryDirectory()
        // SLUICE_BENCH_DURABLE=0 measures without fsync, to separate CPU time from disk time.
        let isDurable = environmentVariable("SLUICE_BENCH_DURABLE") != "0"
        let store = try LMDBCheckpointStore(
            directory: directory.path, configuration: LMDBConfiguration(isDurable: isDurable),
            logger: CapturedLogs().logger())
        var random = TestRandom(seed: 42)

        func key(_ index: Int) -> [UInt8] {
            // A 16-byte key, like a device id.
            Array("device-".utf8) + withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) } + [0]
        }

        func makeCheckpoint(_ id: UInt64, keys: [Int]) -> CheckpointWrite {
            var perPartition = [[[UInt8]: [UInt8]?]](repeating: [:], count: partitionCount)
            for index in keys {
                var state = withUnsafeBytes(of: id.bigEndian) { Array($0) }
                state += withUnsafeBytes(of: random.next()) { Array($0) }
                state += withUnsafeBytes(of: random.next()) { Array($0) }
                state += withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }  // 32 bytes
                perPartition[index % partitionCount][key(index)] = state
            }
            var write = CheckpointWrite(id: id)
            for (number, partition) in partitions.enumerated() {
                write.partitions[partition] = PartitionCheckpoint(
                    progress: PartitionProgress(
                        nextOffset: Int64(id) * 100_000, watermarkMilliseconds: Int64(id) * 1_000, nextSequence: id),
                    keyUpdates: perPartition[number])
            }
            for output in outputs { write.scanOffsets[output] = Int64(id) * 1_000 }
            return write
        }

        // Fill the key space first, so that measured checkpoints update existing keys spread over the tree.
        var id: UInt64 = 0
        for start in stride(from: 0, to: keySpace, by: changedKeys) {
            id += 1
            try store.commit(makeCheckpoint(id, keys: Array(start ..< min(start + changedKeys, keySpace))))
        }

        var milliseconds: [Double] = []
        var cpuMilliseconds: [Double] = []
        for _ in 0 ..< checkpoints {
            id += 1
            var chosen = Set<Int>()
            while chosen.count < changedKeys { chosen.insert(Int.random(in: 0 ..< keySpace, using: &random)) }
            let checkpoint = makeCheckpoint(id, keys: Array(chosen))
            let clock = ContinuousClock()
            let cpuBefore = threadCPUMilliseconds()
            let elapsed = try clock.measure { try store.commit(checkpoint) }
            cpuMilliseconds.append(threadCPUMilliseconds() - cpuBefore)
            // Freeing the checkpoint is the engine's cost, not the store's: keep it out of the measurement.
            withExtendedLifetime(checkpoint) {}
            milliseconds.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        milliseconds.sort()
        cpuMilliseconds.sort()
        let median = milliseconds[milliseconds.count / 2]
        let p99 = milliseconds[min(milliseconds.count - 1, Int((Double(milliseconds.count) * 0.99).rounded(.up)) - 1)]
        let perKey = median * 1_000 / Double(changedKeys)
        print(
            """
            Checkpoint benchmark: \(checkpoints) \(isDurable ? "durable" : "NOT durable (no fsync)") checkpoints of \(changedKeys) changed keys \
            (32-byte state, 16-byte key, key space \(keySpace), \(partitionCount) partitions + \(outputs.count) scan offsets)
              median \(format(median)) ms, p99 \(format(p99)) ms, min \(format(milliseconds.first!)) ms, \
            max \(format(milliseconds.last!)) ms per checkpoint; \(format(perKey)) µs per key (median)
              CPU time of the committing thread: median \(format(cpuMilliseconds[cpuMilliseconds.count / 2])) ms \
            (the rest is waiting for the disk or for a busy machine)
              map size \(store.environment.mapSize >> 20) MiB
            """)
        #expect(try store.lastCheckpointID() == id)
    }
}

/// CPU time used by the calling thread so far, in milliseconds.
private func threadCPUMilliseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
}

private func format(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return "\(scaled)"
}
