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
/// commas (`s3cret:admin,agent-key:write,viewer:read`); a token without scope is `write`. A tokens file
/// (`--tokens-file`) holds the same pairs, one per line or comma-separated, `#` starting a comment.
///
/// Only the SHA-256 of each token is kept, and a presented token is compared with every stored one in
/// constant time, so neither memory dumps nor response timing tell a token.
public struct TokenSet: Sendable {
    private var entries: [(digest: [UInt8], scope: TokenScope)]

    public init(_ scopes: [String: TokenScope] = [:]) {
        entries = scopes.map { (Self.digest($0.key), $0.value) }
    }

    /// Parses the `token:scope,…` form.
    public init(parsing text: String) throws(ServerError) {
        var scopes = [String: TokenScope]()
        let items = text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" })
        for raw in items {
            let item = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let token = parts.first, !token.isEmpty else { continue }
            guard let scope = parts.count > 1 ? TokenScope(name: parts[1]) : .write else {
                throw ServerError(.badConfiguration, "unknown token scope \(parts[1].debugDescription); use read, write or admin")
            }
            scopes[token] = scope
        }
        self.init(scopes)
    }

    /// Reads a tokens file (so that tokens need not appear in `ps`). A file others may read is refused.
    public init(contentsOfFile path: String) throws(ServerError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ServerError(.badConfiguration, "cannot read the tokens file \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw ServerError(.badConfiguration, "the tokens file \(path) may be read by others (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ServerError(.badConfiguration, "cannot read the tokens file \(path)")
        }
        try self.init(parsing: text)
    }

    /// True when no token is configured: the server is open (and binds to loopback only unless told).
    public var isEmpty: Bool { entries.isEmpty }

    /// The scope of a presented token (constant time in the token's content).
    public func scope(of token: String?) -> TokenScope? {
        guard let token, !entries.isEmpty else { return nil }
        let presented = Self.digest(token)
        var found: TokenScope?
        for entry in entries where Self.constantTimeEqual(entry.digest, presented) { found = entry.scope }
        return found
    }

    /// A short, stable name for a token that does not reveal it: the identity its writes are scoped to.
    public static func fingerprint(of token: String) -> String { String(SHA256.hexDigest(of: token).prefix(16)) }

    /// A new random token (256 bits from the system's CSPRNG, hex).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    private static func digest(_ token: String) -> [UInt8] {
        let hex = Array(SHA256.hexDigest(of: token).utf8)
        return hex
    }

    /// Compares two equal-length byte arrays without an early exit.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
