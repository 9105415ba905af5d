import Foundation
import MarksyncCore

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
    /// Store the change only if the document's head is at this seq when the caller's requests are taken up
    /// (else `conflict`, nothing stored): a whole-document edit (a README merged from disk, prose included)
    /// computed from one head is never applied on top of another.
    public var expectedHeadSeq: Int?

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

    /// Where the log is: the SQLite file, or the PostgreSQL URL without its password.
    public nonisolated let path: String
    let backend: any LogBackend
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
    /// Per document, the last seq given to the observers (events reach them once, in seq order).
    var publishedSeqs: [String: Int] = [:]
    /// Documents with a commit under way, and wake-ups for them that came meanwhile.
    var inFlight: Set<String> = []
    var wokenDuringCommit: [String: Int] = [:]
    var notificationTask: Task<Void, Never>?
    var yjsWarmUp = YjsWarmUpState()
    /// Told (events prepared, events in the batch) while a large batch is validated (`ingest`'s progress).
    var appendProgress: (@Sendable (Int, Int) -> Void)?

    init(backend: any LogBackend, options: Options) {
        self.path = backend.location
        self.backend = backend
        self.options = options
    }

    /// Whether other processes (other `serve` nodes) append to the same log.
    public nonisolated var isShared: Bool { backend.isShared }

    /// Opens (or creates) a SQLite log file, applying the numbered migrations of `migrations/` in order.
    /// A log written by a newer marksync-log is refused.
    public static func open(path: String, options: Options = Options()) async throws(StoreError) -> EventLog {
        let backend = try await SQLiteBackend.open(path: path, options: options)
        return try await open(backend: backend, options: options)
    }

    /// Opens the log named by a `--db` value: `postgres://user@host:port/db` (also `postgresql://`) is
    /// PostgreSQL, `sqlite:PATH` or any other value is a SQLite file.
    public static func open(database: String, options: Options = Options()) async throws(StoreError) -> EventLog {
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            return try await open(backend: try await PostgresBackend.open(url: database, synchronousCommit: options.synchronousFull), options: options)
        }
        let path = database.hasPrefix("sqlite:") ? String(database.dropFirst("sqlite:".count)) : database
        return try await open(path: path, options: options)
    }

    static func open(backend: any LogBackend, options: Options) async throws(StoreError) -> EventLog {
        let log = EventLog(backend: backend, options: options)
        try await log.loadAuthors()
        await log.startFollowingOtherNodes()
        return log
    }

    /// Stops following other nodes and closes the database connections.
    public func close() async {
        notificationTask?.cancel()
        notificationTask = nil
        for observer in observers.values { observer.finish() }
        observers.removeAll()
        await backend.close()
    }

    // MARK: - Documents

    /// All documents with their head seq.
    public func documents() async throws(StoreError) -> [DocumentInfo] {
        try await backend.documents()
    }

    /// Creates an empty document.
    @discardableResult
    public func createDocument(_ name: String) async throws(StoreError) -> DocumentInfo {
        guard !name.isEmpty, name.count <= 200, !name.contains("/") else {
            throw StoreError(.rejected, "document names are 1 to 200 characters without '/': \(name.debugDescription)")
        }
        let now = Self.nowMs()
        try await backend.createDocument(name, createdMs: now)
        return DocumentInfo(name: name, headSeq: 0, createdMs: now)
    }

    /// Whether a document exists.
    public func hasDocument(_ name: String) async throws(StoreError) -> Bool {
        if heads[name] != nil { return true }
        return try await backend.documentRow(name) != nil
    }

    /// The document's state at its head (in memory; no I/O after the first call).
    public func head(_ document: String) async throws(StoreError) -> DocumentState {
        try await loadHead(document).state
    }

    /// The document's head seq.
    public func headSeq(_ document: String) async throws(StoreError) -> Int {
        try await loadHead(document).state.seq
    }

    /// The document's head seq without loading its state (the in-memory head when loaded, else the stored
    /// one): what the history commands need, with no replay. Unlike ``headSeq(_:)`` it does not start
    /// following the document (observers are told of commits from the seq a loaded head had).
    public func storedHeadSeq(_ document: String) async throws(StoreError) -> Int {
        try await storedHead(document).seq
    }

    // MARK: - Observing commits

    /// A stream of committed events (in seq order per document), for live subscribers.
    public func committedEvents() -> AsyncStream<[Event]> {
        let (stream, continuation) = AsyncStream<[Event]>.makeStream(bufferingPolicy: .unbounded)
        let id = RandomID.uuid()
        observers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeObserver(id) }
        }
        return stream
    }

    private func removeObserver(_ id: UUID) { observers[id] = nil }

    // MARK: - Helpers

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    func loadAuthors() async throws(StoreError) {
        for (id, name) in try await backend.authors() {
            authorIDs[name] = id
            authorNames[id] = name
        }
    }

    /// The head of a document, loaded from its latest checkpoint and the events after it.
    func loadHead(_ name: String) async throws(StoreError) -> Head {
        if let head = heads[name] { return head }
        guard let row = try await backend.documentRow(name) else {
            throw StoreError(.unknownDocument, "there is no document \(name) in \(path); `marksync-log ingest` creates one")
        }
        let keys = try await backend.blockKeys(doc: row.id)
        var head = Head(
            id: row.id, name: name, state: DocumentState(), hash: [], blockKeys: [:], blockIDs: [:], eventsSinceCheckpoint: 0,
            workSinceCheckpoint: 0)
        for (key, id) in keys {
            head.blockKeys[id] = key
            head.blockIDs[key] = id
        }
        let (state, sinceCheckpoint, bytes) = try await replayState(head: head, to: row.headSeq)
        head.state = state
        head.hash = row.headHash
        head.eventsSinceCheckpoint = sinceCheckpoint
        head.workSinceCheckpoint = bytes
        heads[name] = head
        if publishedSeqs[name] == nil { publishedSeqs[name] = head.state.seq }
        return head
    }
}

extension EventLog {
    /// The value of a SQLite pragma (a PostgreSQL setting) on a reader connection (for diagnostics and tests).
    public func pragma(_ name: String) async throws(StoreError) -> String? {
        try await backend.setting(name, writer: false)
    }

    /// The value of a SQLite pragma on the writer connection (the one whose commits are acked).
    public func writerPragma(_ name: String) async throws(StoreError) -> String? {
        try await backend.setting(name, writer: true)
    }
}
