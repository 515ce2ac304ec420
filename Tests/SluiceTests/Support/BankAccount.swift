import Sluice

/// An event-sourced entity for the general-processor tests: a bank account whose events are
/// transactions.
///
/// - Every transaction changes the balance; the account reports when it goes overdrawn.
/// - An event-time timer at the end of each day with transactions reports that day's count and net amount.
/// - A processing-time timer an hour (of wall-clock time) after the last transaction sends a
///   reminder with the balance; each transaction postpones it.
struct BankAccount: KeyedProcessor {
    static let day: Int64 = 86_400_000
    static let reminderDelay: Duration = .seconds(3_600)

    struct Transaction: Codable, Sendable {
        var account: String
        var amount: Int
        /// Event time, milliseconds since the epoch.
        var time: Int64
    }

    struct DayTotal: Codable, Sendable {
        var count = 0
        var net = 0
    }

    struct State: Codable, Sendable {
        var balance = 0
        /// Totals of days whose summary is still pending, by the day's start.
        var days: [Int64: DayTotal] = [:]
        /// When the pending reminder fires, milliseconds since the epoch.
        var reminderAt: Int64?
    }

    enum Event: Codable, Sendable, Hashable {
        case overdrawn(account: String, balance: Int)
        case dailySummary(account: String, day: Int64, transactions: Int, net: Int)
        case reminder(account: String, balance: Int)
    }

    func initialState(for key: String) -> State { State() }

    func process(_ transaction: Transaction, at time: EventTime, state: inout State, context: inout ProcessorContext<String, Event>) {
        let wasOverdrawn = state.balance < 0
        state.balance += transaction.amount
        if state.balance < 0 && !wasOverdrawn {
            context.emit(.overdrawn(account: context.key, balance: state.balance))
        }

        let t = time.millisecondsSinceEpoch
        let dayStart = t >= 0 ? t / Self.day * Self.day : -((-t + Self.day - 1) / Self.day) * Self.day
        state.days[dayStart, default: DayTotal()].count += 1
        state.days[dayStart, default: DayTotal()].net += transaction.amount
        context.registerEventTimeTimer(at: EventTime(millisecondsSinceEpoch: dayStart + Self.day))

        if let pending = state.reminderAt {
            context.deleteTimer(ProcessorTimer(time: EventTime(millisecondsSinceEpoch: pending), domain: .processingTime))
        }
        let reminder = context.now + Self.reminderDelay
        state.reminderAt = reminder.millisecondsSinceEpoch
        context.registerProcessingTimeTimer(at: reminder)
    }

    func onTimer(_ timer: ProcessorTimer, state: inout State, context: inout ProcessorContext<String, Event>) {
        switch timer.domain {
        case .eventTime:
            let dayStart = timer.time.millisecondsSinceEpoch - Self.day
            if let total = state.days.removeValue(forKey: dayStart) {
                context.emit(.dailySummary(account: context.key, day: dayStart / Self.day, transactions: total.count, net: total.net))
            }
        case .processingTime:
            state.reminderAt = nil
            context.emit(.reminder(account: context.key, balance: state.balance))
        }
    }
}

extension BankAccount {
    /// The account pipeline: transactions keyed by account, with a minute of out-of-orderness.
    static func pipeline(idleTimeout: Duration? = nil) -> PipelineDefinition<BankAccount> {
        Pipeline("accounts")
            .source(MemorySource([]), decoding: Transaction.self)
            .eventTime { (transaction: Transaction) -> EventTime in EventTime(millisecondsSinceEpoch: transaction.time) }
            .watermarks(outOfOrderness: .seconds(60), idleTimeout: idleTimeout)
            .key(by: \.account)
            .process(BankAccount())
            .sink(MemorySink { _ in })
    }
}

/// Milliseconds of `day` days, `hours` hours and `minutes` minutes.
func bankTime(day: Int64, hours: Int64 = 0, minutes: Int64 = 0, seconds: Int64 = 0) -> Int64 {
    day * BankAccount.day + hours * 3_600_000 + minutes * 60_000 + seconds * 1_000
}
