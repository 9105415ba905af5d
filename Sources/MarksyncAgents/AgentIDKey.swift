import Foundation

/// The random part of an agent's message ids (`reviewer-1:3f9c…:review:42`): made once per agent name and
/// user, kept with mode 0600 in `$MARKSYNC_HOME/agent-ids/<name>` (default `~/.marksync/`), so that nobody
/// can predict an agent's next id, yet the same agent after a restart makes the same ids and a replay of
/// the events it already handled stores nothing twice.
enum AgentIDKey {
    /// 16 hex digits for `name` (made and stored on first use; a fresh random one when it cannot be stored).
    static func key(for name: String) -> String {
        let folder = folderURL
        let safe = String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "_" })
        let path = folder.appendingPathComponent(safe.isEmpty ? "_" : safe).path
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count == 16, text.allSatisfy(\.isHexDigit) { return text }
        }
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        let key = String(repeating: "0", count: 16 - hex.count) + hex
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // O_EXCL: two agents of the same name starting together agree on the first key written.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            let bytes = Array((key + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            close(fd)
            return key
        }
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count == 16, text.allSatisfy(\.isHexDigit) { return text }
        }
        return key
    }

    static var folderURL: URL {
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["MARKSYNC_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".marksync")
        return base.appendingPathComponent("agent-ids")
    }
}
