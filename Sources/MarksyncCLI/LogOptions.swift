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

    /// The log from the flag, the environment/.env, or the default next to `readme`: a SQLite path (its
    /// `sqlite:` prefix removed) or a PostgreSQL URL.
    func logPath(nextTo readme: String? = nil) -> String {
        if let db { return Self.stripScheme(db) }
        if let fromSettings = Settings().value("MARKSYNC_DB") { return Self.stripScheme(fromSettings) }
        if let readme {
            let folder = URL(fileURLWithPath: readme).deletingLastPathComponent().path
            return folder + "/.marksync/log.db"
        }
        return ".marksync/log.db"
    }

    static func stripScheme(_ value: String) -> String { value.hasPrefix("sqlite:") ? String(value.dropFirst("sqlite:".count)) : value }

    /// Whether a `--db` value names a PostgreSQL database.
    static func isPostgres(_ location: String) -> Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

    /// Opens (or creates) the log.
    func open(nextTo readme: String? = nil) async throws -> EventLog {
        try await EventLog.open(database: logPath(nextTo: readme))
    }

    /// Opens an existing log (a read command on a missing log is an error, not a new empty file).
    func openExisting() async throws -> EventLog {
        let path = logPath()
        guard Self.isPostgres(path) || FileManager.default.fileExists(atPath: path) else {
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

    init(_ label: String) {
        self.label = label
        enabled = isatty(2) == 1 && ProcessInfo.processInfo.environment["CI"] == nil && Console.capture == nil
    }

    /// A callback for (done, total).
    var callback: (@Sendable (Int, Int) -> Void)? {
        guard enabled else { return nil }
        let label = label
        return { done, total in
            let percent = total > 0 ? done * 100 / total : 100
            FileHandle.standardError.write(Data("\r\(label): \(done)/\(total) (\(percent)%)".utf8))
        }
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Writes a file atomically (temporary file, fsync, rename): the server's ``AtomicFile``.
func writeFileAtomically(_ path: String, _ text: String) throws {
    do { try AtomicFile.write(path, text) } catch { throw CLIError.failure("\(error)") }
}

/// A time as `2026-11-26 23:19:05`.
func formatTime(_ ms: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

extension StoreError {
    /// The CLI's view of a store error.
    var cliError: CLIError {
        switch code {
        case .corrupt: CLIError(message: message, exitCode: 3)
        default: CLIError.failure(message)
        }
    }
}
