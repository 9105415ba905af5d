import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 exchange over a plain TCP socket to 127.0.0.1, with every header as given (browsers' `Origin`,
/// a forged `Host`, WebSocket upgrade headers), off the concurrency pool. Returns what the server sent
/// until it closed, `timeout` passed or `until` matched what was read (a 101 upgrade stays open).
public func rawHTTP(
    port: Int, _ head: String, body: String = "", timeout: Duration = .seconds(10), until: @escaping @Sendable (String) -> Bool = { _ in false }
) async throws -> String {
    let socket = try RawSocket(port: port)
    socket.send(head + "\n")
    if !body.isEmpty { socket.send(body, http: false) }
    let received = try await socket.read(timeout: timeout) { until(String(decoding: $0, as: UTF8.self)) }
    return String(decoding: received.bytes, as: UTF8.self)
}

/// True when `text` holds a whole HTTP response: its head, and the body its Content-Length announces (none for
/// a HEAD request's answer, 1xx, 204 and 304); a response without Content-Length ends when the server closes.
public func responseComplete(_ text: String, head: Bool = false) -> Bool {
    guard let end = text.range(of: "\r\n\r\n") else { return false }
    let status = rawStatus(text)
    if head || status == 204 || status == 304 || (100..<200).contains(status) { return true }
    let fields = text[..<end.lowerBound].lowercased().split(separator: "\r\n")
    guard let field = fields.first(where: { $0.hasPrefix("content-length:") }),
        let length = Int(field.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
    else { return false }
    return text[end.upperBound...].utf8.count >= length
}

/// The status code of a raw response ("HTTP/1.1 403 Forbidden" → 403; 0 when there is none).
public func rawStatus(_ response: String) -> Int {
    let parts = response.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/") else { return 0 }
    return Int(parts[1]) ?? 0
}

public struct RawHTTPError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A plain TCP connection to 127.0.0.1 kept open (blocking calls, each off the concurrency pool, each
/// bounded by a timeout): for connections that must stay connected while something else happens (an idle
/// WebSocket, a half-closed socket, a slow request head, a peer that does not read). The one raw socket of
/// the tests.
public final class RawSocket: Sendable {
    public let fd: Int32
    private let closed = Mutex(false)

    /// Connects (blocking; refused or over 5 s throws). `receiveBuffer` sets SO_RCVBUF before connecting (a
    /// small one makes a peer that does not read).
    public init(port: Int, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(message: "socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var sendTimeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw RawHTTPError(message: "connect to 127.0.0.1:\(port): \(message)")
        }
        var wait = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    /// Connects off the concurrency pool.
    public static func connect(port: Int, receiveBuffer: Int32? = nil) async throws -> RawSocket {
        try await offPool { try RawSocket(port: port, receiveBuffer: receiveBuffer) }
    }

    /// Sends text (`\n` becomes `\r\n` when `http` is true).
    public func send(_ text: String, http: Bool = true) {
        let bytes = Array((http ? text.replacingOccurrences(of: "\n", with: "\r\n") : text).utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends all of `text` as it is, off the pool; false when the peer closed the connection.
    @discardableResult
    public func sendAll(_ text: String) async -> Bool {
        let fd = self.fd
        return (try? await offPool {
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                bytes = bytes.dropFirst(sent)
            }
            return true
        }) ?? false
    }

    /// Reads until `until` holds for what was read, the peer closes, or `timeout` passes. `closed` tells whether
    /// the peer closed the connection (a reset counts as a close).
    public func read(timeout: Duration, until: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }) async throws -> (bytes: [UInt8], closed: Bool) {
        let fd = self.fd
        return try await offPool {
            var received = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return (received, true) }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                    return (received, true)
                }
                received += buffer[0..<n]
                if until(received) { break }
            }
            return (received, false)
        }
    }

    /// ``read(timeout:until:)`` as text, stopping when `stopWhen` holds for what arrived.
    public func readUntilClosed(timeout: Duration, stopWhen: (@Sendable (String) -> Bool)? = nil) async -> (text: String, closed: Bool) {
        let result = try? await read(timeout: timeout) { bytes in stopWhen?(String(decoding: bytes, as: UTF8.self)) ?? false }
        return result.map { (String(decoding: $0.bytes, as: UTF8.self), $0.closed) } ?? ("", false)
    }

    /// True when the peer has closed the connection (checked without waiting).
    public var peerClosed: Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    /// Half-closes: no more bytes from this side (the server sees end of input; its socket is in CLOSE-WAIT
    /// until it closes it).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Closes the connection (once; also done when the object goes).
    public func close() {
        let first = closed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { Glibc.close(fd) }
    }

    deinit { close() }
}

extension RawSocket {
    /// `GET path` with `Connection: close` on a new connection; the status line and body, nil when the
    /// server did not answer within `timeout`.
    public static func get(port: Int, _ path: String, timeout: Duration = .seconds(5)) async -> String? {
        guard let socket = try? await RawSocket.connect(port: port) else { return nil }
        defer { socket.close() }
        guard await socket.sendAll("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") else { return nil }
        let (text, closed) = await socket.readUntilClosed(timeout: timeout)
        return closed && text.hasPrefix("HTTP/1.1 ") ? text : nil
    }

    /// The value of a Prometheus sample line (`name{labels} value`), or nil.
    public static func metric(_ text: String, _ sample: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Int(line.dropFirst(sample.count + 1))
        }
        return nil
    }
}
