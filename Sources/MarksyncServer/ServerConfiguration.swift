import Foundation
import MarksyncCore

/// How the server runs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8765
    public var tokens = TokenSet()
    /// Browser origins allowed besides the server's own pages (`--allow-origin`; `*` allows any).
    public var allowedOrigins: [String] = []
    /// Host names allowed besides loopback names and IP addresses (`--allow-host`; `*` allows any).
    public var allowedHosts: [String] = []
    /// The largest message accepted (the Python clients' default limit is 1 MiB).
    public var maxMessageBytes = 1 << 20
    /// Messages per second a connection may send (sustained) …
    public var rateLimit: Double = 2_000
    /// … and in a burst.
    public var rateBurst: Double = 4_000
    /// Events buffered for a live subscriber before it is moved back to catch-up from the log.
    public var subscriberQueue = 4_096
    /// How often README.md files are checked for edits made on disk.
    public var filePollMilliseconds = 500
    /// Coalescing delay for README.md writes under load.
    public var projectionDelayMilliseconds = 50
    /// Connection limits and timeouts (Connections/ConnectionLimits.swift).
    public var connections = ConnectionLimits()
    public init() {}
}

/// The server's one error type; `code` is a stable reason code.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badConfiguration = "bad_configuration"
        case unsafeBind = "unsafe_bind"
        case io
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
