import Foundation
import MarksyncServer

/// The control API's token when none is configured: made at random at start (Jupyter's model) and kept in
/// a file only its user can read, `$MARKSYNC_HOME/control-<port>.token` (default `~/.marksync/`), where
/// `shell --api` and other local clients find it by the API's port.
enum ControlTokenFile {
    /// The folder of the token files.
    static var folder: URL {
        if let home = ProcessInfo.processInfo.environment["MARKSYNC_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".marksync")
    }

    /// The file of the control API listening on `port`.
    static func path(port: Int) -> String { folder.appendingPathComponent("control-\(port).token").path }

    /// Writes the token with mode 0600 (in a 0700 folder), replacing an older file atomically.
    static func write(_ token: String, port: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = path(port: port)
        let temporary = target + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError.failure("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, target) == 0 else {
            unlink(temporary)
            throw CLIError.failure("cannot write \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// The token of the control API on `port`, when this user's file for it exists.
    static func read(port: Int) -> String? {
        guard let data = FileManager.default.contents(atPath: path(port: port)) else { return nil }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// The token for a control API URL (`http://host:port`): the file of its port.
    static func read(url: String) -> String? {
        guard let port = URL(string: url.contains("://") ? url : "http://" + url)?.port else { return nil }
        return read(port: port)
    }

    static func remove(port: Int) { unlink(path(port: port)) }
}
