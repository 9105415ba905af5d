import Foundation
import Logging
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Synchronization

#if os(Linux)
import Glibc

/// Helpers of the connection-limit tests: a server with chosen limits, and plain TCP sockets to 127.0.0.1
/// (blocking calls, always run off the concurrency pool with `offPool`, each bounded by a timeout).
enum ConnectionLimitKit {
    /// A server in-process on 127.0.0.1, port chosen by the OS, with `limits`.
    static func start(_ limits: ConnectionLimits, tokens: String? = nil, markdown: String = "# Limits\n") async throws -> LiveSyncServer {
        try await LiveSyncServer.start(markdown: markdown, document: "demo", tokens: tokens) { $0.connections = limits }
    }

    /// Limits for a test: generous defaults, timeouts long enough not to interfere unless set.
    static func limits(_ change: (inout ConnectionLimits) -> Void = { _ in }) -> ConnectionLimits {
        var limits = ConnectionLimits()
        limits.maxConnections = 64
        limits.maxConnectionsPerAddress = 0
        limits.headerTimeout = .seconds(30)
        limits.idleTimeout = .seconds(30)
        change(&limits)
        return limits
    }
}

/// A plain TCP socket to 127.0.0.1 (the descriptor is closed by `close()` or when the object goes).
final class RawSocket: Sendable {
    let descriptor: Int32
    private let closed = Mutex(false)

    private init(_ descriptor: Int32) { self.descriptor = descriptor }

    deinit { close() }

    /// Connects (blocking, off the pool); throws when the connection is refused or takes over 5 s.
    /// `receiveBuffer` sets SO_RCVBUF before connecting (a small one makes a peer that does not read).
    static func connect(port: Int, receiveBuffer: Int32? = nil) async throws -> RawSocket {
        try await offPool {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw InteropFailure(message: "socket: errno \(errno)") }
            if var size = receiveBuffer { setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else {
                let code = errno
                Glibc.close(descriptor)
                throw InteropFailure(message: "connect to 127.0.0.1:\(port): errno \(code)")
            }
            return RawSocket(descriptor)
        }
    }

    /// Sends all of `text`; false when the peer closed the connection.
    @discardableResult
    func send(_ text: String) async -> Bool {
        let descriptor = self.descriptor
        return (try? await offPool {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                bytes = bytes.dropFirst(sent)
            }
            return true
        }) ?? false
    }

    /// Reads until the peer closes the connection or `timeout` passes. Returns what arrived and whether
    /// the close came (a reset counts as a close).
    func readUntilClosed(timeout: Duration, stopWhen: (@Sendable (String) -> Bool)? = nil) async -> (text: String, closed: Bool) {
        let descriptor = self.descriptor
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return (try? await offPool {
            var received = [UInt8]()
            let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
                if left <= 0 { return (String(decoding: received, as: UTF8.self), false) }
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, min(left, 100))
                if ready < 0 && errno != EINTR { return (String(decoding: received, as: UTF8.self), true) }
                if ready <= 0 { continue }
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
                received.append(contentsOf: buffer[0..<count])
                if let stopWhen, stopWhen(String(decoding: received, as: UTF8.self)) { return (String(decoding: received, as: UTF8.self), false) }
            }
        }) ?? ("", false)
    }

    /// True when the peer has closed the connection (checked without waiting).
    var peerClosed: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK)) <= 0
    }

    func close() {
        let first = closed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { Glibc.close(descriptor) }
    }
}

extension RawSocket {
    /// `GET path` with `Connection: close` on a new connection; the status line and body, nil when the
    /// server did not answer within `timeout`.
    static func get(port: Int, _ path: String, timeout: Duration = .seconds(5)) async -> String? {
        guard let socket = try? await RawSocket.connect(port: port) else { return nil }
        defer { socket.close() }
        guard await socket.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") else { return nil }
        let (text, closed) = await socket.readUntilClosed(timeout: timeout)
        return closed && text.hasPrefix("HTTP/1.1 ") ? text : nil
    }

    /// The value of a Prometheus sample line (`name{labels} value`), or nil.
    static func metric(_ text: String, _ sample: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Int(line.dropFirst(sample.count + 1))
        }
        return nil
    }
}
#endif
