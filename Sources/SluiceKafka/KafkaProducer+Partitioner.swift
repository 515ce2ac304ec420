extension KafkaProducer {
    /// The partition Java's default partitioner (and librdkafka's `murmur2_random`) picks
    /// for `key` among `partitionCount` partitions: murmur2 of the key bytes, masked
    /// positive, modulo the partition count.
    public static func partition(forKey key: [UInt8], partitionCount: Int) -> Int32 {
        precondition(partitionCount > 0, "partitionCount must be positive")
        let hash = UInt32(bitPattern: murmur2(key)) & 0x7fff_ffff
        return Int32(hash % UInt32(partitionCount))
    }

    /// Kafka's murmur2 variant (seed `0x9747b28c`), as Java's `Utils.murmur2` computes it.
    static func murmur2(_ data: [UInt8]) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let length = data.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let whole = length / 4
        data.withUnsafeBufferPointer { bytes in
            for block in 0..<whole {
                let i = block * 4
                var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                    | UInt32(bytes[i + 3]) << 24
                k = k &* m
                k ^= k >> 24
                k = k &* m
                h = h &* m
                h ^= k
            }
            let tail = whole * 4
            switch length % 4 {
            case 3:
                h ^= UInt32(bytes[tail + 2]) << 16
                h ^= UInt32(bytes[tail + 1]) << 8
                h ^= UInt32(bytes[tail])
                h = h &* m
            case 2:
                h ^= UInt32(bytes[tail + 1]) << 8
                h ^= UInt32(bytes[tail])
                h = h &* m
            case 1:
                h ^= UInt32(bytes[tail])
                h = h &* m
            default:
                break
            }
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }
}
