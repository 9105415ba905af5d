import Foundation
import MarksyncCore

/// A document's row: its id in the database and its head.
struct DocumentRow: Sendable, Equatable {
    var id: Int64
    var headSeq: Int
    var headHash: [UInt8]
}

/// A stored checkpoint of the document state (``DocumentState/encodeCheckpoint()``, maybe LZ4).
struct StoredCheckpoint: Sendable {
    var seq: Int
    var codec: Int
    var state: [UInt8]
    var hash: [UInt8]
}

/// A stored checkpoint of the Yjs projection.
struct StoredYjsCheckpoint: Sendable {
    var seq: Int
    var codec: Int
    var model: [UInt8]
}

/// One group commit: the rows of a batch and the heads they move.
struct InsertBatch: Sendable {
    var rows: [EventRow]
    var checkpoints: [CheckpointRow]
    /// The heads after the batch.
    var heads: [(id: Int64, seq: Int, hash: Data)]
    /// The head seq each document must still have in the database (else ``StoreError/Code/staleHead``).
    var expectedSeqs: [Int64: Int]
    /// Authors known to this process.
    var authors: [String: Int64]
    /// Block keys known to this process, per document.
    var blockKeys: [Int64: [String: Int]]
}

/// What an insert added besides events: authors and block keys created by it.
struct InsertResult: Sendable {
    var authors: [String: Int64]
    var keys: [Int64: [String: Int]]
}

/// One page of `log`, filtered and ordered in the database (the filters are pushed into SQL so a page
/// costs O(page), whatever the log's size).
struct HistoryQuery: Sendable {
    /// Seqs in (`after`, `through`].
    var after: Int
    var through: Int
    /// Only this block key / author id / these kinds, when set.
    var block: Int?
    var author: Int64?
    var kinds: [Int]?
    /// Only events with `sinceMs <= ts <= untilMs`, when set.
    var sinceMs: Int64?
    var untilMs: Int64?
    /// Highest seq first.
    var newestFirst: Bool
    var limit: Int
}

/// Counts the backend reads for ``LogStats``.
struct BackendCounts: Sendable {
    var documents = 0
    var events = 0
    var authors = 0
    var checkpoints = 0
    var checkpointBytes = 0
    var payloadBytesStored = 0
    var payloadBytesDecoded = 0
    var lz4Events = 0
    /// Bytes of the database (files, or relations), and of a write-ahead log when it has one.
    var fileBytes = 0
    var walBytes = 0
}

/// Where the log's rows live: SQLite (the embedded default) or PostgreSQL (several nodes on one
/// database). ``EventLog`` holds all the logic — validation, heads, hash chain, checkpoints,
/// projections — and asks its backend only for rows, so both backends store identical logs.
///
/// Every call is one short transaction. ``insert(_:)`` is the only write of events: it must check,
/// inside its transaction and under a per-document lock, that each document's head is still the
/// expected one (else throw ``StoreError/Code/staleHead`` naming nothing stored), then store the rows,
/// checkpoints and heads atomically and durably before it returns.
protocol LogBackend: Sendable {
    /// Where the log is, for messages (a path, or a URL without its password).
    var location: String { get }
    /// Whether other processes may append to the same log at any time (several `serve` nodes).
    var isShared: Bool { get }

    // Documents, authors, block keys
    func documents() async throws(StoreError) -> [DocumentInfo]
    /// Creates a document row; ``StoreError/Code/documentExists`` when the name is taken.
    func createDocument(_ name: String, createdMs: Int64) async throws(StoreError)
    func setDocumentCreated(_ name: String, createdMs: Int64) async throws(StoreError)
    func documentRow(_ name: String) async throws(StoreError) -> DocumentRow?
    func blockKeys(doc: Int64) async throws(StoreError) -> [Int: String]
    func authors() async throws(StoreError) -> [Int64: String]
    func authorCount() async throws(StoreError) -> Int

    // Events
    /// Rows in (`after`, `through`], in seq order, at most `limit`.
    func rawEvents(doc: Int64, after: Int, through: Int, limit: Int) async throws(StoreError) -> [RawEvent]
    /// One page of history: the rows that pass the query's filters, ordered by seq (descending when
    /// `newestFirst`), at most `limit`.
    func historyEvents(doc: Int64, _ query: HistoryQuery) async throws(StoreError) -> [RawEvent]
    /// The seq of the last event at or before a time (0 when none): what a time means as a revision.
    func seq(doc: Int64, atOrBeforeMs ms: Int64) async throws(StoreError) -> Int
    /// The seqs of stored events carrying these client message ids.
    func seqs(doc: Int64, clientIDs: [String]) async throws(StoreError) -> [String: Int]
    /// Author id and time of some events.
    func authorsAndTimes(doc: Int64, seqs: [Int]) async throws(StoreError) -> [(seq: Int, author: Int64, ts: Int64)]
    /// Stores one group commit (see the protocol's description).
    func insert(_ batch: InsertBatch) async throws(StoreError) -> InsertResult
    /// A group commit prepared under the documents' locks (several nodes on one database): takes the row
    /// locks of `docs` in one transaction, calls `prepare` with their heads as stored, and stores the batch
    /// it returns (nothing when nil) in that same transaction before committing. No other node can commit
    /// to these documents in between, so the batch is never stale.
    func insertLocked<Value: Sendable>(
        docs: [Int64], _ prepare: @Sendable ([Int64: Int]) async throws -> (batch: InsertBatch?, value: Value)
    ) async throws(StoreError) -> (result: InsertResult?, value: Value)

