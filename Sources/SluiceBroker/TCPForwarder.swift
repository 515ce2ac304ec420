import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Listens on `127.0.0.1:port` and relays each connection, byte for byte, to the first
/// upstream broker that accepts it. This gives the mock cluster (which picks its own ports)
/// a stable bootstrap address; clients learn the brokers' real addresses from metadata.
final class TCPForwarder: Sendable {
    /// The port actually listened on (differs from the requested one when that was 0).
    let port: UInt16
    private let listener: Int32
    private let upstreams: [(host: String, port: UInt16)]
    private let logger: Logger
    private let isClosed = Atomic<Bool>(false)

    init(port requested: UInt16, upstreams: [String], logger: Logger) throws {
        self.logger = logger
        self.upstreams = upstreams.compactMap { address in
            guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
                return nil
            }
            return (String(address[..<colon]), port)
        }
        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw ForwarderError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: requested)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw ForwarderError("cannot listen on 127.0.0.1:\(requested): \(String(cString: strerror(code)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: actual.sin_port)
        self.listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "sluice-broker-forwarder"
        thread.start()
    }

    /// Stops accepting connections.
    func close() {
        guard !isClosed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private func acceptLoop() {
        while !isClosed.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if isClosed.load(ordering: .relaxed) { return }
                if errno == EINTR || errno == ECONNABORTED { continue }
                // Out of descriptors, for instance: accepting works again once connections
                // close, so back off instead of leaving clients to hang on the open listener.
                logger.warning("forwarder: accept failed: \(String(cString: strerror(errno)))")
                usleep(100_000)
                continue
            }
            guard let upstream = connectUpstream() else {
                logger.info("forwarder: no upstream broker accepted a connection")
                Glibc.close(client)
                continue
            }
            let connection = Connection(client: client, upstream: upstream)
            for (from, to) in [(client, upstream), (upstream, client)] {
                let pump = Thread { connection.pump(from: from, to: to) }
                pump.name = "sluice-broker-pump"
                pump.start()
            }
        }
    }

    private func connectUpstream() -> Int32? {
        for upstream in upstreams {
            let fd = socket(AF_INET, Self.streamType, 0)
            guard fd >= 0 else { continue }
            var address = Self.loopback(port: upstream.port)
            address.sin_addr.s_addr = inet_addr(upstream.host)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if connected == 0 {
                var yes: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            Glibc.close(fd)
        }
        return nil
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    #if os(Linux)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamType = SOCK_STREAM
    #endif
}

/// One relayed connection: two sockets, two pumps; closed when both pumps finish.
private final class Connection: Sendable {
    private let client: Int32
    private let upstream: Int32
    private let finishedPumps = Atomic<Int>(0)

    init(client: Int32, upstream: Int32) {
        self.client = client
        self.upstream = upstream
    }

    /// Copies bytes from `from` to `to` until either side closes, then shuts both down.
    func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        copying: while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(to, $0.baseAddress! + offset, count - offset) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { break copying }
                offset += written
            }
        }
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(upstream, Int32(SHUT_RDWR))
        if finishedPumps.add(1, ordering: .sequentiallyConsistent).newValue == 2 {
            Glibc.close(client)
            Glibc.close(upstream)
        }
    }
}

/// A forwarder set-up failure.
struct ForwarderError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
