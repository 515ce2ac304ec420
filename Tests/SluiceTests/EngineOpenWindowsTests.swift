import Sluice
import SluiceTesting
import Testing

/// The open-window count behind `sluice_windows_open`.
@Suite("Open windows")
struct EngineOpenWindowsTests {
    @Test("open windows are counted as they open, close, passivate and come back")
    func openWindowsAreCounted() async throws {
        let driver = try PipelineTestDriver(EnginePipelines.ids(.tumbling(.seconds(10))))
        // One batch per send, no out-of-orderness: the watermark follows each record.
        try await driver.send(json: KeyedReading(key: "a", time: 1_000, id: 1))
        try await driver.send(json: KeyedReading(key: "b", time: 2_000, id: 2))
        #expect(await driver.statistics().windowsOpen == 2)

        // "a" opens [10 s, 20 s); the watermark then reaches 12 s and closes both [0 s, 10 s).
        try await driver.send(json: KeyedReading(key: "a", time: 12_000, id: 3))
        #expect(await driver.statistics().windowsOpen == 1)
        try await driver.send(json: KeyedReading(key: "c", time: 12_000, id: 4))
        #expect(await driver.statistics().windowsOpen == 2)

        // Passivated keys take their open windows out of memory; a restored key brings them back.
        try await driver.checkpoint()
        #expect(await driver.passivateIdleKeys() == 3)
        #expect(await driver.statistics().windowsOpen == 0)
        try await driver.send(json: KeyedReading(key: "a", time: 13_000, id: 5))
        #expect(await driver.statistics().windowsOpen == 1)

        try await driver.endOfInput()
        #expect(await driver.statistics().windowsOpen == 0)
        #expect(driver.takeOutputs().count == 4)
    }
}