    // Checkpoints
    func checkpoint(doc: Int64, atOrBefore seq: Int) async throws(StoreError) -> StoredCheckpoint?
    func checkpoints(doc: Int64) async throws(StoreError) -> [StoredCheckpoint]
    func checkpointSeqs(doc: Int64, after: Int, through: Int) async throws(StoreError) -> [Int]
    func deleteCheckpoints(doc: Int64) async throws(StoreError)
    func insertCheckpoints(_ rows: [CheckpointRow]) async throws(StoreError)

    // Yjs checkpoints (a cache: rows whose hash is no longer the event's are ignored)
    /// Up to `limit` Yjs checkpoints of `format` at or before `seq`, newest first, whose hash still
    /// matches the event at their seq.
    func yjsCheckpoints(doc: Int64, atOrBefore seq: Int, format: String, limit: Int) async throws(StoreError) -> [StoredYjsCheckpoint]
    /// Seqs of log checkpoints in (`after`, `through`] with no valid Yjs checkpoint of `format`.
    func missingYjsCheckpoints(doc: Int64, after: Int, through: Int, format: String) async throws(StoreError) -> [Int]
    /// Stores Yjs checkpoints (replacing any at the same seq), each with the hash of its event.
    func putYjsCheckpoints(doc: Int64, format: String, _ rows: [StoredYjsCheckpoint]) async throws(StoreError)
    /// Deletes one Yjs checkpoint, or all of a document's when `seq` is nil.
    func deleteYjsCheckpoints(doc: Int64, seq: Int?) async throws(StoreError)
    func yjsCheckpointStats(doc: Int64) async throws(StoreError) -> (count: Int, bytes: Int)

    // Consumers
    func cursor(doc: Int64, consumer: String) async throws(StoreError) -> Int?
    /// Stores a cursor; a new consumer (or one without an owner) gets `owner`, an existing owner is kept.
    func setCursor(doc: Int64, consumer: String, seq: Int, updatedMs: Int64, owner: String?) async throws(StoreError)
    /// nil: no such consumer; `.some(nil)`: a consumer without owner.
    func consumerOwner(doc: Int64, consumer: String) async throws(StoreError) -> String??
    func setConsumerTime(doc: Int64, consumer: String, updatedMs: Int64) async throws(StoreError)
    func consumers(doc: Int64) async throws(StoreError) -> [ConsumerRow]

    // README projections (what `serve` wrote to each README path; migration 0004)
    /// Records a README write about to happen (unconfirmed), or refreshes the record of that seq.
    func recordProjection(doc: Int64, path: String, seq: Int, sha256: String, writtenMs: Int64) async throws(StoreError)
    /// Marks a recorded README write as done (the file is in place).
    func confirmProjection(doc: Int64, path: String, seq: Int) async throws(StoreError)
    /// The newest seq whose recorded projection has this sha256 (any path), if any.
    func projectionSeq(doc: Int64, sha256: String) async throws(StoreError) -> Int?
    /// The newest `limit` projections recorded for `path` with a seq below `before`, newest first.
    func recentProjections(doc: Int64, path: String, before: Int, limit: Int) async throws(StoreError) -> [ProjectionRecord]

    /// Why the log can no longer be written (its file vanished or was replaced), checked now; nil when fine.
    /// Once set it stays set: the process stops acking (fail closed).
    func storageProblem() -> String?

    // Maintenance
    /// The database's own consistency check: `["ok"]` when clean.
    func integrityCheck() async throws(StoreError) -> [String]
    func counts() async throws(StoreError) -> BackendCounts
    /// Folds the write-ahead log into the database (SQLite); nothing elsewhere.
    func checkpointWAL() async throws(StoreError)
    /// A pragma or setting, for diagnostics (`writer` asks the connection whose commits are acked).
    func setting(_ name: String, writer: Bool) async throws(StoreError) -> String?

    /// Commits (by any process, this one included) as (document id, head seq) wake-ups; nil when the
    /// backend has no way to tell (SQLite, where one process writes). Readers always page from the
    /// table after a wake-up; a wake-up may be lost or repeated.
    func commitNotifications() -> AsyncStream<(doc: Int64, seq: Int)>?
    /// Closes connections.
    func close() async
}

extension LogBackend {
    /// A database server has no file of its own to lose.
    func storageProblem() -> String? { nil }

    /// Without locks across calls (one writer process): the heads as stored now, then an insert that
    /// still checks them.
    func insertLocked<Value: Sendable>(
        docs: [Int64], _ prepare: @Sendable ([Int64: Int]) async throws -> (batch: InsertBatch?, value: Value)
    ) async throws(StoreError) -> (result: InsertResult?, value: Value) {
        let prepared: (batch: InsertBatch?, value: Value)
        do { prepared = try await prepare([:]) } catch let error as StoreError { throw error } catch {
            throw StoreError(.database, "preparing the append failed: \(error)")
        }
        guard let batch = prepared.batch else { return (nil, prepared.value) }
        return (try await insert(batch), prepared.value)
    }
}

extension LogBackend {
    /// Stores a cursor without naming an owner.
    func setCursor(doc: Int64, consumer: String, seq: Int, updatedMs: Int64) async throws(StoreError) {
        try await setCursor(doc: doc, consumer: consumer, seq: seq, updatedMs: updatedMs, owner: nil)
    }
}
