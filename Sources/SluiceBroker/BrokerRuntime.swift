import Dispatch
import Foundation
import Logging
import SluiceKafka
import Synchronization

/// The running broker: the cluster, the forwarder, signal handling and the control channel.
final class BrokerRuntime: Sendable {
    private let cluster: KafkaMockCluster
    private let forwarder: TCPForwarder?
    private let bootstrapFile: String?
    private let logger: Logger
    private let isShuttingDown = Atomic<Bool>(false)

    init(cluster: KafkaMockCluster, forwarder: TCPForwarder?, bootstrapFile: String?, logger: Logger) {
        self.cluster = cluster
        self.forwarder = forwarder
        self.bootstrapFile = bootstrapFile
        self.logger = logger
    }

    /// Writes `contents` to `path` through a temporary file and a rename, so readers never
    /// see a partial address.
    func writeBootstrapFile(_ path: String, contents: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        try (contents + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else {
            throw KafkaError(.invalidArgument, "cannot write bootstrap file \(path): errno \(errno)")
        }
    }

    /// Blocks SIGTERM and SIGINT in this thread (the main thread, before any other starts, so
    /// every thread inherits it): one arriving during start-up stays pending until
    /// ``installSignalHandlers()`` takes it over, instead of ending the process at once.
    static func holdShutdownSignals() {
        setShutdownSignalsBlocked(true)
    }

    /// The signals that stop the broker cleanly.
    private static let shutdownSignals = [SIGTERM, SIGINT]

    /// Blocks or unblocks ``shutdownSignals`` in the calling thread.
    private static func setShutdownSignalsBlocked(_ blocked: Bool) {
        var set = sigset_t()
        sigemptyset(&set)
        for signalNumber in shutdownSignals { sigaddset(&set, signalNumber) }
        pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, nil)
    }

    /// Stops cleanly on SIGTERM and SIGINT, also on one that arrived (and was held) during
    /// start-up. Keep the returned sources alive.
    func installSignalHandlers() -> [any DispatchSourceSignal] {
        // Looked for before the action is set to ignore, which discards a pending signal.
        var pending = sigset_t()
        sigpending(&pending)
        let heldSignal = Self.shutdownSignals.first { sigismember(&pending, $0) == 1 }
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in Self.shutdownSignals {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler { [self] in
                logger.info("signal \(signalNumber): shutting down")
                shutdown()
            }
            source.resume()
            sources.append(source)
        }
        Self.setShutdownSignalsBlocked(false)
        if let heldSignal {
            logger.info("signal \(heldSignal) during start-up: shutting down")
            DispatchQueue.main.async { self.shutdown() }
        }
        return sources
    }

    /// Reads commands from stdin on a thread of its own until end of input; then keeps serving
    /// Kafka until a signal arrives, or stops when `exitAtEndOfInput` (the parent that held the
    /// pipe may have died).
    func startControlChannel(exitAtEndOfInput: Bool) {
        let channel = ControlChannel(cluster: cluster)
        let thread = Thread { [self] in
            commands: while let line = readLine() {
                let reply = channel.execute(line)
                switch reply {
                case .none: continue
                case .quit:
                    emit("ok")
                    DispatchQueue.main.async { self.shutdown() }
                    return
                case .ok:
                    // Nobody reads the answers any more: the channel is over, as at end of input.
                    if !emit("ok") { break commands }
                case .error(let message):
                    if !emit("error: \(message)") { break commands }
                }
            }
            if exitAtEndOfInput {
                logger.info("standard input ended; stopping")
                DispatchQueue.main.async { self.shutdown() }
            }
            // Otherwise keep serving until a signal arrives.
        }
        thread.name = "sluice-broker-control"
        thread.start()
    }

    /// Closes everything and exits with status 0. Runs once.
    func shutdown() {
        guard !isShuttingDown.exchange(true, ordering: .sequentiallyConsistent) else { return }
        forwarder?.close()
        cluster.close()
        if let bootstrapFile { unlink(bootstrapFile) }
        logger.info("stopped")
        exit(0)
    }
}

/// Writes one line to stdout at once, unbuffered, so a reading process sees it immediately.
/// Returns `false` when nobody reads stdout any more (the write failed, for example with EPIPE).
@discardableResult
func emit(_ line: String) -> Bool {
    (try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))) != nil
}
