import Foundation

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

/// A plain TCP connection to 127.0.0.1 kept open (blocking calls, each off the concurrency pool): for
/// connections that must stay connected while something else happens (an idle WebSocket, a half-closed
/// socket, a slow request head).
public final class RawSocket: Sendable {
    public let fd: Int32

    public init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw RawHTTPError(message: "connect: \(String(cString: strerror(errno)))")
        }
        var wait = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    /// Sends text (`\n` becomes `\r\n` when `http` is true).
    public func send(_ text: String, http: Bool = true) {
        let bytes = Array((http ? text.replacingOccurrences(of: "\n", with: "\r\n") : text).utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `until` holds for what was read, the peer closes, or `timeout` passes. `closed` tells whether
    /// the peer closed the connection.
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

    /// Half-closes: no more bytes from this side (the server sees end of input; its socket is in CLOSE-WAIT
    /// until it closes it).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    deinit { close(fd) }
}
