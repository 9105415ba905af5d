import Foundation
import Logging
import MarksyncCore
import NIOCore
import PostgresNIO
import _ConnectionPoolModule

/// The log's rows in PostgreSQL (postgres-nio): several `serve` nodes share one database.
///
/// Per-document order comes from a row lock: every ``insert(_:)`` locks the rows of the documents it
/// appends to (`SELECT … FOR UPDATE`, in id order) and checks their heads before writing, so seqs stay
/// dense under concurrent writers on any node. Commits announce themselves with `pg_notify` on
/// `marksync_commits`; ``commitNotifications()`` turns those into wake-ups (readers still page from
/// the table). An insert returns after `COMMIT`, with `synchronous_commit` left on: acked is durable.
final class PostgresBackend: LogBackend {
    /// The URL without its password.
    let location: String
    var isShared: Bool { true }

    let client: PostgresClient
    let logger: Logger
    /// Where the notification listener connects (its own connection, outside the pool).
    let connectionConfiguration: PostgresConnection.Configuration
    private let runTask: Task<Void, Never>
    let hub: CommitHub

    private init(location: String, client: PostgresClient, connectionConfiguration: PostgresConnection.Configuration, logger: Logger) {
        self.location = location
        self.client = client
        self.logger = logger
        self.connectionConfiguration = connectionConfiguration
        self.runTask = Task { await client.run() }
        self.hub = CommitHub(location: location)
    }

    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/db[?sslmode=disable]`,
    /// or `postgresql://…`) and applies the migrations of `migrations/postgres/` it lacks, serialised
    /// with an advisory lock so that nodes starting together do not race. A database whose schema was
    /// written by a newer marksync-log is refused.
    ///
    /// `synchronousCommit: false` sets `synchronous_commit = off` on the pool's connections (for benchmarks
    /// that say so: a commit is then acknowledged before its WAL is flushed).
    static func open(url: String, maximumConnections: Int = 16, synchronousCommit: Bool = true, logger: Logger? = nil)
        async throws(StoreError) -> PostgresBackend
    {
        let target = try PostgresURL(parsing: url)
        let logger = logger ?? Logger(label: "marksync.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: target.connectionConfiguration, id: 0, logger: logger)
        } catch {
            throw Self.connectError(error, location: target.location)
        }
        do throws(StoreError) {
            try await Self.migrate(connection, location: target.location, logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
        var configuration = target.clientConfiguration
        configuration.options.maximumConnections = max(2, maximumConnections)
        if !synchronousCommit { configuration.options.additionalStartupParameters.append(("synchronous_commit", "off")) }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return PostgresBackend(location: target.location, client: client, connectionConfiguration: target.connectionConfiguration, logger: logger)
    }

    func close() async {
        hub.close()
        runTask.cancel()
        await runTask.value
    }

    // MARK: - Running statements

    /// Runs `query` on a pooled connection and returns its rows.
    func fetch(_ query: PostgresQuery, _ what: @autoclosure () -> String) async throws(StoreError) -> [PostgresRow] {
        do { return try await client.query(query, logger: logger).collect() } catch { throw mapError(error, what()) }
    }

    /// Runs `query` and maps every row with `body` (a decoding failure is a damaged row).
    func fetch<T>(_ query: PostgresQuery, _ what: @autoclosure () -> String, _ body: (PostgresRow) throws -> T) async throws(StoreError)
        -> [T]
    {
        let rows = try await fetch(query, what())
        do { return try rows.map(body) } catch {
            throw StoreError(.corrupt, "PostgreSQL at \(location) returned a row marksync-log cannot read while \(what()): \(error)")
        }
    }

    /// Runs a statement that returns no rows.
    func execute(_ query: PostgresQuery, _ what: @autoclosure () -> String) async throws(StoreError) {
        _ = try await fetch(query, what())
    }

    /// Runs `body` in one transaction on one pooled connection: committed when it returns, rolled back
    /// when it throws (a ``StoreError`` it throws comes out unchanged). With `retryable`, a conflict with a
    /// concurrent transaction (a unique key taken, a serialization failure, a deadlock) is
    /// ``StoreError/Code/staleHead``: the caller re-reads and tries again.
    func transaction<T: Sendable>(_ what: String, retryable: Bool = false, _ body: (PostgresConnection) async throws -> T)
        async throws(StoreError) -> T
    {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in
                try await connection.rows("BEGIN", logger)
                do {
                    let value = try await body(connection)
                    try await connection.rows("COMMIT", logger)
                    return value
                } catch {
                    _ = try? await connection.rows("ROLLBACK", logger)
                    throw error
                }
            }
        } catch {
            throw mapError(error, what, retryable: retryable)
        }
    }

