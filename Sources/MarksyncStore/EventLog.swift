import Foundation
import GRDB
import MarksyncCore
import MarksyncMigrations

/// A write asked of the log: a change to one document by one author.
public struct WriteRequest: Sendable, Equatable {
    public var document: String
    public var author: String
    /// The client's message id: the same id twice stores one event (idempotent writes).
    public var clientMessageID: String?
    /// The seq the writer's version of the block was based on (optimistic concurrency).
    public var baseSeq: Int?
    /// The sha256 of the block the writer's change was based on (optimistic concurrency).
    public var baseSHA256: String?
    /// Unix milliseconds; nil means now.
    public var timestampMs: Int64?
    public var change: Change
    /// Store the change as it is, without the optimistic-concurrency check (import of a backup).
    public var verbatim: Bool = false
    /// The connection that sends the request (carried on the committed event, never stored).
    public var origin: String?

    public init(
        document: String, author: String, change: Change, clientMessageID: String? = nil, baseSeq: Int? = nil,
        baseSHA256: String? = nil, timestampMs: Int64? = nil
    ) {
        self.document = document
        self.author = author
        self.change = change
        self.clientMessageID = clientMessageID
        self.baseSeq = baseSeq
        self.baseSHA256 = baseSHA256
        self.timestampMs = timestampMs
    }
}

/// A block as it is now, sent back with a conflict.
public struct BlockVersion: Sendable, Equatable {
    public var blockID: String
    public var content: String
    public var sha256: String
    /// The seq of the event that made this version.
    public var seq: Int
}

/// What became of one ``WriteRequest``.
public enum WriteOutcome: Sendable, Equatable {
    /// Stored (durably: the transaction committed). `rebased` when the change was carried over onto a
    /// block that had moved on since the writer's base.
    case appended(Event, rebased: Bool)
    /// A write with the same client message id is already stored: this is it. Nothing new was stored.
    case duplicate(Event)
    /// Refused; nothing stored. `current` is the block as it is now, when there is one.
    case rejected(ApplyError, current: BlockVersion?)

    /// The event stored or found, if any.
    public var event: Event? {
        switch self {
        case .appended(let event, _), .duplicate(let event): event
        case .rejected: nil
        }
    }
}

/// Summary of one document.
public struct DocumentInfo: Sendable, Equatable {
    public var name: String
    public var headSeq: Int
    public var createdMs: Int64
}

