import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore

/// `--db` and `--doc`, shared by every command that reads or writes a log.
struct LogOptions: ParsableArguments {
    init() {}

    @Option(
        help: ArgumentHelp(
            "The log: a SQLite file (or sqlite:PATH), or postgres://user@host:port/db (default: $MARKSYNC_DB, else .marksync/log.db).",
            valueName: "path-or-url"))
    var db: String?

    @Option(help: "The document (default: the only document of the log).")
    var doc: String?

    /// The log: `--db`, else `$MARKSYNC_DB` (environment or `.env`), else the `.marksync/log.db` next to
    /// `readme` when a command names one, else the nearest `.marksync/log.db` found walking up from the
    /// current folder (as git finds `.git`), else `.marksync/log.db` here (where a new log is made).
    /// A SQLite path (its `sqlite:` prefix removed) or a PostgreSQL URL.
    func logPath(nextTo readme: String? = nil) -> String {
        if let db { return Self.stripScheme(db) }
        if let fromSettings = Settings().value("MARKSYNC_DB") { return Self.stripScheme(fromSettings) }
        if let readme {
            let folder = URL(fileURLWithPath: readme).deletingLastPathComponent().path
            return folder + "/.marksync/log.db"
        }
        if let found = Self.discover(from: FileManager.default.currentDirectoryPath).found { return found }
        return ".marksync/log.db"
    }

    /// Walks up from `folder` to the filesystem root looking for `.marksync/log.db`: the first found (its
    /// path relative to `folder` when inside it, else absolute), and every path looked at.
    static func discover(from folder: String) -> (found: String?, looked: [String]) {
        var url = URL(fileURLWithPath: folder).standardizedFileURL
        var looked = [String]()
        while true {
            let candidate = url.appendingPathComponent(".marksync/log.db").path
            looked.append(candidate)
            if FileManager.default.fileExists(atPath: candidate) {
                return (looked.count == 1 ? ".marksync/log.db" : candidate, looked)
            }
            let parent = url.deletingLastPathComponent().standardizedFileURL
            if parent.path == url.path || url.path == "/" { return (nil, looked) }
            url = parent
        }
    }

    static func stripScheme(_ value: String) -> String { value.hasPrefix("sqlite:") ? String(value.dropFirst("sqlite:".count)) : value }

    /// Whether a `--db` value names a PostgreSQL database.
    static func isPostgres(_ location: String) -> Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

    /// Opens (or creates) the log.
    func open(nextTo readme: String? = nil, options: EventLog.Options = EventLog.Options()) async throws -> EventLog {
        try await EventLog.open(database: logPath(nextTo: readme), options: options)
    }

    /// Options for a command that writes many events and exits: no Yjs warm-up in the background while it
    /// writes (it would compete for the CPU, and the process may end before it is done).
    static var batchWriteOptions: EventLog.Options {
        var options = EventLog.Options()
        options.warmsYjsCheckpoints = false
        return options
    }

    /// Opens an existing log (a read command on a missing log is an error, not a new empty file).
    func openExisting() async throws -> EventLog {
        let path = logPath()
        guard Self.isPostgres(path) || FileManager.default.fileExists(atPath: path) else {
            if db == nil, Settings().value("MARKSYNC_DB") == nil {
                let looked = Self.discover(from: FileManager.default.currentDirectoryPath).looked
                let shown = looked.count > 4 ? Array(looked.prefix(3)) + ["…", looked.last!] : looked
                throw CLIError.failure(
                    "no log found: looked for .marksync/log.db in this folder and every folder above it (\(shown.joined(separator: ", "))); "
                        + "create one with `marksync-log ingest README.md` (it writes .marksync/log.db next to the README) or pass --db")
            }
            throw CLIError.failure("there is no log at \(path); create one with `marksync-log ingest README.md` or pass --db")
        }
        return try await EventLog.open(database: path)
    }

    /// The document to work on: `--doc`, or the only one in the log.
    func document(in log: EventLog) async throws -> String {
        if let doc { return doc }
        let documents = try await log.documents()
        switch documents.count {
        case 0: throw CLIError.failure("the log \(log.path) has no documents yet; `marksync-log ingest README.md` adds one")
        case 1: return documents[0].name
        default:
            throw CLIError.usage("the log holds several documents (\(documents.map(\.name).joined(separator: ", "))); pick one with --doc")
        }
    }
}

/// Progress on a terminal (standard error), silent when piped or in CI.
struct ProgressLine: Sendable {
    let label: String
    let enabled: Bool

    /// Shown on a terminal (standard error), not in CI or in-process runs; always with `force` (`--progress`).
    init(_ label: String, force: Bool = false) {
        self.label = label
        enabled = force || (isatty(2) == 1 && ProcessInfo.processInfo.environment["CI"] == nil && Console.capture == nil)
    }

    /// A callback for (done, total).
    var callback: (@Sendable (Int, Int) -> Void)? {
        guard enabled else { return nil }
        let label = label
        return { done, total in
            Console.progress("\r" + Self.text(label, done: done, total: total))
        }
    }

    /// `import: 4096/20001 (20%)`; without a known total, `import: 4096`.
    static func text(_ label: String, done: Int, total: Int) -> String {
        guard total > 0 else { return "\(label): \(done)" }
        return "\(label): \(done)/\(total) (\(min(100, done * 100 / total))%)"
    }

    /// Reports a phase without numbers (`ingest: parsing`).
    func phase(_ text: String) {
        if enabled { Console.progress("\r\u{1B}[K\(label): \(text)") }
    }

    func finish() {
        if enabled { Console.progress("\r\u{1B}[K") }
    }
}

/// Writes a file atomically (temporary file, fsync, rename): the server's ``AtomicFile``.
func writeFileAtomically(_ path: String, _ text: String) throws {
    do { try AtomicFile.write(path, text) } catch { throw CLIError.failure("\(error)") }
}


/// A time as `2026-11-26 23:19:05` (UTC), for commands that do not take `--utc`; the history commands use
/// ``TimeFormat`` (local time with its zone).
func formatTime(_ ms: Int64) -> String { TimeFormat(utc: true).string(ms) }

extension StoreError {
    /// The CLI's view of a store error.
    var cliError: CLIError {
        switch code {
        case .corrupt: CLIError(message: message, exitCode: 3)
        default: CLIError.failure(message)
        }
    }
}