    /// A ``StoreError`` for a failure of PostgreSQL or of the connection to it.
    func mapError(_ error: any Error, _ what: String, retryable: Bool = false) -> StoreError {
        Self.mapError(error, what, location: location, retryable: retryable)
    }

    static func mapError(_ error: any Error, _ what: String, location: String, retryable: Bool = false) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "error"
                if retryable, ["23505", "40001", "40P01"].contains(state) {
                    // A unique key taken by a concurrent node, a serialization failure or a deadlock: the caller
                    // re-reads the heads and tries again.
                    return StoreError(.staleHead, "another process wrote to \(location) while \(what): \(message)")
                }
                switch state {
                case "53100":
                    return StoreError(.database, "PostgreSQL at \(location) is out of disk space while \(what): free space on its server")
                default:
                    return StoreError(
                        .database,
                        "PostgreSQL at \(location) failed while \(what): \(message) (SQLSTATE \(state)); check the server's log and retry")
                }
            }
            switch error.code {
            case .connectionError:
                return connectError(error, location: location)
            case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return StoreError(
                    .database,
                    "lost the connection to PostgreSQL at \(location) while \(what) (\(error.code)): check that the server is running; "
                        + "nothing unacknowledged is assumed stored, retry")
            default:
                return StoreError(.database, "PostgreSQL at \(location) failed while \(what): \(error.code) \(error.underlying.map { "\($0)" } ?? "")")
            }
        }
        if error is ConnectionPoolError {
            return StoreError(
                .cannotOpen, "cannot reach PostgreSQL at \(location) while \(what) (\(error)): start it or fix --db/MARKSYNC_DB")
        }
        if error is PostgresDecodingError {
            return StoreError(.corrupt, "PostgreSQL at \(location) returned a row marksync-log cannot read while \(what): \(error)")
        }
        return StoreError(.database, "PostgreSQL at \(location) failed while \(what): \(error)")
    }

    /// A ``StoreError/Code/cannotOpen`` for a failed connection attempt.
    static func connectError(_ error: any Error, location: String) -> StoreError {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState] ?? "?"
                let advice =
                    switch state {
                    case "3D000": "create the database (createdb) or fix --db/MARKSYNC_DB"
                    case "28000", "28P01": "fix the user or password in --db/MARKSYNC_DB, or the server's pg_hba.conf"
                    default: "fix --db/MARKSYNC_DB or the server's configuration"
                    }
                return StoreError(.cannotOpen, "PostgreSQL at \(location) refused the connection: \(message) (SQLSTATE \(state)); \(advice)")
            }
            let reason = error.underlying.map { "\($0)" } ?? "\(error.code)"
            return StoreError(.cannotOpen, "cannot reach PostgreSQL at \(location) (\(reason)): start it or fix --db/MARKSYNC_DB")
        }
        return StoreError(.cannotOpen, "cannot reach PostgreSQL at \(location) (\(error)): start it or fix --db/MARKSYNC_DB")
    }

    // MARK: - Documents, authors, block keys

    func documents() async throws(StoreError) -> [DocumentInfo] {
        try await fetch("SELECT name, head_seq, created_ms FROM documents ORDER BY name", "listing documents") { row in
            let (name, seq, created) = try row.decode((String, Int, Int64).self)
            return DocumentInfo(name: name, headSeq: seq, createdMs: created)
        }
    }

    func createDocument(_ name: String, createdMs: Int64) async throws(StoreError) {
        do {
            _ = try await client.query("INSERT INTO documents(name, created_ms) VALUES (\(name), \(createdMs))", logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError(.documentExists, "document \(name) already exists")
        } catch {
            throw mapError(error, "creating document \(name)")
        }
    }

    func setDocumentCreated(_ name: String, createdMs: Int64) async throws(StoreError) {
        try await execute("UPDATE documents SET created_ms = \(createdMs) WHERE name = \(name)", "setting the creation time of \(name)")
    }

    func documentRow(_ name: String) async throws(StoreError) -> DocumentRow? {
        try await fetch("SELECT id, head_seq, head_hash FROM documents WHERE name = \(name)", "reading document \(name)") { row in
            let (id, seq, hash) = try row.decode((Int64, Int, ByteBuffer).self)
            return DocumentRow(id: id, headSeq: seq, headHash: hash.bytes)
        }.first
    }

    func blockKeys(doc: Int64) async throws(StoreError) -> [Int: String] {
        let rows = try await fetch("SELECT key, block_id FROM block_keys WHERE doc = \(doc)", "reading block keys") { row in
            try row.decode((Int, String).self)
        }
        return Dictionary(rows.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    func authors() async throws(StoreError) -> [Int64: String] {
        let rows = try await fetch("SELECT id, name FROM authors", "reading authors") { row in try row.decode((Int64, String).self) }
        return Dictionary(rows.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    func authorCount() async throws(StoreError) -> Int {
        try await fetch("SELECT count(*) FROM authors", "counting authors") { row in try row.decode(Int.self) }.first ?? 0
    }

    // MARK: - Events

    func rawEvents(doc: Int64, after: Int, through: Int, limit: Int) async throws(StoreError) -> [RawEvent] {
        try await fetch(
            """
            SELECT seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash FROM events
            WHERE doc = \(doc) AND seq > \(after) AND seq <= \(through) ORDER BY seq LIMIT \(max(0, limit))
            """, "reading events"
        ) { row in
            let (seq, ts, author, kind, block, baseSeq, clientID, codec, payload, hash) = try row.decode(
                (Int, Int64, Int64, Int, Int?, Int?, String?, Int, ByteBuffer, ByteBuffer).self)
            return RawEvent(
                seq: seq, timestampMs: ts, author: author, kind: kind, block: block, baseSeq: baseSeq, clientID: clientID, codec: codec,
                payload: payload.bytes, hash: hash.bytes)
        }
    }

    func seqs(doc: Int64, clientIDs: [String]) async throws(StoreError) -> [String: Int] {
        if clientIDs.isEmpty { return [:] }
        let rows = try await fetch(
            "SELECT client_id, seq FROM events WHERE doc = \(doc) AND client_id = ANY(\(clientIDs))", "looking up client message ids"
        ) { row in try row.decode((String, Int).self) }
        return Dictionary(rows.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    func authorsAndTimes(doc: Int64, seqs: [Int]) async throws(StoreError) -> [(seq: Int, author: Int64, ts: Int64)] {
        if seqs.isEmpty { return [] }
        return try await fetch("SELECT seq, author, ts FROM events WHERE doc = \(doc) AND seq = ANY(\(seqs))", "reading event authors") { row in
            let (seq, author, ts) = try row.decode((Int, Int64, Int64).self)
            return (seq, author, ts)
        }
    }

    // MARK: - Checkpoints

    func checkpoint(doc: Int64, atOrBefore seq: Int) async throws(StoreError) -> StoredCheckpoint? {
        try await fetch(
            "SELECT seq, codec, state, hash FROM checkpoints WHERE doc = \(doc) AND seq <= \(seq) ORDER BY seq DESC LIMIT 1",
            "reading a checkpoint", Self.checkpointRow
        ).first
    }

    func checkpoints(doc: Int64) async throws(StoreError) -> [StoredCheckpoint] {
        try await fetch(
            "SELECT seq, codec, state, hash FROM checkpoints WHERE doc = \(doc) ORDER BY seq", "reading checkpoints", Self.checkpointRow)
    }

    private static func checkpointRow(_ row: PostgresRow) throws -> StoredCheckpoint {
        let (seq, codec, state, hash) = try row.decode((Int, Int, ByteBuffer, ByteBuffer).self)
        return StoredCheckpoint(seq: seq, codec: codec, state: state.bytes, hash: hash.bytes)
    }

    func checkpointSeqs(doc: Int64, after: Int, through: Int) async throws(StoreError) -> [Int] {
        try await fetch(
            "SELECT seq FROM checkpoints WHERE doc = \(doc) AND seq > \(after) AND seq <= \(through) ORDER BY seq", "reading checkpoint seqs"
        ) { row in try row.decode(Int.self) }
    }

    func deleteCheckpoints(doc: Int64) async throws(StoreError) {
        try await execute("DELETE FROM checkpoints WHERE doc = \(doc)", "clearing the checkpoints")
    }

    func insertCheckpoints(_ rows: [CheckpointRow]) async throws(StoreError) {
        if rows.isEmpty { return }
        _ = try await transaction("writing checkpoints") { connection in
            try await Self.upsertCheckpoints(rows, on: connection, logger: self.logger)
        }
    }

    /// Stores checkpoints, replacing any at the same (doc, seq) (SQLite's `INSERT OR REPLACE`).
    static func upsertCheckpoints(_ rows: [CheckpointRow], on connection: PostgresConnection, logger: Logger) async throws {
        for row in rows {
            try await connection.rows(
                """
                INSERT INTO checkpoints(doc, seq, codec, state, hash) VALUES (\(row.doc), \(row.seq), \(row.codec), \(row.state), \(row.hash))
                ON CONFLICT (doc, seq) DO UPDATE SET codec = EXCLUDED.codec, state = EXCLUDED.state, hash = EXCLUDED.hash
                """, logger)
        }
    }

    // MARK: - Yjs checkpoints

    func yjsCheckpoints(doc: Int64, atOrBefore seq: Int, format: String, limit: Int) async throws(StoreError) -> [StoredYjsCheckpoint] {
        try await fetch(
            """
            SELECT y.seq, y.codec, y.model FROM yjs_checkpoints y
            JOIN events e ON e.doc = y.doc AND e.seq = y.seq AND e.hash = y.hash
            WHERE y.doc = \(doc) AND y.seq <= \(seq) AND y.format = \(format) ORDER BY y.seq DESC LIMIT \(max(0, limit))
            """, "reading Yjs checkpoints"
        ) { row in
            let (seq, codec, model) = try row.decode((Int, Int, ByteBuffer).self)
            return StoredYjsCheckpoint(seq: seq, codec: codec, model: model.bytes)
        }
    }

    func missingYjsCheckpoints(doc: Int64, after: Int, through: Int, format: String) async throws(StoreError) -> [Int] {
        try await fetch(
            """
            SELECT c.seq FROM checkpoints c WHERE c.doc = \(doc) AND c.seq > \(after) AND c.seq <= \(through)
            AND NOT EXISTS (
                SELECT 1 FROM yjs_checkpoints y JOIN events e ON e.doc = y.doc AND e.seq = y.seq AND e.hash = y.hash
                WHERE y.doc = c.doc AND y.seq = c.seq AND y.format = \(format))
            ORDER BY c.seq
            """, "reading the checkpoints without a Yjs checkpoint"
        ) { row in try row.decode(Int.self) }
    }

    func putYjsCheckpoints(doc: Int64, format: String, _ rows: [StoredYjsCheckpoint]) async throws(StoreError) {
        if rows.isEmpty { return }
        let logger = self.logger
        _ = try await transaction("storing Yjs checkpoints") { connection in
            for row in rows {
                // The hash is the event's: a row written for an event that is not there is not written.
                try await connection.rows(
                    """
                    INSERT INTO yjs_checkpoints(doc, seq, format, codec, model, hash)
                    SELECT doc, seq, \(format), \(row.codec), \(ByteBuffer(bytes: row.model)), hash FROM events
                    WHERE doc = \(doc) AND seq = \(row.seq)
                    ON CONFLICT (doc, seq) DO UPDATE
                    SET format = EXCLUDED.format, codec = EXCLUDED.codec, model = EXCLUDED.model, hash = EXCLUDED.hash
                    """, logger)
            }
        }
    }

    func deleteYjsCheckpoints(doc: Int64, seq: Int?) async throws(StoreError) {
        if let seq {
            try await execute("DELETE FROM yjs_checkpoints WHERE doc = \(doc) AND seq = \(seq)", "deleting a Yjs checkpoint")
        } else {
            try await execute("DELETE FROM yjs_checkpoints WHERE doc = \(doc)", "clearing the Yjs checkpoints")
        }
    }

    func yjsCheckpointStats(doc: Int64) async throws(StoreError) -> (count: Int, bytes: Int) {
        try await fetch(
            "SELECT count(*), coalesce(sum(length(model)), 0)::bigint FROM yjs_checkpoints WHERE doc = \(doc)", "counting Yjs checkpoints"
        ) { row in
            let (count, bytes) = try row.decode((Int, Int).self)
            return (count, bytes)
        }.first ?? (0, 0)
    }

    // MARK: - Consumers

    func cursor(doc: Int64, consumer: String) async throws(StoreError) -> Int? {
        try await fetch("SELECT seq FROM consumers WHERE doc = \(doc) AND name = \(consumer)", "reading the cursor of \(consumer)") { row in
            try row.decode(Int.self)
        }.first
    }

    func setCursor(doc: Int64, consumer: String, seq: Int, updatedMs: Int64, owner: String?) async throws(StoreError) {
        try await execute(
            """
            INSERT INTO consumers(doc, name, seq, updated_ms, owner) VALUES (\(doc), \(consumer), \(seq), \(updatedMs), \(owner))
            ON CONFLICT (doc, name) DO UPDATE SET seq = EXCLUDED.seq, updated_ms = EXCLUDED.updated_ms,
                owner = coalesce(consumers.owner, EXCLUDED.owner)
            """, "storing the cursor of \(consumer)")
    }

    func consumerOwner(doc: Int64, consumer: String) async throws(StoreError) -> String?? {
        let rows = try await fetch("SELECT owner FROM consumers WHERE doc = \(doc) AND name = \(consumer)", "reading the owner of \(consumer)") { row in
            try row.decode(String?.self)
        }
        guard let first = rows.first else { return nil }
        return .some(first)
    }

    func setConsumerTime(doc: Int64, consumer: String, updatedMs: Int64) async throws(StoreError) {
        try await execute(
            "UPDATE consumers SET updated_ms = \(updatedMs) WHERE doc = \(doc) AND name = \(consumer)", "setting the time of \(consumer)")
    }

    func consumers(doc: Int64) async throws(StoreError) -> [ConsumerRow] {
        try await fetch("SELECT name, seq, updated_ms FROM consumers WHERE doc = \(doc) ORDER BY name", "reading consumers") { row in
            let (name, seq, updated) = try row.decode((String, Int, Int64).self)
            return ConsumerRow(name: name, seq: seq, updatedMs: updated)
        }
    }

    // MARK: - README projections

    func recordProjection(doc: Int64, path: String, seq: Int, sha256: String, writtenMs: Int64) async throws(StoreError) {
        try await execute(
            """
            INSERT INTO projections(doc, path, seq, sha256, written_ms, confirmed) VALUES (\(doc), \(path), \(seq), \(sha256), \(writtenMs), false)
            ON CONFLICT (doc, path, seq) DO UPDATE SET sha256 = EXCLUDED.sha256, written_ms = EXCLUDED.written_ms
            """, "recording the projection of seq \(seq) to \(path)")
    }

    func confirmProjection(doc: Int64, path: String, seq: Int) async throws(StoreError) {
        try await execute(
            "UPDATE projections SET confirmed = true WHERE doc = \(doc) AND path = \(path) AND seq = \(seq)",
            "confirming the projection of seq \(seq) to \(path)")
    }

    func projectionSeq(doc: Int64, sha256: String) async throws(StoreError) -> Int? {
        try await fetch("SELECT max(seq) FROM projections WHERE doc = \(doc) AND sha256 = \(sha256)", "looking up a projection") { row in
            try row.decode(Int?.self)
        }.first ?? nil
    }

    func recentProjections(doc: Int64, path: String, before: Int, limit: Int) async throws(StoreError) -> [ProjectionRecord] {
        try await fetch(
            "SELECT seq, sha256, written_ms FROM projections WHERE doc = \(doc) AND path = \(path) AND seq < \(before) ORDER BY seq DESC LIMIT \(limit)",
            "reading the projections of \(path)"
        ) { row in
            let (seq, sha, written) = try row.decode((Int, String, Int64).self)
            return ProjectionRecord(path: path, seq: seq, sha256: sha, writtenMs: written)
        }
    }

    // MARK: - Maintenance

    /// Checks what the database can check cheaply: every document's head is the last of its dense
    /// events, and every event belongs to a document. `verify` does the rest (hash chain, replay).
    func integrityCheck() async throws(StoreError) -> [String] {
        let problems = try await fetch(
            """
            SELECT d.name, d.head_seq, coalesce(e.last, 0), coalesce(e.n, 0) FROM documents d
            LEFT JOIN (SELECT doc, max(seq) AS last, count(*) AS n FROM events GROUP BY doc) e ON e.doc = d.id
            WHERE d.head_seq <> coalesce(e.last, 0) OR coalesce(e.n, 0) <> coalesce(e.last, 0)
            ORDER BY d.name LIMIT 20
            """, "checking the heads"
        ) { row -> String in
            let (name, head, last, count) = try row.decode((String, Int, Int, Int).self)
            return head != last
                ? "document \(name): head_seq is \(head) but its last event is \(last)"
                : "document \(name): \(count) events for seqs 1…\(last) (a gap)"
        }
        let orphans = try await fetch(
            "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = e.doc)", "checking the events"
        ) { row in try row.decode(Int.self) }.first ?? 0
        var out = problems
        if orphans > 0 { out.append("\(orphans) events belong to no document") }
        return out.isEmpty ? ["ok"] : out
    }

    func counts() async throws(StoreError) -> BackendCounts {
        let tables = ["meta", "documents", "authors", "block_keys", "events", "checkpoints", "consumers", "yjs_checkpoints", "schema_migrations"]
        return try await fetch(
            """
            SELECT
                (SELECT count(*) FROM documents),
                (SELECT count(*) FROM events),
                (SELECT count(*) FROM authors),
                (SELECT count(*) FROM checkpoints),
                (SELECT coalesce(sum(length(state)), 0)::bigint FROM checkpoints),
                s.stored, s.decoded, s.lz4,
                (SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::bigint FROM unnest(\(tables)) AS t)
            FROM (
                SELECT coalesce(sum(length(payload)), 0)::bigint AS stored,
                    coalesce(sum(CASE WHEN codec = 1 AND length(payload) >= 4 THEN
                        get_byte(h, 0) + get_byte(h, 1) * 256 + get_byte(h, 2) * 65536 + get_byte(h, 3)::bigint * 16777216
                        ELSE length(payload) END), 0)::bigint AS decoded,
                    count(*) FILTER (WHERE codec = 1 AND length(payload) >= 4) AS lz4
                FROM (SELECT codec, payload, substring(payload FROM 1 FOR 4) AS h FROM events) p
            ) s
            """, "counting the log"
        ) { row in
            let (documents, events, authors, checkpoints, checkpointBytes, stored, decoded, lz4, bytes) = try row.decode(
                (Int, Int, Int, Int, Int, Int, Int, Int, Int).self)
            return BackendCounts(
                documents: documents, events: events, authors: authors, checkpoints: checkpoints, checkpointBytes: checkpointBytes,
                payloadBytesStored: stored, payloadBytesDecoded: decoded, lz4Events: lz4, fileBytes: bytes, walBytes: 0)
        }.first ?? BackendCounts()
    }

    /// PostgreSQL manages its write-ahead log itself.
    func checkpointWAL() async throws(StoreError) {}

    /// `SHOW name` (a server setting, e.g. `synchronous_commit`); nil for a name that is not one.
    /// Every pooled connection has the same settings, so `writer` changes nothing.
    func setting(_ name: String, writer: Bool) async throws(StoreError) -> String? {
        guard !name.isEmpty, name.allSatisfy({ ($0.isASCII && $0.isLetter) || $0 == "_" }) else { return nil }
        do {
            let rows = try await client.query(PostgresQuery(unsafeSQL: "SHOW \(name)"), logger: logger).collect()
            return try rows.first?.decode(String.self)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42704" {
            return nil
        } catch {
            throw mapError(error, "reading the setting \(name)")
        }
    }

    func commitNotifications() -> AsyncStream<(doc: Int64, seq: Int)>? {
        hub.subscribe(configuration: connectionConfiguration, logger: logger)
    }
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var bytes: [UInt8] { [UInt8](readableBytesView) }
}
