import Testing

@testable import Sluice

#if canImport(Glibc)
import Glibc

/// `FreeMemoryRelease` hands freed heap memory back to the kernel, measured in a child process
/// of its own (resident memory is per process, and other tests allocate alongside).
@Suite("Releasing free memory")
struct FreeMemoryReleaseTests {
    @Test("memory freed in the middle of the heap leaves resident memory only once released")
    func releasesFreedMemory() throws {
        #expect(FreeMemoryRelease.isAvailable)
        let child = ChildProcess(test: "FreeMemoryReleaseChild/fragmentAndRelease", environment: ["SLUICE_FREE_MEMORY_CHILD": "1"])
        let report = try #require(child.readLine())
        #expect(child.waitForExit() == 0)
        // "before <KiB> after <KiB>": resident anonymous memory with the freed blocks, and once released.
        let numbers = report.split(separator: " ").compactMap { Int($0) }
        try #require(numbers.count == 2, "\(report)")
        let (before, after) = (numbers[0], numbers[1])
        #expect(before - after > 48 * 1_024, "RssAnon \(before) KiB before the release, \(after) KiB after: \(report)")
    }
}

/// Runs only in the child started by ``FreeMemoryReleaseTests``.
@Suite("FreeMemoryReleaseChild")
struct FreeMemoryReleaseChild {
    /// Allocates 96 MiB in 1 KiB blocks, frees all but every 64th (so no free memory sits at the
    /// top of the heap, where glibc would return it by itself), and reports `RssAnon` before and
    /// after ``FreeMemoryRelease/run()``.
    @Test(.enabled(if: environmentVariable("SLUICE_FREE_MEMORY_CHILD") != nil))
    func fragmentAndRelease() throws {
        let count = 96 * 1_024
        var blocks: [UnsafeMutableRawPointer] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count {
            let block = malloc(1_024)!
            memset(block, 1, 1_024)
            blocks.append(block)
        }
        for (index, block) in blocks.enumerated() where index % 64 != 63 { free(block) }
        let before = Self.residentAnonymousKiB()
        FreeMemoryRelease.run()
        let after = Self.residentAnonymousKiB()
        reportToParent("before \(before) after \(after)")
        for (index, block) in blocks.enumerated() where index % 64 == 63 { free(block) }
    }

    static func residentAnonymousKiB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("RssAnon:") {
                return Int(text.dropFirst("RssAnon:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
            }
        }
        return -1
    }
}
#endif