/// The append-only event log: SQLite in WAL mode, one row per event, group commit, checkpoints.
///
/// Writes go through ``append(_:)``: requests from concurrent callers are gathered into one transaction
/// committed with `synchronous=FULL`, and every caller returns only after that commit (acked means
/// durable). Each document's head state is kept in memory; any other seq is rebuilt from the nearest
/// checkpoint. Reads page through the log in short read transactions, so they never block WAL
/// checkpoints.
///
/// ```swift
/// let log = try await EventLog.open(path: ".marksync/log.db")
/// try await log.createDocument("demo")
/// let outcomes = try await log.append([WriteRequest(document: "demo", author: "me", change: .full(blockID: "markpact:run", content: "echo hi"))])
/// ```
public actor EventLog {
    /// Tunables.
    public struct Options: Sendable {
        /// A checkpoint after this many events of a document…
        public var checkpointEvents: Int = 3072
        /// …or once replaying the events since the last checkpoint would move this many code points (each
        /// event counts the size of the block it changes plus its payload): this bounds the cost of reading
        /// any seq when blocks are large.
        public var checkpointWork: Int = 400_000_000
        /// How long a writer waits for another process's lock before failing.
        public var busyTimeoutSeconds: Double = 10
        /// The most requests one transaction takes.
        public var maxBatch: Int = 8192
        /// `FULL` (durable at commit) or `NORMAL` (for benchmarks that say so).
        public var synchronousFull: Bool = true
        /// Write the Yjs checkpoints in the background as soon as commits write the log's (docs/crdt.md); off,
        /// the first export that passes a log checkpoint writes its Yjs checkpoint.
        public var warmsYjsCheckpoints: Bool = true
        public init() {}
    }

    /// The database file.
    public nonisolated let path: String
    let pool: DatabasePool
    let options: Options

    struct Head: Sendable {
        var id: Int64
        var name: String
        var state: DocumentState
        var hash: [UInt8]
        var blockKeys: [String: Int]
        var blockIDs: [Int: String]
        var eventsSinceCheckpoint: Int
        var workSinceCheckpoint: Int
    }

    var heads: [String: Head] = [:]
    var authorIDs: [String: Int64] = [:]
    var authorNames: [Int64: String] = [:]

    struct PendingWrite {
        var requests: [WriteRequest]
        var continuation: CheckedContinuation<Result<[WriteOutcome], StoreError>, Never>
    }

    var queue: [PendingWrite] = []
    var writerRunning = false
    var observers: [UUID: AsyncStream<[Event]>.Continuation] = [:]
    var yjsWarmUp = YjsWarmUpState()

    init(path: String, pool: DatabasePool, options: Options) {
        self.path = path
        self.pool = pool
        self.options = options
    }

    /// Opens (or creates) a log file, applying the numbered migrations of `migrations/` in order.
    /// A log written by a newer marksync-log is refused.
    public static func open(path: String, options: Options = Options()) async throws(StoreError) -> EventLog {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw StoreError(.cannotOpen, "cannot create the folder of \(path): \(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeoutSeconds)
        let synchronous = options.synchronousFull ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.cannotOpen, "cannot open the log \(path): \(error). Is it a marksync-log database?")
        }
        var migrator = DatabaseMigrator()
        for migration in SQLiteMigrations.all {
            migrator.registerMigration(migration.id) { db in try db.execute(sql: migration.sql) }
        }
        let registered = migrator
        do {
            let superseded = try await pool.read { db in try registered.hasBeenSuperseded(db) }
            if superseded {
                let applied = try await pool.read { db in try registered.appliedIdentifiers(db).sorted() }
                throw StoreError(
                    .newerFormat,
                    "the log \(path) was written by a newer marksync-log (its schema has \(applied.last ?? "?")); "
                        + "this binary knows up to \(SQLiteMigrations.all.last?.id ?? "?"). Upgrade marksync-log to open it.")
            }
            try registered.migrate(pool)
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO meta(key, value) VALUES ('log_format', ?), ('created_by', ?)",
                    arguments: [String(MarksyncVersion.logFormat), "marksync-log \(MarksyncVersion.tool)"])
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.cannotOpen, "cannot prepare the log \(path): \(error)")
        }
        // GRDB switches WAL databases to synchronous=NORMAL when it sets WAL mode up; the writer must be FULL
        // (an ack means the commit is on disk, also across an OS crash or power loss).
        do {
            try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        } catch {
            throw StoreError(.cannotOpen, "cannot set synchronous=\(synchronous) on \(path): \(error)")
        }
        let log = EventLog(path: path, pool: pool, options: options)
        try await log.loadAuthors()
        return log
    }

    // MARK: - Documents

    /// All documents with their head seq.
    public func documents() async throws(StoreError) -> [DocumentInfo] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT name, head_seq, created_ms FROM documents ORDER BY name").map {
                DocumentInfo(name: $0[0], headSeq: $0[1], createdMs: $0[2])
            }
        }
    }

    /// Creates an empty document.
    @discardableResult
    public func createDocument(_ name: String) async throws(StoreError) -> DocumentInfo {
        guard !name.isEmpty, name.count <= 200, !name.contains("/") else {
            throw StoreError(.rejected, "document names are 1 to 200 characters without '/': \(name.debugDescription)")
        }
        let now = Self.nowMs()
        do {
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO documents(name, created_ms) VALUES (?, ?)", arguments: [name, now])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError(.documentExists, "document \(name) already exists")
        } catch {
            throw StoreError(.database, "cannot create document \(name): \(error)")
        }
        return DocumentInfo(name: name, headSeq: 0, createdMs: now)
    }

    /// Whether a document exists.
    public func hasDocument(_ name: String) async throws(StoreError) -> Bool {
        if heads[name] != nil { return true }
        return try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM documents WHERE name = ?", arguments: [name]) ?? false }
    }

    /// The document's state at its head (in memory; no I/O after the first call).
    public func head(_ document: String) async throws(StoreError) -> DocumentState {
        try await loadHead(document).state
    }

    /// The document's head seq.
    public func headSeq(_ document: String) async throws(StoreError) -> Int {
        try await loadHead(document).state.seq
    }

    // MARK: - Observing commits

    /// A stream of committed events (in seq order per document), for live subscribers.
    public func committedEvents() -> AsyncStream<[Event]> {
        let (stream, continuation) = AsyncStream<[Event]>.makeStream(bufferingPolicy: .unbounded)
        let id = UUID()
        observers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeObserver(id) }
        }
        return stream
    }

    private func removeObserver(_ id: UUID) { observers[id] = nil }

    // MARK: - Helpers

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Runs a short read transaction.
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do { return try await pool.read(body) } catch let error as StoreError { throw error } catch {
            throw StoreError(.database, "reading the log failed: \(error)")
        }
    }

    func loadAuthors() async throws(StoreError) {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, name FROM authors").map { (id: $0[0] as Int64, name: $0[1] as String) }
        }
        for row in rows {
            authorIDs[row.name] = row.id
            authorNames[row.id] = row.name
        }
    }

    /// The head of a document, loaded from its latest checkpoint and the events after it.
    func loadHead(_ name: String) async throws(StoreError) -> Head {
        if let head = heads[name] { return head }
        guard
            let row = try await read({ db in
                try Row.fetchOne(db, sql: "SELECT id, head_seq, head_hash FROM documents WHERE name = ?", arguments: [name]).map {
                    (id: $0[0] as Int64, seq: $0[1] as Int, hash: [UInt8]($0[2] as Data))
                }
            })
        else {
            throw StoreError(.unknownDocument, "there is no document \(name) in \(path); `marksync-log ingest` creates one")
        }
        let keys = try await read { db in
            try Row.fetchAll(db, sql: "SELECT key, block_id FROM block_keys WHERE doc = ?", arguments: [row.id]).map {
                (key: $0[0] as Int, id: $0[1] as String)
            }
        }
        var head = Head(
            id: row.id, name: name, state: DocumentState(), hash: [], blockKeys: [:], blockIDs: [:], eventsSinceCheckpoint: 0,
            workSinceCheckpoint: 0)
        for key in keys {
            head.blockKeys[key.id] = key.key
            head.blockIDs[key.key] = key.id
        }
        let (state, sinceCheckpoint, bytes) = try await replayState(head: head, to: row.seq)
        head.state = state
        head.hash = row.hash
        head.eventsSinceCheckpoint = sinceCheckpoint
        head.workSinceCheckpoint = bytes
        heads[name] = head
        return head
    }
}

extension EventLog {
    /// The value of a SQLite pragma on a reader connection (for diagnostics and tests).
    public func pragma(_ name: String) async throws(StoreError) -> String? {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { return nil }
        return try await read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    /// The value of a SQLite pragma on the writer connection (the one whose commits are acked).
    public func writerPragma(_ name: String) async throws(StoreError) -> String? {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { return nil }
        do { return try await pool.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA \(name)") } } catch {
            throw StoreError(.database, "\(error)")
        }
    }
}
