import Sluice
import SluiceTesting
import Testing

/// The general per-key operator, with a bank account as the entity (see ``BankAccount``).
@Suite("Keyed processors")
struct EngineKeyedProcessorTests {
    typealias Transaction = BankAccount.Transaction

    private func send(_ driver: PipelineTestDriver<BankAccount>, _ account: String, _ amount: Int, at time: Int64) async throws {
        try await driver.send(json: Transaction(account: account, amount: amount, time: time))
    }

    @Test("The processor applies each event to its key's state and emits when the balance goes negative")
    func stateAndEmission() async throws {
        let driver = try PipelineTestDriver(BankAccount.pipeline())
        try await send(driver, "alice", 100, at: bankTime(day: 10, hours: 9))
        try await send(driver, "bob", -5, at: bankTime(day: 10, hours: 9))
        try await send(driver, "alice", -150, at: bankTime(day: 10, hours: 10))
        #expect(driver.takeOutputs() == [.overdrawn(account: "bob", balance: -5), .overdrawn(account: "alice", balance: -50)])
        // Still overdrawn: nothing new.
        try await send(driver, "alice", -10, at: bankTime(day: 10, hours: 11))
        #expect(driver.takeOutputs().isEmpty)
        // Back in credit, then overdrawn again.
        try await send(driver, "alice", 100, at: bankTime(day: 10, hours: 12))
        try await send(driver, "alice", -50, at: bankTime(day: 10, hours: 13))
        #expect(driver.takeOutputs() == [.overdrawn(account: "alice", balance: -10)])
        #expect(await driver.liveKeyCount() == 2)
    }

