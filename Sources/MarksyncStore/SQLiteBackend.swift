import Foundation
import GRDB
import MarksyncCore
import MarksyncMigrations
import Synchronization

/// The embedded backend: one SQLite file in WAL mode (GRDB), `synchronous=FULL`, one writer process.
final class SQLiteBackend: LogBackend {
    let path: String
    let pool: DatabasePool
    var location: String { path }
    var isShared: Bool { false }
    /// The device and inode of the file opened: a log deleted or replaced while open is refused (fail closed).
    let identity: FileIdentity?
    private let lostStorage = Mutex<String?>(nil)

    private init(path: String, pool: DatabasePool) {
        self.path = path
        self.pool = pool
        self.identity = FileIdentity(path: path)
    }

    /// The device and inode of a file.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    func storageProblem() -> String? {
        if let problem = lostStorage.withLock({ $0 }) { return problem }
        guard let identity else { return nil }
        let problem: String
        if let now = FileIdentity(path: path) {
            if now == identity { return nil }
            problem = "the log file \(path) was replaced while serving (another file is at its path now)"
        } else {
            problem = "the log file \(path) was deleted while serving"
        }
        let message = problem + "; nothing more is stored or acked. Stop the server, restore the log, and restart"
        return lostStorage.withLock { stored in
            if stored == nil { stored = message }
            return stored
        }
    }

    /// Throws ``StoreError/Code/storage`` when the log's file is gone or replaced.
    private func checkStorage() throws(StoreError) {
        if let problem = storageProblem() { throw StoreError(.storage, problem) }
    }

    /// Opens (or creates) a log file, applying the numbered migrations of `migrations/` in order.
    static func open(path: String, options: EventLog.Options) async throws(StoreError) -> SQLiteBackend {
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
        return SQLiteBackend(path: path, pool: pool)
    }

    /// Runs a short read transaction.
    private func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do { return try await pool.read(body) } catch let error as StoreError { throw error } catch {
            throw StoreError(.database, "reading the log failed: \(error)")
        }
    }

    /// Runs a write transaction.
    private func write<T: Sendable>(_ what: String, _ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        try checkStorage()
        do { return try await pool.write(body) } catch let error as StoreError { throw error } catch {
            throw StoreError(.database, "\(what) failed: \(error)")
        }
    }

    // MARK: - Documents, authors, block keys

    func documents() async throws(StoreError) -> [DocumentInfo] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT name, head_seq, created_ms FROM documents ORDER BY name").map {
                DocumentInfo(name: $0[0], headSeq: $0[1], createdMs: $0[2])
            }
        }
    }

    func createDocument(_ name: String, createdMs: Int64) async throws(StoreError) {
        do {
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO documents(name, created_ms) VALUES (?, ?)", arguments: [name, createdMs])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError(.documentExists, "document \(name) already exists")
        } catch {
            throw StoreError(.database, "cannot create document \(name): \(error)")
        }
    }

    func setDocumentCreated(_ name: String, createdMs: Int64) async throws(StoreError) {
        try await write("setting the creation time of \(name)") { db in
            try db.execute(sql: "UPDATE documents SET created_ms = ? WHERE name = ?", arguments: [createdMs, name])
        }
    }

    func documentRow(_ name: String) async throws(StoreError) -> DocumentRow? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT id, head_seq, head_hash FROM documents WHERE name = ?", arguments: [name]).map {
                DocumentRow(id: $0[0], headSeq: $0[1], headHash: [UInt8]($0[2] as Data))
            }
        }
    }

    func blockKeys(doc: Int64) async throws(StoreError) -> [Int: String] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT key, block_id FROM block_keys WHERE doc = ?", arguments: [doc]).map {
                (key: $0[0] as Int, id: $0[1] as String)
            }
        }
        return Dictionary(rows.map { ($0.key, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    func authors() async throws(StoreError) -> [Int64: String] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, name FROM authors").map { (id: $0[0] as Int64, name: $0[1] as String) }
        }
        return Dictionary(rows.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    func authorCount() async throws(StoreError) -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM authors") ?? 0 }
    }

    // MARK: - Events

    func rawEvents(doc: Int64, after: Int, through: Int, limit: Int) async throws(StoreError) -> [RawEvent] {
        try await read { db in
            var out = [RawEvent]()
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash FROM events
                    WHERE doc = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?
                    """, arguments: [doc, after, through, limit])
            while let row = try cursor.next() {
                out.append(
                    RawEvent(
                        seq: row[0], timestampMs: row[1], author: row[2], kind: row[3], block: row[4], baseSeq: row[5], clientID: row[6],
                        codec: row[7], payload: [UInt8](row[8] as Data), hash: [UInt8](row[9] as Data)))
            }
            return out
        }
    }

    func historyEvents(doc: Int64, _ query: HistoryQuery) async throws(StoreError) -> [RawEvent] {
        var sql = "SELECT seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash FROM events WHERE doc = ? AND seq > ? AND seq <= ?"
        var arguments: StatementArguments = [doc, query.after, query.through]
        if let block = query.block {
            sql += " AND block = ?"
            arguments += [block]
        }
        if let author = query.author {
            sql += " AND author = ?"
            arguments += [author]
        }
        if let kinds = query.kinds {
            sql += " AND kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))"
            arguments += StatementArguments(kinds)
        }
        if let since = query.sinceMs {
            sql += " AND ts >= ?"
            arguments += [since]
        }
        if let until = query.untilMs {
            sql += " AND ts <= ?"
            arguments += [until]
        }
        sql += query.newestFirst ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq LIMIT ?"
        arguments += [max(0, query.limit)]
        let statementArguments = arguments
        return try await read { [sql] db in
            var out = [RawEvent]()
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: statementArguments)
            while let row = try cursor.next() {
                out.append(
                    RawEvent(
                        seq: row[0], timestampMs: row[1], author: row[2], kind: row[3], block: row[4], baseSeq: row[5], clientID: row[6],
                        codec: row[7], payload: [UInt8](row[8] as Data), hash: [UInt8](row[9] as Data)))
            }
            return out
        }
    }

    func seq(doc: Int64, atOrBeforeMs ms: Int64) async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM events WHERE doc = ? AND ts <= ?", arguments: [doc, ms]) ?? 0
        }
    }

    func seqs(doc: Int64, clientIDs: [String]) async throws(StoreError) -> [String: Int] {
        if clientIDs.isEmpty { return [:] }
        var out = [String: Int]()
        for chunk in stride(from: 0, to: clientIDs.count, by: 500).map({ Array(clientIDs[$0..<min($0 + 500, clientIDs.count)]) }) {
            let rows = try await read { db in
                try Row.fetchAll(
                    db, sql: "SELECT client_id, seq FROM events WHERE doc = ? AND client_id IN (\(chunk.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments([doc] + chunk)
                ).map { (id: $0[0] as String, seq: $0[1] as Int) }
            }
            for row in rows { out[row.id] = row.seq }
        }
        return out
    }

    func authorsAndTimes(doc: Int64, seqs: [Int]) async throws(StoreError) -> [(seq: Int, author: Int64, ts: Int64)] {
        var out = [(seq: Int, author: Int64, ts: Int64)]()
        for chunk in stride(from: 0, to: seqs.count, by: 500).map({ Array(seqs[$0..<min($0 + 500, seqs.count)]) }) {
            out += try await read { db in
                try Row.fetchAll(
                    db, sql: "SELECT seq, author, ts FROM events WHERE doc = ? AND seq IN (\(chunk.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments([doc] + chunk)
                ).map { (seq: $0[0] as Int, author: $0[1] as Int64, ts: $0[2] as Int64) }
            }
        }
        return out
    }

    func insert(_ batch: InsertBatch) async throws(StoreError) -> InsertResult {
        try checkStorage()
        let result: InsertResult
        do {
            result = try await pool.write { db in
                // Checked again inside the transaction, just before the commit.
                try self.checkStorage()
                return try Self.insert(db, batch)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "the append failed: \(error)")
        }
        // A commit into a file unlinked meanwhile is not durable where the log is: it is not acked.
        try checkStorage()
        return result
    }

    /// Inserts a batch in the current transaction; checks that no other process moved the heads.
    private static func insert(_ db: Database, _ batch: InsertBatch) throws -> InsertResult {
        for (doc, seq) in batch.expectedSeqs {
            let stored = try Int.fetchOne(db, sql: "SELECT head_seq FROM documents WHERE id = ?", arguments: [doc])
            guard stored == seq else { throw StoreError(.staleHead, "another process appended to this log") }
        }
        var authorIDs = batch.authors
        var keys = batch.blockKeys
        var lastKeys = [Int64: Int]()
        var result = InsertResult(authors: [:], keys: [:])
        let insertAuthor = try db.cachedStatement(sql: "INSERT INTO authors(name) VALUES (?)")
        let insertKey = try db.cachedStatement(sql: "INSERT INTO block_keys(doc, key, block_id) VALUES (?, ?, ?)")
        let insertEvent = try db.cachedStatement(
            sql: """
                INSERT INTO events(doc, seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for row in batch.rows {
            let author: Int64
            if let id = authorIDs[row.author] {
                author = id
            } else {
                try insertAuthor.execute(arguments: [row.author])
                author = db.lastInsertedRowID
                authorIDs[row.author] = author
                result.authors[row.author] = author
            }
            var block: Int?
            if let blockID = row.blockID {
                if let key = keys[row.doc]?[blockID] {
                    block = key
                } else {
                    // The next free key, computed once per document (a max over all keys per new block made
                    // a first ingest of n blocks O(n²)).
                    let key = (lastKeys[row.doc] ?? (keys[row.doc]?.values.max() ?? 0)) + 1
                    lastKeys[row.doc] = key
                    try insertKey.execute(arguments: [row.doc, key, blockID])
                    keys[row.doc, default: [:]][blockID] = key
                    result.keys[row.doc, default: [:]][blockID] = key
                    block = key
                }
            }
            try insertEvent.execute(arguments: [
                row.doc, row.seq, row.timestampMs, author, Int(row.kind), block, row.baseSeq, row.clientID, row.codec, row.payload,
                row.hash,
            ])
        }
        let insertCheckpoint = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO checkpoints(doc, seq, codec, state, hash) VALUES (?, ?, ?, ?, ?)")
        for checkpoint in batch.checkpoints {
            try insertCheckpoint.execute(arguments: [checkpoint.doc, checkpoint.seq, checkpoint.codec, checkpoint.state, checkpoint.hash])
        }
        let updateHead = try db.cachedStatement(sql: "UPDATE documents SET head_seq = ?, head_hash = ? WHERE id = ?")
        for head in batch.heads { try updateHead.execute(arguments: [head.seq, head.hash, head.id]) }
        return result
    }

    // MARK: - Checkpoints

    func checkpoint(doc: Int64, atOrBefore seq: Int) async throws(StoreError) -> StoredCheckpoint? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT seq, codec, state, hash FROM checkpoints WHERE doc = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
                arguments: [doc, seq]
            ).map(Self.checkpoint(from:))
        }
    }

    func checkpoints(doc: Int64) async throws(StoreError) -> [StoredCheckpoint] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT seq, codec, state, hash FROM checkpoints WHERE doc = ? ORDER BY seq", arguments: [doc])
                .map(Self.checkpoint(from:))
        }
    }

    private static func checkpoint(from row: Row) -> StoredCheckpoint {
        StoredCheckpoint(seq: row[0], codec: row[1], state: [UInt8](row[2] as Data), hash: [UInt8](row[3] as Data))
    }

    func checkpointSeqs(doc: Int64, after: Int, through: Int) async throws(StoreError) -> [Int] {
        try await read { db in
            try Int.fetchAll(
                db, sql: "SELECT seq FROM checkpoints WHERE doc = ? AND seq > ? AND seq <= ? ORDER BY seq", arguments: [doc, after, through])
        }
    }

    func deleteCheckpoints(doc: Int64) async throws(StoreError) {
        try await write("clearing the checkpoints") { db in try db.execute(sql: "DELETE FROM checkpoints WHERE doc = ?", arguments: [doc]) }
    }

    func insertCheckpoints(_ rows: [CheckpointRow]) async throws(StoreError) {
        try await write("writing checkpoints") { db in
            let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO checkpoints(doc, seq, codec, state, hash) VALUES (?, ?, ?, ?, ?)")
            for row in rows { try insert.execute(arguments: [row.doc, row.seq, row.codec, row.state, row.hash]) }
        }
    }

    // MARK: - Yjs checkpoints

    func yjsCheckpoints(doc: Int64, atOrBefore seq: Int, format: String, limit: Int) async throws(StoreError) -> [StoredYjsCheckpoint] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT y.seq, y.codec, y.model FROM yjs_checkpoints y
                    JOIN events e ON e.doc = y.doc AND e.seq = y.seq AND e.hash = y.hash
                    WHERE y.doc = ? AND y.seq <= ? AND y.format = ? ORDER BY y.seq DESC LIMIT ?
                    """, arguments: [doc, seq, format, limit]
            ).map { StoredYjsCheckpoint(seq: $0[0], codec: $0[1], model: [UInt8]($0[2] as Data)) }
        }
    }

    func missingYjsCheckpoints(doc: Int64, after: Int, through: Int, format: String) async throws(StoreError) -> [Int] {
        try await read { db in
            try Int.fetchAll(
                db,
                sql: """
                    SELECT c.seq FROM checkpoints c WHERE c.doc = ? AND c.seq > ? AND c.seq <= ?
                    AND NOT EXISTS (
                        SELECT 1 FROM yjs_checkpoints y JOIN events e ON e.doc = y.doc AND e.seq = y.seq AND e.hash = y.hash
                        WHERE y.doc = c.doc AND y.seq = c.seq AND y.format = ?)
                    ORDER BY c.seq
                    """, arguments: [doc, after, through, format])
        }
    }

    func putYjsCheckpoints(doc: Int64, format: String, _ rows: [StoredYjsCheckpoint]) async throws(StoreError) {
        try await write("storing a Yjs checkpoint") { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO yjs_checkpoints(doc, seq, format, codec, model, hash)
                    SELECT ?, ?, ?, ?, ?, hash FROM events WHERE doc = ? AND seq = ?
                    """)
            for row in rows {
                try insert.execute(arguments: [doc, row.seq, format, row.codec, Data(row.model), doc, row.seq])
            }
        }
    }

    func deleteYjsCheckpoints(doc: Int64, seq: Int?) async throws(StoreError) {
        try await write("deleting Yjs checkpoints") { db in
            if let seq {
                try db.execute(sql: "DELETE FROM yjs_checkpoints WHERE doc = ? AND seq = ?", arguments: [doc, seq])
            } else {
                try db.execute(sql: "DELETE FROM yjs_checkpoints WHERE doc = ?", arguments: [doc])
            }
        }
    }

    func yjsCheckpointStats(doc: Int64) async throws(StoreError) -> (count: Int, bytes: Int) {
        try await read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT count(*), coalesce(sum(length(model)), 0) FROM yjs_checkpoints WHERE doc = ?", arguments: [doc])
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    // MARK: - Consumers

    func cursor(doc: Int64, consumer: String) async throws(StoreError) -> Int? {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT seq FROM consumers WHERE doc = ? AND name = ?", arguments: [doc, consumer])
        }
    }

    func setCursor(doc: Int64, consumer: String, seq: Int, updatedMs: Int64, owner: String?) async throws(StoreError) {
        try await write("storing the cursor of \(consumer)") { db in
            try db.execute(
                sql: """
                    INSERT INTO consumers(doc, name, seq, updated_ms, owner) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(doc, name) DO UPDATE SET seq = excluded.seq, updated_ms = excluded.updated_ms,
                        owner = coalesce(consumers.owner, excluded.owner)
                    """, arguments: [doc, consumer, seq, updatedMs, owner])
        }
    }

    func consumerOwner(doc: Int64, consumer: String) async throws(StoreError) -> String?? {
        try await read { db -> String?? in
            guard let row = try Row.fetchOne(db, sql: "SELECT owner FROM consumers WHERE doc = ? AND name = ?", arguments: [doc, consumer]) else {
                return nil
            }
            return .some(row[0] as String?)
        }
    }

    func setConsumerTime(doc: Int64, consumer: String, updatedMs: Int64) async throws(StoreError) {
        try await write("storing the time of \(consumer)") { db in
            try db.execute(sql: "UPDATE consumers SET updated_ms = ? WHERE doc = ? AND name = ?", arguments: [updatedMs, doc, consumer])
        }
    }

    func consumers(doc: Int64) async throws(StoreError) -> [ConsumerRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT name, seq, updated_ms FROM consumers WHERE doc = ? ORDER BY name", arguments: [doc]).map {
                ConsumerRow(name: $0[0], seq: $0[1], updatedMs: $0[2])
            }
        }
    }

    // MARK: - README projections

    func recordProjection(doc: Int64, path: String, seq: Int, sha256: String, writtenMs: Int64) async throws(StoreError) {
        try await write("recording the projection of seq \(seq) to \(path)") { db in
            try db.execute(
                sql: """
                    INSERT INTO projections(doc, path, seq, sha256, written_ms, confirmed) VALUES (?, ?, ?, ?, ?, 0)
                    ON CONFLICT(doc, path, seq) DO UPDATE SET sha256 = excluded.sha256, written_ms = excluded.written_ms
                    """, arguments: [doc, path, seq, sha256, writtenMs])
        }
    }

    func confirmProjection(doc: Int64, path: String, seq: Int) async throws(StoreError) {
        try await write("confirming the projection of seq \(seq) to \(path)") { db in
            try db.execute(sql: "UPDATE projections SET confirmed = 1 WHERE doc = ? AND path = ? AND seq = ?", arguments: [doc, path, seq])
        }
    }

    func projectionSeq(doc: Int64, sha256: String) async throws(StoreError) -> Int? {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT max(seq) FROM projections WHERE doc = ? AND sha256 = ?", arguments: [doc, sha256])
        }
    }

    func recentProjections(doc: Int64, path: String, before: Int, limit: Int) async throws(StoreError) -> [ProjectionRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, sha256, written_ms FROM projections WHERE doc = ? AND path = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                arguments: [doc, path, before, limit]
            ).map { ProjectionRecord(path: path, seq: $0[0], sha256: $0[1], writtenMs: $0[2]) }
        }
    }

    // MARK: - Maintenance

    func integrityCheck() async throws(StoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
    }

    func counts() async throws(StoreError) -> BackendCounts {
        var counts = try await read { db -> BackendCounts in
            var counts = BackendCounts()
            counts.documents = try Int.fetchOne(db, sql: "SELECT count(*) FROM documents") ?? 0
            counts.events = try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
            counts.authors = try Int.fetchOne(db, sql: "SELECT count(*) FROM authors") ?? 0
            counts.checkpoints = try Int.fetchOne(db, sql: "SELECT count(*) FROM checkpoints") ?? 0
            counts.checkpointBytes = try Int.fetchOne(db, sql: "SELECT coalesce(sum(length(state)), 0) FROM checkpoints") ?? 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT codec, payload FROM events")
            while let row = try cursor.next() {
                let codec: Int = row[0]
                let payload: Data = row[1]
                counts.payloadBytesStored += payload.count
                if codec == 1, payload.count >= 4 {
                    counts.lz4Events += 1
                    counts.payloadBytesDecoded += Int(payload[0]) | Int(payload[1]) << 8 | Int(payload[2]) << 16 | Int(payload[3]) << 24
                } else {
                    counts.payloadBytesDecoded += payload.count
                }
            }
            return counts
        }
        let size = { (suffix: String) -> Int in
            ((try? FileManager.default.attributesOfItem(atPath: self.path + suffix))?[.size] as? NSNumber)?.intValue ?? 0
        }
        counts.fileBytes = size("")
        counts.walBytes = size("-wal")
        return counts
    }

    func checkpointWAL() async throws(StoreError) {
        do { try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") } } catch {
            throw StoreError(.database, "WAL checkpoint failed: \(error)")
        }
    }

    func setting(_ name: String, writer: Bool) async throws(StoreError) -> String? {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { return nil }
        if !writer { return try await read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") } }
        do { return try await pool.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA \(name)") } } catch {
            throw StoreError(.database, "\(error)")
        }
    }

    func commitNotifications() -> AsyncStream<(doc: Int64, seq: Int)>? { nil }

    func close() async {
        try? pool.close()
    }
}
