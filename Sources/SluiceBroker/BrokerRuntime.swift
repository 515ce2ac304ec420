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

    /// Stops cleanly on SIGTERM and SIGINT. Keep the returned sources alive.
    func installSignalHandlers() -> [any DispatchSourceSignal] {
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler { [self] in
                logger.info("signal \(signalNumber): shutting down")
                shutdown()
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }

    /// Reads commands from stdin on a thread of its own until end of input; then keeps serving
    /// Kafka until a signal arrives, or stops when `exitAtEndOfInput` (the parent that held the
    /// pipe may have died).
    func startControlChannel(exitAtEndOfInput: Bool) {
        let channel = ControlChannel(cluster: cluster)
        let thread = Thread { [self] in
            while let line = readLine() {
                let reply = channel.execute(line)
                switch reply {
                case .none: continue
                case .quit:
                    emit("ok")
                    DispatchQueue.main.async { self.shutdown() }
                    return
                case .ok:
                    emit("ok")
                case .error(let message):
                    emit("error: \(message)")
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
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
