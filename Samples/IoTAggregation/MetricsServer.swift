import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal HTTP/1.1 server for `/metrics` and `/health`: POSIX sockets, a thread per
/// connection (at most ``maximumConnections`` at once; more are closed unanswered), one
/// request per connection (`Connection: close`), which gets ``connectionDeadline`` to send its
/// request and take the response, so that a slow or idle client cannot hold up a probe.
/// Enough for Prometheus and an orchestrator's probe; nothing else.
final class MetricsServer: Sendable {
    /// A request: method and path (without the query string).
    struct Request: Sendable {
        /// `GET`, `HEAD`, …
        var method: String
        /// `/metrics`, `/health`, …
        var path: String
    }

    /// A response.
    struct Response: Sendable {
        /// The status code.
        var status: Int
        /// The `Content-Type` header.
        var contentType = "text/plain; charset=utf-8"
        /// The body.
        var body: [UInt8]

        /// A plain-text response.
        static func text(_ text: String, status: Int = 200) -> Response {
            Response(status: status, body: Array(text.utf8))
        }
    }

    /// Why the server could not start.
    struct Failure: Error, CustomStringConvertible {
        /// What failed.
        let description: String
    }

    /// The address the server listens on.
    let host: String
    /// The port the server listens on (the one the system chose when asked for port 0).
    let port: Int
    private let socket: Int32
    private let handler: @Sendable (Request) -> Response
    /// Connections being served.
    private let connections = Atomic<Int>(0)

    /// Connections served at once; a further one is closed at once.
    static let maximumConnections = 16
    /// How long a connection may take to send its request head, and again to take the response.
    static let connectionDeadline: Duration = .seconds(2)

    /// Binds `host:port` and listens; call ``start()`` to serve. Port 0 picks a free port.
    init(host: String, port: Int, handler: @escaping @Sendable (Request) -> Response) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw Failure(description: "--metrics-host \(host) is not an IPv4 address such as 127.0.0.1 or 0.0.0.0")
        }
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "cannot create a socket: \(Self.lastError())") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = Self.lastError()
            close(fd)
            throw Failure(description: "cannot listen on \(host):\(port) for metrics: \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.host = host
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.socket = fd
        self.handler = handler
    }

    /// Starts accepting on a thread of its own; it runs until the process exits.
    func start() {
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(socket, nil, nil)
                if connection < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    // Out of descriptors or memory, for instance: accepting can work again once
                    // connections close, so back off instead of giving up for good.
                    usleep(100_000)
                    continue
                }
                guard connections.add(1, ordering: .relaxed).newValue <= Self.maximumConnections else {
                    connections.subtract(1, ordering: .relaxed)
                    close(connection)
                    continue
                }
                Thread.detachNewThread { [self] in
                    serve(connection)
                    close(connection)
                    connections.subtract(1, ordering: .relaxed)
                }
            }
        }
    }

    private func serve(_ connection: Int32) {
        let seconds = Int(Self.connectionDeadline.components.seconds)
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let request = readRequest(connection) else {
            write(Response.text("bad request\n", status: 400), to: connection, includeBody: true)
            return
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            write(Response.text("only GET and HEAD\n", status: 405), to: connection, includeBody: true)
            return
        }
        write(handler(request), to: connection, includeBody: request.method == "GET")
    }

    /// Reads the request head (up to 8 KiB, within ``connectionDeadline``) and parses its request line.
    private func readRequest(_ connection: Int32) -> Request? {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2_048)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        let deadline = ContinuousClock.now + Self.connectionDeadline
        while head.count < 8_192 && ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            head += buffer[..<count]
            if head.contains(end) { break }
        }
        guard let lineEnd = head.firstIndex(of: UInt8(ascii: "\r")) else { return nil }
        let parts = String(decoding: head[..<lineEnd], as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        let target = parts[1]
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        return Request(method: String(parts[0]), path: path)
    }

    private func write(_ response: Response, to connection: Int32, includeBody: Bool) {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][
            response.status] ?? "Status"
        var bytes = Array(
            ("HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\n"
                + "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n").utf8)
        if includeBody { bytes += response.body }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Self.sendFlags) }
            if written <= 0 { return }
            offset += written
        }
    }

    #if canImport(Glibc)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let sendFlags: Int32 = 0
    #endif

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the array.
    fileprivate func contains(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
