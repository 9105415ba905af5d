import Foundation

/// Client message ids (idempotency keys) are stored scoped to the writer's identity, so that a writer can
/// never claim another's future id and have that writer's real message answered `duplicate` (and dropped).
///
/// Stored form: `t:<token fingerprint>|<id>` on a server with tokens, `a:<author>|<id>` without (`|` in the
/// author escaped as `%7C`). Acks carry the id as sent; broadcasts carry it unscoped too.
public enum MessageIDScope {
    /// The stored form of a client's id.
    public static func scoped(_ id: String?, principal: String?, author: String) -> String? {
        guard let id else { return nil }
        if let principal { return "t:\(principal)|\(id)" }
        return "a:\(author.replacingOccurrences(of: "|", with: "%7C"))|\(id)"
    }

    /// The id as its client sent it (ids stored before scoping are returned as they are).
    public static func unscoped(_ stored: String) -> String {
        guard stored.hasPrefix("t:") || stored.hasPrefix("a:"), let bar = stored.firstIndex(of: "|") else { return stored }
        return String(stored[stored.index(after: bar)...])
    }
}
