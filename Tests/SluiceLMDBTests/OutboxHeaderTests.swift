import Testing

@testable import Sluice

@Suite("Outbox headers")
struct OutboxHeaderTests {
    @Test("the sequence header is the decimal text the recovery scan parses", arguments: [
        UInt64(0), 7, 10, 99, 100, 1_234_567_890, UInt64(Int64.max), UInt64.max,
    ])
    func sequenceDigits(_ value: UInt64) {
        #expect(OutboxPublisher.decimalDigits(value) == Array(String(value).utf8))
        #expect(UInt64(String(decoding: OutboxPublisher.decimalDigits(value), as: UTF8.self)) == value)
    }
}
