import SluiceKafka
import Testing

@Suite("Java-compatible key partitioning")
struct PartitionerTests {
    /// Hashes published in Apache Kafka's `UtilsTest.testMurmur2`.
    @Test(
        "murmur2 matches Java's Utils.murmur2",
        arguments: [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ] as [(String, Int32)])
    func javaHashes(key: String, javaHash: Int32) {
        let positive = UInt32(bitPattern: javaHash) & 0x7fff_ffff
        for partitions in [1, 3, 7, 12, 100] {
            #expect(
                KafkaProducer.partition(forKey: Array(key.utf8), partitionCount: partitions)
                    == Int32(positive % UInt32(partitions)))
        }
    }

    @Test("every partition is reachable and results stay in range")
    func range() {
        var seen = Set<Int32>()
        for i in 0..<1_000 {
            let partition = KafkaProducer.partition(forKey: Array("k\(i)".utf8), partitionCount: 8)
            #expect((0..<8).contains(partition))
            seen.insert(partition)
        }
        #expect(seen.count == 8)
        #expect(KafkaProducer.partition(forKey: [], partitionCount: 5) >= 0)
    }
}
