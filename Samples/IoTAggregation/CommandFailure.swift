import ArgumentParser
import Sluice
import SluiceKafka

/// A failure reported to the user as one line on standard error, with a `sysexits.h` exit code.
struct CommandFailure: Error {
    /// Exit codes from `sysexits.h`.
    enum Status {
        /// Bad flags or settings (`EX_USAGE`).
        static let usage: Int32 = 64
        /// A service the command needs cannot be reached (`EX_UNAVAILABLE`).
        static let unavailable: Int32 = 69
        /// A temporary condition; trying again later can help (`EX_TEMPFAIL`).
        static let temporary: Int32 = 75
        /// Anything else.
        static let failure: Int32 = 1
    }

    /// What went wrong, in words a person can act on.
    let message: String
    /// The process exit code.
    let exitCode: Int32

    /// A failure with a message and exit code.
    init(_ message: String, exitCode: Int32 = Status.failure) {
        self.message = message
        self.exitCode = exitCode
    }

    /// Explains `error` for a command talking to `brokers`.
    init(_ error: any Error, brokers: String) {
        switch error {
        case let failure as CommandFailure:
            self = failure
        case let error as KafkaError where error.code == .connection || error.code == .timeout:
            self.init("cannot reach Kafka at \(brokers): \(error.message)", exitCode: Status.unavailable)
        case let error as KafkaError where error.code == .unknownTopicOrPartition:
            self.init("\(error.message) (at \(brokers)); create the topic first", exitCode: Status.unavailable)
        case let error as KafkaError where error.code == .configuration:
            self.init("invalid Kafka settings: \(error.message)", exitCode: Status.usage)
        case let error as KafkaError:
            self.init("Kafka error: \(error.message)")
        case let error as SluiceError where error.code == .stateDirectoryInUse:
            self.init(error.message, exitCode: Status.temporary)
        case let error as SluiceError:
            if let underlying = error.underlying, !(underlying is SluiceError) {
                let inner = CommandFailure(underlying, brokers: brokers)
                if inner.exitCode != Status.failure { self = inner; return }
            }
            self.init(error.message, exitCode: error.code == .invalidConfiguration ? Status.usage : Status.failure)
        default:
            self.init(String(describing: error))
        }
    }

    /// Prints the message under the command's name and returns the exit code to throw.
    func report(command: String) -> ExitCode {
        Console.error("iot \(command): \(message)")
        return ExitCode(exitCode)
    }
}
