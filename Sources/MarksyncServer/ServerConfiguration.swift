import Foundation
import MarksyncCore

/// What a token may do.
public enum TokenScope: Int, Sendable, Comparable, Codable {
    /// Subscribe, read snapshots, blocks and history.
    case read = 1
    /// Change documents.
    case write = 2
    /// Everything, including durable consumer cursors of others and server administration.
    case admin = 3

    public static func < (lhs: TokenScope, rhs: TokenScope) -> Bool { lhs.rawValue < rhs.rawValue }

    init?(name: String) {
        switch name.lowercased() {
        case "read": self = .read
        case "write": self = .write
        case "admin": self = .admin
        default: return nil
        }
    }
}

/// Tokens and their scopes. Parsed from `MARKSYNC_TOKENS` / `--tokens`: `token:scope` pairs separated by
/// commas (`s3cret:admin,agent-key:write,viewer:read`); a token without scope is `write`.
public struct TokenSet: Sendable {
    private var scopes: [String: TokenScope]

    public init(_ scopes: [String: TokenScope] = [:]) { self.scopes = scopes }

    /// Parses the `token:scope,…` form.
    public init(parsing text: String) throws(ServerError) {
        var scopes = [String: TokenScope]()
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let token = parts.first, !token.isEmpty else { continue }
            guard let scope = parts.count > 1 ? TokenScope(name: parts[1]) : .write else {
                throw ServerError(.badConfiguration, "unknown token scope \(parts[1].debugDescription); use read, write or admin")
            }
            scopes[token] = scope
        }
        self.scopes = scopes
    }

    /// True when no token is configured: the server is open (and binds to loopback only unless told).
    public var isEmpty: Bool { scopes.isEmpty }

    /// The scope of a presented token.
    public func scope(of token: String?) -> TokenScope? {
        guard let token else { return nil }
        return scopes[token]
    }
}

/// How the server runs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8765
    public var tokens = TokenSet()
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