    @Test("An event-time timer fires when the watermark reaches it, not before")
    func eventTimeTimer() async throws {
        let driver = try PipelineTestDriver(BankAccount.pipeline())
        try await send(driver, "alice", 100, at: bankTime(day: 10, hours: 9))
        try await send(driver, "alice", -30, at: bankTime(day: 10, hours: 23))
        try await send(driver, "bob", 20, at: bankTime(day: 10, hours: 12))
        _ = driver.takeOutputs()
        // Watermark: 30 s short of midnight.
        try await send(driver, "carol", 1, at: bankTime(day: 11, seconds: 30))
        #expect(driver.takeOutputs().isEmpty)
        // Watermark at midnight: day 10 is complete.
        try await send(driver, "carol", 1, at: bankTime(day: 11, minutes: 1))
        #expect(
            Set(driver.takeOutputs()) == [
                .dailySummary(account: "alice", day: 10, transactions: 2, net: 70),
                .dailySummary(account: "bob", day: 10, transactions: 1, net: 20),
            ])
        try await driver.endOfInput()
        #expect(driver.takeOutputs() == [.dailySummary(account: "carol", day: 11, transactions: 2, net: 2)])
    }

    @Test("A processing-time timer fires when the wall clock reaches it; a deleted one never fires")
    func processingTimeTimer() async throws {
        let driver = try PipelineTestDriver(BankAccount.pipeline())
        try await send(driver, "alice", 100, at: bankTime(day: 10, hours: 9))
        try await send(driver, "bob", 20, at: bankTime(day: 10, hours: 9))
        try await driver.advanceWallClock(by: .seconds(30 * 60))
        // Postpones alice's reminder to 90 minutes.
        try await send(driver, "alice", -40, at: bankTime(day: 10, hours: 10))
        try await driver.advanceWallClock(by: .seconds(30 * 60 - 1))
        #expect(driver.takeOutputs().isEmpty)
        try await driver.advanceWallClock(by: .seconds(1))
        #expect(driver.takeOutputs() == [.reminder(account: "bob", balance: 20)])
        try await driver.advanceWallClock(by: .seconds(30 * 60))
        #expect(driver.takeOutputs() == [.reminder(account: "alice", balance: 60)])
        try await driver.advanceWallClock(by: .seconds(24 * 3_600))
        #expect(driver.takeOutputs().isEmpty)
        // Wall-clock time alone never moved the watermark (no idle timeout): no daily summaries.
        #expect(await driver.watermark() == eventMS(bankTime(day: 10, hours: 10) - 60_000))
    }

    @Test("State and both kinds of timers survive a checkpoint and restart")
    func survivesRestart() async throws {
        let driver = try PipelineTestDriver(BankAccount.pipeline())
        try await send(driver, "alice", 100, at: bankTime(day: 10, hours: 9))
        try await send(driver, "alice", -150, at: bankTime(day: 10, hours: 10))
        try await send(driver, "bob", 20, at: bankTime(day: 10, hours: 11))
        try await driver.checkpoint()
        #expect(driver.takeOutputs() == [.overdrawn(account: "alice", balance: -50)])

        // Lost in the crash: alice's deposit and the reminders it would trigger.
        try await send(driver, "alice", 500, at: bankTime(day: 10, hours: 12))
        try await driver.advanceWallClock(by: .seconds(7_200))
        #expect(driver.takeOutputs().count == 2)
        try driver.restart()
        #expect(driver.nextOffset() == 3)

        // Replayed at wall clock 2 h: alice's reminder moves to 3 h; bob's, due at 1 h, fires on the next tick.
        try await send(driver, "alice", 500, at: bankTime(day: 10, hours: 12))
        try await send(driver, "alice", -600, at: bankTime(day: 10, hours: 13))
        #expect(driver.takeOutputs() == [.overdrawn(account: "alice", balance: -150)])
        try await driver.advanceWallClock(by: .zero)
        #expect(driver.takeOutputs() == [.reminder(account: "bob", balance: 20)])
        try await driver.advanceWallClock(by: .seconds(3_600))
        #expect(driver.takeOutputs() == [.reminder(account: "alice", balance: -150)])
        try await send(driver, "carol", 1, at: bankTime(day: 11, minutes: 1))
        #expect(
            Set(driver.takeOutputs()) == [
                .dailySummary(account: "alice", day: 10, transactions: 4, net: -150),
                .dailySummary(account: "bob", day: 10, transactions: 1, net: 20),
            ])
    }

    @Test("Pending timers fire after a restart even when no new input arrives")
    func timersFireAfterRestartWithoutInput() async throws {
        let driver = try PipelineTestDriver(BankAccount.pipeline())
        try await send(driver, "alice", 100, at: bankTime(day: 10, hours: 9))
        try await driver.checkpoint()
        try driver.restart()
        try await driver.advanceWallClock(by: .seconds(3_600))
        #expect(driver.takeOutputs() == [.reminder(account: "alice", balance: 100)])
        try await driver.endOfInput()
        #expect(driver.takeOutputs() == [.dailySummary(account: "alice", day: 10, transactions: 1, net: 100)])
    }

    // MARK: Timer edge cases

    /// Registers event-time timers as told and emits each timer's time when it fires.
    struct TimerProbe: KeyedProcessor {
        struct Command: Codable, Sendable {
            var key: String
            var time: Int64
            var timerAt: Int64?
            var cancelsAfterRegistering = false
        }

        func initialState(for key: String) -> Int { 0 }

        func process(_ command: Command, at time: EventTime, state: inout Int, context: inout ProcessorContext<String, Int64>) {
            guard let timerAt = command.timerAt else { return }
            context.registerEventTimeTimer(at: eventMS(timerAt))
            if command.cancelsAfterRegistering {
                context.deleteTimer(ProcessorTimer(time: eventMS(timerAt), domain: .eventTime))
            }
        }

        func onTimer(_ timer: ProcessorTimer, state: inout Int, context: inout ProcessorContext<String, Int64>) {
            state += 1
            context.emit(timer.time.millisecondsSinceEpoch)
        }

        static func pipeline() -> PipelineDefinition<TimerProbe> {
            Pipeline("timers")
                .source(MemorySource([]), decoding: Command.self)
                .eventTime { (command: Command) -> EventTime in eventMS(command.time) }
                .watermarks(outOfOrderness: .zero, idleTimeout: nil)
                .key(by: \.key)
                .process(TimerProbe())
                .sink(MemorySink { _ in })
        }
    }

    @Test("An event-time timer registered at or before the current watermark fires after the batch")
    func timerAlreadyDueFires() async throws {
        let driver = try PipelineTestDriver(TimerProbe.pipeline())
        try await driver.send(json: TimerProbe.Command(key: "a", time: 100, timerAt: 100))
        #expect(driver.takeOutputs() == [100])
        // The watermark stays at 100; a timer at 50 is already due.
        try await driver.send(json: TimerProbe.Command(key: "a", time: 60, timerAt: 50))
        #expect(driver.takeOutputs() == [50])
    }

    /// On a record, asks for a processing-time timer a second later; that timer registers an
    /// event-time timer at the time the record gave; each event-time timer emits its time.
    struct ChainedTimers: KeyedProcessor {
        struct Command: Codable, Sendable {
            var key: String
            var time: Int64
            var eventTimerAt: Int64
        }

        func initialState(for key: String) -> Int64 { 0 }

        func process(_ command: Command, at time: EventTime, state: inout Int64, context: inout ProcessorContext<String, Int64>) {
            state = command.eventTimerAt
            context.registerProcessingTimeTimer(at: context.now + .seconds(1))
        }

        func onTimer(_ timer: ProcessorTimer, state: inout Int64, context: inout ProcessorContext<String, Int64>) {
            switch timer.domain {
            case .processingTime: context.registerEventTimeTimer(at: eventMS(state))
            case .eventTime: context.emit(timer.time.millisecondsSinceEpoch)
            }
        }

        static func pipeline() -> PipelineDefinition<ChainedTimers> {
            Pipeline("chained-timers")
                .source(MemorySource([]), decoding: Command.self)
                .eventTime { (command: Command) -> EventTime in eventMS(command.time) }
                .watermarks(outOfOrderness: .zero, idleTimeout: nil)
                .key(by: \.key)
                .process(ChainedTimers())
                .sink(MemorySink { _ in })
        }
    }

    @Test("An event-time timer that a processing-time timer registers at or below the watermark fires without new input")
    func eventTimerFromProcessingTimer() async throws {
        let driver = try PipelineTestDriver(ChainedTimers.pipeline())
        try await driver.send(json: ChainedTimers.Command(key: "a", time: 100, eventTimerAt: 50))
        #expect(driver.takeOutputs().isEmpty)
        // The processing-time timer fires and registers an event-time timer at 50, below the
        // watermark (100): it is due at once, though no record follows.
        try await driver.advanceWallClock(by: .seconds(1))
        #expect(driver.takeOutputs() == [50])
        #expect(await driver.watermark() == eventMS(100))
    }

    /// Registers an event-time timer at 50 ms and a processing-time timer a second later; each
    /// timer emits its time, processing-time ones negated.
    struct BothTimers: KeyedProcessor {
        struct Command: Codable, Sendable {
            var key: String
            var time: Int64
        }

        func initialState(for key: String) -> Int { 0 }

        func process(_ command: Command, at time: EventTime, state: inout Int, context: inout ProcessorContext<String, Int64>) {
            context.registerEventTimeTimer(at: eventMS(50))
            context.registerProcessingTimeTimer(at: context.now + .seconds(1))
        }

        func onTimer(_ timer: ProcessorTimer, state: inout Int, context: inout ProcessorContext<String, Int64>) {
            let time = timer.time.millisecondsSinceEpoch
            context.emit(timer.domain == .eventTime ? time : -time)
        }

        static func pipeline() -> PipelineDefinition<BothTimers> {
            Pipeline("both-timers")
                .source(MemorySource([]), decoding: Command.self)
                .eventTime { (command: Command) -> EventTime in eventMS(command.time) }
                .watermarks(outOfOrderness: .zero, idleTimeout: .seconds(1))
                .key(by: \.key)
                .process(BothTimers())
                .sink(MemorySink { _ in })
        }
    }

    @Test("When the wall clock makes both due, event-time timers the watermark reached fire before processing-time ones")
    func eventTimersBeforeProcessingTimers() async throws {
        let driver = try PipelineTestDriver(BothTimers.pipeline())
        try await driver.send(json: BothTimers.Command(key: "a", time: 10))
        #expect(driver.takeOutputs().isEmpty)
        // Idle: the watermark follows the clock to 2 s, past the event-time timer at 50 ms;
        // the processing-time timer at 1 s is due too.
        try await driver.advanceWallClock(by: .seconds(2))
        #expect(driver.takeOutputs() == [50, -1_000])
    }

    @Test("A timer registered and then deleted in the same call never fires")
    func registerThenDelete() async throws {
        let driver = try PipelineTestDriver(TimerProbe.pipeline())
        try await driver.send(json: TimerProbe.Command(key: "a", time: 0, timerAt: 10, cancelsAfterRegistering: true))
        try await driver.send(json: TimerProbe.Command(key: "a", time: 100, timerAt: 200))
        #expect(driver.takeOutputs().isEmpty)
        try await driver.endOfInput()
        #expect(driver.takeOutputs() == [200])
    }

    @Test("Registering the same timer twice fires it once")
    func duplicateTimerFiresOnce() async throws {
        let driver = try PipelineTestDriver(TimerProbe.pipeline())
        try await driver.send(json: TimerProbe.Command(key: "a", time: 0, timerAt: 10))
        try await driver.send(json: TimerProbe.Command(key: "a", time: 1, timerAt: 10))
        try await driver.send(json: TimerProbe.Command(key: "b", time: 2, timerAt: 10))
        try await driver.send(json: TimerProbe.Command(key: "a", time: 20))
        #expect(driver.takeOutputs() == [10, 10])
    }
}
