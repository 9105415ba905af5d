import Foundation
import MarksyncMigrations
import MarksyncTestSupport
import PostgresNIO
import Synchronization
import Testing

@testable import MarksyncStore

/// The PostgreSQL backend through the ``LogBackend`` protocol, against a real PostgreSQL 15
/// (``LivePostgres``: one server per test process, one database per test). Two backend instances on one
/// database stand for two `serve` nodes.
@Suite struct PostgresBackendTests {
    // MARK: - Helpers

    static func open(_ url: String) async throws -> PostgresBackend {
        try await PostgresBackend.open(url: url, maximumConnections: 4)
    }

    /// A fresh database and a backend on it.
    static func fresh() async throws -> (PostgresBackend, String) {
        let url = try await LivePostgres.database()
        return (try await open(url), url)
    }

    /// Rows of one statement run through the backend's pool.
    static func query(_ backend: PostgresBackend, _ sql: String) async throws -> [PostgresRow] {
        try await backend.client.query(PostgresQuery(unsafeSQL: sql)).collect()
    }

    static func bytes(_ seed: Int, _ count: Int = 24) -> Data { Data((0..<count).map { UInt8(truncatingIfNeeded: seed &* 31 &+ $0) }) }

    static func row(
        _ doc: Int64, _ seq: Int, author: String = "alice", block: String? = "b1", client: String? = nil, baseSeq: Int? = nil,
        codec: Int = 0, payload: Data? = nil
    ) -> EventRow {
        EventRow(
            doc: doc, seq: seq, timestampMs: 1_700_000_000_000 + Int64(seq), author: author, kind: 3, blockID: block, baseSeq: baseSeq,
            clientID: client, codec: codec, payload: payload ?? bytes(seq), hash: bytes(1000 + seq, 32))
    }

    /// A batch appending `rows` to documents whose heads are `expected`; the heads move to the last rows.
    static func batch(
        _ rows: [EventRow], expected: [Int64: Int], authors: [String: Int64] = [:], keys: [Int64: [String: Int]] = [:],
        checkpoints: [CheckpointRow] = []
    ) -> InsertBatch {
        var heads: [Int64: (seq: Int, hash: Data)] = [:]
        for (doc, seq) in expected { heads[doc] = (seq, Data()) }
        for row in rows where row.seq > (heads[row.doc]?.seq ?? 0) { heads[row.doc] = (row.seq, row.hash) }
        return InsertBatch(
            rows: rows, checkpoints: checkpoints, heads: heads.map { (id: $0.key, seq: $0.value.seq, hash: $0.value.hash) },
            expectedSeqs: expected, authors: authors, blockKeys: keys)
    }

    static func docID(_ backend: PostgresBackend, _ name: String) async throws -> Int64 {
        try #require(try await backend.documentRow(name)).id
    }

    static func expectStoreError(_ code: StoreError.Code, _ body: () async throws -> Void) async -> StoreError? {
        do {
            try await body()
            Issue.record("expected StoreError(\(code)), got success")
            return nil
        } catch let error as StoreError {
            #expect(error.code == code, "\(error.message)")
            return error
        } catch {
            Issue.record("expected StoreError(\(code)), got \(error)")
            return nil
        }
    }

    // MARK: - Opening and migrations

    @Test func migrationsAreAppliedOnceAndRecorded() async throws {
        let url = try await LivePostgres.database()
        // Three nodes starting at once on an empty database: one applies the migrations, the others wait.
        async let first = Self.open(url)
        async let second = Self.open(url)
        async let third = Self.open(url)
        let nodes = try await [first, second, third]
        let applied = try await Self.query(nodes[0], "SELECT id, applied_ms FROM schema_migrations ORDER BY id").map {
            try $0.decode((String, Int64).self)
        }
        #expect(applied.map(\.0) == PostgresMigrations.all.map(\.id))
        let meta = try await Self.query(nodes[0], "SELECT key FROM meta ORDER BY key").map { try $0.decode(String.self) }
        #expect(meta == ["created_by", "log_format"])
        for node in nodes { await node.close() }

        // A second open is a no-op: the same rows, the same times.
        let again = try await Self.open(url)
        let reapplied = try await Self.query(again, "SELECT id, applied_ms FROM schema_migrations ORDER BY id").map {
            try $0.decode((String, Int64).self)
        }
        #expect(reapplied.map(\.0) == applied.map(\.0) && reapplied.map(\.1) == applied.map(\.1))
        #expect(try await again.documents().isEmpty)
        await again.close()

        // A database migrated by a newer binary is refused, with the SQLite path's wording.
        try await LivePostgres.execute("INSERT INTO schema_migrations(id, applied_ms) VALUES ('9999_from_the_future', 0)", in: url)
        let error = await Self.expectStoreError(.newerFormat) { _ = try await Self.open(url) }
        #expect(error?.message.contains("written by a newer marksync-log") == true)
        #expect(error?.message.contains("9999_from_the_future") == true)
        #expect(error?.message.contains("Upgrade marksync-log to open it") == true)
    }

    @Test func splitsMigrationFilesIntoStatements() {
        let statements = PostgresBackend.splitSQL(
            """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b', y text); /* block; comment */
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
            ALTER TABLE a ADD COLUMN "we;ird" int
            """)
        #expect(statements.count == 3)
        #expect(statements[0] == "CREATE TABLE a (x text DEFAULT 'a;b', y text)")
        #expect(statements[1].hasSuffix("$$ SELECT 1; $$ LANGUAGE sql"))
        #expect(statements[2] == "ALTER TABLE a ADD COLUMN \"we;ird\" int")
        #expect(PostgresBackend.splitSQL(PostgresMigrations.all[0].sql).count >= 10)
    }

    @Test func unreachableServersAndMissingDatabasesAreCannotOpen() async throws {
        let port = try LivePostgres.freePort()
        let error = await Self.expectStoreError(.cannotOpen) {
            _ = try await PostgresBackend.open(url: "postgres://marksync:secret@127.0.0.1:\(port)/nothing?sslmode=disable")
        }
        #expect(error?.message.contains("cannot reach PostgreSQL at postgres://marksync@127.0.0.1:\(port)/nothing") == true)
        #expect(error?.message.contains("start it or fix --db/MARKSYNC_DB") == true)
        #expect(error?.message.contains("secret") == false)

        let server = try await LivePostgres.shared.server()
        let missing = await Self.expectStoreError(.cannotOpen) {
            _ = try await PostgresBackend.open(url: "postgresql://postgres@127.0.0.1:\(server.port)/no_such_database")
        }
        #expect(missing?.message.contains("3D000") == true)
        _ = await Self.expectStoreError(.cannotOpen) { _ = try await PostgresBackend.open(url: "mysql://x@y/z") }
        _ = await Self.expectStoreError(.cannotOpen) {
            _ = try await PostgresBackend.open(url: "postgres://x@127.0.0.1:\(server.port)/z?sslmode=verify-full")
        }

        // The location never shows the password.
        let url = try await LivePostgres.database()
        let backend = try await Self.open(url.replacingOccurrences(of: "postgres://postgres@", with: "postgres://postgres:hunter2@"))
        #expect(!backend.location.contains("hunter2") && backend.location.hasPrefix("postgres://postgres@127.0.0.1:"))
        #expect(backend.isShared)
        await backend.close()
    }

    // MARK: - Documents, events

    @Test func createsAndListsDocuments() async throws {
        let (backend, _) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("b", createdMs: 2)
        try await backend.createDocument("é", createdMs: 3)
        try await backend.createDocument("a", createdMs: 1)
        try await backend.createDocument("Z", createdMs: 4)
        // Byte order, as SQLite sorts: "Z" < "a" < "b" < "é".
        #expect(try await backend.documents().map(\.name) == ["Z", "a", "b", "é"])
        #expect(try await backend.documents().map(\.createdMs) == [4, 1, 2, 3])
        _ = await Self.expectStoreError(.documentExists) { try await backend.createDocument("a", createdMs: 9) }
        let row = try #require(try await backend.documentRow("a"))
        #expect(row.headSeq == 0 && row.headHash.isEmpty)
        #expect(try await backend.documentRow("nope") == nil)
        try await backend.setDocumentCreated("a", createdMs: 42)
        #expect(try await backend.documents().first { $0.name == "a" }?.createdMs == 42)
    }

    @Test func insertsBatchesWithNewAuthorsAndKeysAndReadsThemBack() async throws {
        let (backend, _) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("demo", createdMs: 1)
        let doc = try await Self.docID(backend, "demo")
        let lz4Payload = Data([100, 0, 0, 0, 9, 9, 9])  // an LZ4 row: 100 bytes once decoded
        let rows = [
            Self.row(doc, 1, author: "alice", block: "intro", client: "c1"),
            Self.row(doc, 2, author: "bob", block: "code", client: nil, baseSeq: 1, codec: 1, payload: lz4Payload),
            Self.row(doc, 3, author: "alice", block: nil, client: "c3"),
        ]
        let first = try await backend.insert(Self.batch(rows, expected: [doc: 0]))
        #expect(Set(first.authors.keys) == ["alice", "bob"])
        #expect(first.keys[doc] == ["intro": 1, "code": 2])

        let head = try #require(try await backend.documentRow("demo"))
        #expect(head.headSeq == 3 && head.headHash == [UInt8](rows[2].hash))
        let page1 = try await backend.rawEvents(doc: doc, after: 0, through: Int.max, limit: 2)
        let page2 = try await backend.rawEvents(doc: doc, after: 2, through: Int.max, limit: 2)
        #expect(page1.map(\.seq) == [1, 2] && page2.map(\.seq) == [3])
        #expect(try await backend.rawEvents(doc: doc, after: 0, through: 2, limit: 100).map(\.seq) == [1, 2])
        let second = page1[1]
        #expect(second.author == first.authors["bob"] && second.block == 2 && second.baseSeq == 1 && second.clientID == nil)
        #expect(second.codec == 1 && second.payload == [UInt8](lz4Payload) && second.hash == [UInt8](rows[1].hash))
        #expect(second.kind == 3 && second.timestampMs == 1_700_000_000_002)
        #expect(page2[0].block == nil && page2[0].clientID == "c3")
        #expect(try await backend.seqs(doc: doc, clientIDs: ["c1", "c3", "unknown"]) == ["c1": 1, "c3": 3])
        #expect(try await backend.seqs(doc: doc, clientIDs: []) == [:])
        let times = try await backend.authorsAndTimes(doc: doc, seqs: [3, 1]).sorted { $0.seq < $1.seq }
        #expect(times.map(\.seq) == [1, 3] && times.map(\.author) == [first.authors["alice"], first.authors["alice"]])
        #expect(times.map(\.ts) == [1_700_000_000_001, 1_700_000_000_003])
        #expect(try await backend.authors() == Dictionary(uniqueKeysWithValues: first.authors.map { ($0.value, $0.key) }))
        #expect(try await backend.authorCount() == 2)
        #expect(try await backend.blockKeys(doc: doc) == [1: "intro", 2: "code"])

        // A second batch from a process that knows them: only the new author and block come back.
        let more = [Self.row(doc, 4, author: "alice", block: "code"), Self.row(doc, 5, author: "carol", block: "outro")]
        let result = try await backend.insert(
            Self.batch(more, expected: [doc: 3], authors: first.authors, keys: [doc: ["intro": 1, "code": 2]]))
        #expect(Set(result.authors.keys) == ["carol"])
        #expect(result.keys[doc] == ["outro": 3])
        #expect(try await backend.rawEvents(doc: doc, after: 3, through: Int.max, limit: 10).map(\.block) == [2, 3])

        // A process that does not know a block another process created gets the stored key, not a new one.
        let stale = try await backend.insert(Self.batch([Self.row(doc, 6, author: "bob", block: "outro")], expected: [doc: 5]))
        #expect(stale.keys[doc] == ["outro": 3] && stale.authors["bob"] == first.authors["bob"])
        #expect(try await backend.blockKeys(doc: doc).count == 3)

        let counts = try await backend.counts()
        #expect(counts.documents == 1 && counts.events == 6 && counts.authors == 3 && counts.lz4Events == 1)
        let rawBytes = rows.enumerated().filter { $0.offset != 1 }.map(\.element.payload.count).reduce(0, +) + 3 * 24
        #expect(counts.payloadBytesStored == rawBytes + lz4Payload.count)
        #expect(counts.payloadBytesDecoded == rawBytes + 100)
        #expect(counts.fileBytes > 0 && counts.walBytes == 0)
        #expect(try await backend.integrityCheck() == ["ok"])
    }

    @Test func groupCommitsOfThousandsOfRowsOverSeveralDocuments() async throws {
        let (backend, _) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("one", createdMs: 1)
        try await backend.createDocument("two", createdMs: 1)
        let one = try await Self.docID(backend, "one")
        let two = try await Self.docID(backend, "two")
        var rows = [EventRow]()
        for seq in 1...2500 {
            rows.append(Self.row(one, seq, author: "w\(seq % 7)", block: "block\(seq % 50)", client: "one-\(seq)"))
            if seq <= 700 { rows.append(Self.row(two, seq, author: "w\(seq % 3)", block: "block\(seq % 5)", client: "two-\(seq)")) }
        }
        let clock = ContinuousClock()
        let started = clock.now
        let result = try await backend.insert(Self.batch(rows, expected: [one: 0, two: 0]))
        let elapsed = clock.now - started
        print("PostgresBackend: one group commit of \(rows.count) rows took \(elapsed)")
        #expect(result.keys[one]?.count == 50 && result.keys[two]?.count == 5 && result.authors.count == 7)
        var seqs = [Int]()
        var after = 0
        while true {
            let page = try await backend.rawEvents(doc: one, after: after, through: Int.max, limit: 1000)
            if page.isEmpty { break }
            seqs += page.map(\.seq)
            after = page.last!.seq
        }
        #expect(seqs == Array(1...2500))
        #expect(try await backend.documentRow("two")?.headSeq == 700)
        #expect(try await backend.seqs(doc: two, clientIDs: ["two-700", "two-701"]) == ["two-700": 700])
        #expect(try await backend.counts().events == 3200)
    }

    // MARK: - Concurrency between nodes

    @Test func aStaleExpectedHeadStoresNothing() async throws {
        let (backend, _) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("a", createdMs: 1)
        try await backend.createDocument("b", createdMs: 1)
        let a = try await Self.docID(backend, "a")
        let b = try await Self.docID(backend, "b")
        _ = try await backend.insert(Self.batch([Self.row(a, 1)], expected: [a: 0]))
        // Document b is as expected, a is not: nothing of the batch is stored, for either document (a's row
        // at seq 2 collides with nothing: only the head check refuses it).
        let rows = [Self.row(b, 1, author: "new-author", block: "new-block"), Self.row(a, 2, author: "new-author")]
        let error = await Self.expectStoreError(.staleHead) { _ = try await backend.insert(Self.batch(rows, expected: [a: 0, b: 0])) }
        #expect(error != nil)
        #expect(try await backend.documentRow("b")?.headSeq == 0)
        #expect(try await backend.rawEvents(doc: b, after: 0, through: Int.max, limit: 10).isEmpty)
        #expect(try await backend.documentRow("a")?.headSeq == 1)
        #expect(try await backend.rawEvents(doc: a, after: 0, through: Int.max, limit: 10).map(\.seq) == [1])
        #expect(try await backend.authors().values.sorted() == ["alice"])
        #expect(try await backend.blockKeys(doc: b).isEmpty)
    }

    @Test func aClientIDStoredByAnotherNodeIsStaleHead() async throws {
        let (nodeA, url) = try await Self.fresh()
        let nodeB = try await Self.open(url)
        defer { Task { await nodeA.close(); await nodeB.close() } }
        try await nodeA.createDocument("doc", createdMs: 1)
        let doc = try await Self.docID(nodeA, "doc")
        _ = try await nodeA.insert(Self.batch([Self.row(doc, 1, client: "msg-1")], expected: [doc: 0]))
        // Node B believes the head is 1 (it is), and stores the same client message id again: refused.
        let error = await Self.expectStoreError(.staleHead) {
            _ = try await nodeB.insert(Self.batch([Self.row(doc, 2, author: "bob", client: "msg-1")], expected: [doc: 1]))
        }
        #expect(error?.message.contains("another process") == true)
        #expect(try await nodeB.documentRow("doc")?.headSeq == 1)
        #expect(try await nodeB.rawEvents(doc: doc, after: 0, through: Int.max, limit: 10).map(\.seq) == [1])
        #expect(try await nodeB.authors().values.contains("bob") == false)
        // A row at a seq already taken (a node that skipped the head check) is refused the same way.
        let taken = await Self.expectStoreError(.staleHead) {
            _ = try await nodeB.insert(Self.batch([Self.row(doc, 1, client: "msg-2")], expected: [:]))
        }
        #expect(taken != nil)
    }

    @Test func twoNodesRacingForTheSameHeadHaveOneWinnerEachTime() async throws {
        let (nodeA, url) = try await Self.fresh()
        let nodeB = try await Self.open(url)
        defer { Task { await nodeA.close(); await nodeB.close() } }
        try await nodeA.createDocument("race", createdMs: 1)
        let doc = try await Self.docID(nodeA, "race")
        var winners = [String]()
        for round in 0..<25 {
            let head = round
            async let a: Result<InsertResult, StoreError> = Self.attempt(
                nodeA, Self.batch([Self.row(doc, head + 1, author: "A", block: "a\(round)")], expected: [doc: head]))
            async let b: Result<InsertResult, StoreError> = Self.attempt(
                nodeB, Self.batch([Self.row(doc, head + 1, author: "B", block: "b\(round)")], expected: [doc: head]))
            let (ra, rb) = await (a, b)
            let okA = (try? ra.get()) != nil
            let okB = (try? rb.get()) != nil
            #expect(okA != okB, "round \(round): exactly one insert must win (A \(okA), B \(okB))")
            for result in [ra, rb] {
                if case .failure(let error) = result { #expect(error.code == .staleHead, "\(error)") }
            }
            winners.append(okA ? "A" : "B")
        }
        let events = try await nodeA.rawEvents(doc: doc, after: 0, through: Int.max, limit: 100)
        #expect(events.map(\.seq) == Array(1...25))
        let names = try await nodeA.authors()
        #expect(events.map { names[$0.author] ?? "?" } == winners)
        #expect(try await nodeB.documentRow("race")?.headSeq == 25)
        // Keys stay unique and dense per document although both nodes created blocks.
        #expect(try await nodeA.blockKeys(doc: doc).keys.sorted() == Array(1...25))
        #expect(try await nodeA.integrityCheck() == ["ok"])
    }

    static func attempt(_ backend: PostgresBackend, _ batch: InsertBatch) async -> Result<InsertResult, StoreError> {
        do { return .success(try await backend.insert(batch)) } catch { return .failure(error) }
    }

    /// Collects a stream's wake-ups in the background, so that a test waits for them with a timeout.
    final class WakeUps: Sendable {
        private final class Box: Sendable {
            let seen = Mutex<[(doc: Int64, seq: Int)]>([])
            let ended = Mutex(false)
        }
        private let box = Box()
        private let task: Task<Void, Never>

        init(_ stream: AsyncStream<(doc: Int64, seq: Int)>) {
            let box = self.box
            task = Task {
                for await wakeUp in stream { box.seen.withLock { $0.append(wakeUp) } }
                box.ended.withLock { $0 = true }
            }
        }

        var all: [(doc: Int64, seq: Int)] { box.seen.withLock { $0 } }
        var isEnded: Bool { box.ended.withLock { $0 } }

        /// Whether a wake-up for `doc` at `seq` arrives within ten seconds.
        func wait(doc: Int64, seq: Int) async throws -> Bool {
            try await waitUntil(timeout: .seconds(10)) { self.all.contains { $0.doc == doc && $0.seq == seq } }
        }
    }

    @Test func anotherNodeIsNotifiedOfCommits() async throws {
        let (nodeA, url) = try await Self.fresh()
        let nodeB = try await Self.open(url)
        defer { Task { await nodeA.close() } }
        try await nodeA.createDocument("live", createdMs: 1)
        let doc = try await Self.docID(nodeA, "live")
        let wakeUps = WakeUps(try #require(nodeB.commitNotifications()))
        // The listener wakes every document at its head once it listens: after this, a wake-up is a NOTIFY.
        #expect(try await wakeUps.wait(doc: doc, seq: 0))
        _ = try await nodeA.insert(Self.batch([Self.row(doc, 1), Self.row(doc, 2)], expected: [doc: 0]))
        #expect(try await wakeUps.wait(doc: doc, seq: 2))
        #expect(!wakeUps.all.contains { $0.seq == 1 }, "one wake-up per document and commit, at its new head")
        _ = try await nodeB.insert(Self.batch([Self.row(doc, 3)], expected: [doc: 2]))
        #expect(try await wakeUps.wait(doc: doc, seq: 3))
        // A rejected insert notifies nothing (NOTIFY is transactional).
        _ = await Self.expectStoreError(.staleHead) { _ = try await nodeA.insert(Self.batch([Self.row(doc, 9)], expected: [doc: 8])) }

        // The listening connection is killed: the listener connects, listens again and wakes every document
        // at its head (commits made meanwhile are not missed); later commits wake it up as before.
        let listener = "application_name = '\(PostgresBackend.listenerName)' AND datname = current_database()"
        let old = try await Self.query(nodeA, "SELECT pid FROM pg_stat_activity WHERE \(listener)").map { try $0.decode(Int32.self) }
        #expect(old.count == 1)
        _ = try await Self.query(nodeA, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE \(listener)")
        // Listening again once its last statement is the wake-up query that follows LISTEN.
        #expect(
            try await waitUntil(timeout: .seconds(20)) {
                try await Self.query(
                    nodeA,
                    "SELECT pid FROM pg_stat_activity WHERE \(listener) AND pid <> \(old[0]) AND query = 'SELECT id, head_seq FROM documents'"
                ).count == 1
            })
        #expect(try await waitUntil(timeout: .seconds(10)) { wakeUps.all.filter { $0.doc == doc && $0.seq == 3 }.count == 2 })
        _ = try await nodeA.insert(Self.batch([Self.row(doc, 4)], expected: [doc: 3]))
        #expect(try await wakeUps.wait(doc: doc, seq: 4))
        #expect(!wakeUps.all.contains { $0.seq > 4 })

        await nodeB.close()
        // Closing ends the stream.
        #expect(try await waitUntil(timeout: .seconds(10)) { wakeUps.isEnded })
    }

    // MARK: - Checkpoints, Yjs checkpoints, cursors, settings

    @Test func storesAndReadsCheckpoints() async throws {
        let (backend, _) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("doc", createdMs: 1)
        let doc = try await Self.docID(backend, "doc")
        let rows = (1...6).map { Self.row(doc, $0) }
        let checkpoints = [2, 4].map { CheckpointRow(doc: doc, seq: $0, codec: 0, state: Self.bytes(500 + $0, 40), hash: rows[$0 - 1].hash) }
        _ = try await backend.insert(Self.batch(rows, expected: [doc: 0], checkpoints: checkpoints))
        #expect(try await backend.checkpoint(doc: doc, atOrBefore: 1) == nil)
        #expect(try await backend.checkpoint(doc: doc, atOrBefore: 3)?.seq == 2)
        let atFive = try #require(try await backend.checkpoint(doc: doc, atOrBefore: 5))
        #expect(atFive.seq == 4 && atFive.state == [UInt8](Self.bytes(504, 40)) && atFive.hash == [UInt8](rows[3].hash))
        #expect(try await backend.checkpoints(doc: doc).map(\.seq) == [2, 4])
        #expect(try await backend.checkpointSeqs(doc: doc, after: 2, through: 6) == [4])
        // insertCheckpoints replaces a row at the same seq (SQLite's INSERT OR REPLACE).
        try await backend.insertCheckpoints([
            CheckpointRow(doc: doc, seq: 4, codec: 1, state: Data([1, 2, 3]), hash: rows[3].hash),
            CheckpointRow(doc: doc, seq: 6, codec: 0, state: Data([6]), hash: rows[5].hash),
        ])
        let replaced = try await backend.checkpoints(doc: doc)
        #expect(replaced.map(\.seq) == [2, 4, 6] && replaced[1].codec == 1 && replaced[1].state == [1, 2, 3])
        let counts = try await backend.counts()
        #expect(counts.checkpoints == 3 && counts.checkpointBytes == 40 + 3 + 1)
        try await backend.deleteCheckpoints(doc: doc)
        #expect(try await backend.checkpoints(doc: doc).isEmpty)
    }

    @Test func yjsCheckpointsAreIgnoredOnceTheirEventsHashChanges() async throws {
        let (backend, url) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("doc", createdMs: 1)
        let doc = try await Self.docID(backend, "doc")
        let rows = (1...4).map { Self.row(doc, $0) }
        let checkpoints = [2, 4].map { CheckpointRow(doc: doc, seq: $0, codec: 0, state: Data([1]), hash: rows[$0 - 1].hash) }
        _ = try await backend.insert(Self.batch(rows, expected: [doc: 0], checkpoints: checkpoints))
        let format = "marksync-yjs/1 c1"
        #expect(try await backend.missingYjsCheckpoints(doc: doc, after: 0, through: 4, format: format) == [2, 4])
        try await backend.putYjsCheckpoints(
            doc: doc, format: format,
            [
                StoredYjsCheckpoint(seq: 2, codec: 0, model: [2, 2]), StoredYjsCheckpoint(seq: 4, codec: 1, model: [4, 4, 4, 4]),
                // No event 9: not stored.
                StoredYjsCheckpoint(seq: 9, codec: 0, model: [9]),
            ])
        let stats2 = try await backend.yjsCheckpointStats(doc: doc)
        #expect(stats2.count == 2 && stats2.bytes == 6)
        let newest = try await backend.yjsCheckpoints(doc: doc, atOrBefore: 4, format: format, limit: 2)
        #expect(newest.map(\.seq) == [4, 2] && newest[0].model == [4, 4, 4, 4] && newest[0].codec == 1)
        #expect(try await backend.yjsCheckpoints(doc: doc, atOrBefore: 3, format: format, limit: 2).map(\.seq) == [2])
        #expect(try await backend.yjsCheckpoints(doc: doc, atOrBefore: 4, format: "other", limit: 2).isEmpty)
        #expect(try await backend.missingYjsCheckpoints(doc: doc, after: 0, through: 4, format: format) == [])
        #expect(try await backend.missingYjsCheckpoints(doc: doc, after: 0, through: 4, format: "other") == [2, 4])
        // The stored hash is the event's: once the event at 4 changes, its Yjs checkpoint is ignored.
        let stored = try await Self.query(backend, "SELECT hash FROM yjs_checkpoints WHERE seq = 4").map { try $0.decode(Data.self) }
        #expect(stored == [rows[3].hash])
        try await LivePostgres.execute("UPDATE events SET hash = '\\x00'::bytea WHERE seq = 4", in: url)
        #expect(try await backend.yjsCheckpoints(doc: doc, atOrBefore: 4, format: format, limit: 2).map(\.seq) == [2])
        #expect(try await backend.missingYjsCheckpoints(doc: doc, after: 0, through: 4, format: format) == [4])
        // Writing it again takes the event's new hash.
        try await backend.putYjsCheckpoints(doc: doc, format: format, [StoredYjsCheckpoint(seq: 4, codec: 0, model: [5])])
        #expect(try await backend.yjsCheckpoints(doc: doc, atOrBefore: 4, format: format, limit: 1).map(\.model) == [[5]])
        try await backend.deleteYjsCheckpoints(doc: doc, seq: 2)
        let stats1 = try await backend.yjsCheckpointStats(doc: doc)
        #expect(stats1.count == 1 && stats1.bytes == 1)
        try await backend.deleteYjsCheckpoints(doc: doc, seq: nil)
        let stats0 = try await backend.yjsCheckpointStats(doc: doc)
        #expect(stats0.count == 0 && stats0.bytes == 0)
    }

    @Test func storesConsumerCursors() async throws {
        let (backend, _) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("doc", createdMs: 1)
        let doc = try await Self.docID(backend, "doc")
        #expect(try await backend.cursor(doc: doc, consumer: "reviewer") == nil)
        try await backend.setCursor(doc: doc, consumer: "reviewer", seq: 3, updatedMs: 10)
        try await backend.setCursor(doc: doc, consumer: "editor", seq: 1, updatedMs: 11)
        try await backend.setCursor(doc: doc, consumer: "reviewer", seq: 5, updatedMs: 12)
        #expect(try await backend.cursor(doc: doc, consumer: "reviewer") == 5)
        try await backend.setConsumerTime(doc: doc, consumer: "editor", updatedMs: 99)
        let consumers = try await backend.consumers(doc: doc)
        #expect(consumers.map(\.name) == ["editor", "reviewer"])
        #expect(consumers.map(\.seq) == [1, 5] && consumers.map(\.updatedMs) == [99, 12])
    }

    @Test func integrityCheckAndSettings() async throws {
        let (backend, url) = try await Self.fresh()
        defer { Task { await backend.close() } }
        try await backend.createDocument("doc", createdMs: 1)
        let doc = try await Self.docID(backend, "doc")
        _ = try await backend.insert(Self.batch((1...3).map { Self.row(doc, $0) }, expected: [doc: 0]))
        #expect(try await backend.integrityCheck() == ["ok"])
        try await LivePostgres.execute("UPDATE documents SET head_seq = 7", in: url)
        #expect(try await backend.integrityCheck() == ["document doc: head_seq is 7 but its last event is 3"])
        try await LivePostgres.execute("UPDATE documents SET head_seq = 3", in: url)
        try await LivePostgres.execute("DELETE FROM events WHERE seq = 2", in: url)
        #expect(try await backend.integrityCheck() == ["document doc: 2 events for seqs 1…3 (a gap)"])
        #expect(try await backend.setting("synchronous_commit", writer: true) == "on")
        #expect(try await backend.setting("fsync", writer: false) == "on")
        #expect(try await backend.setting("no_such_setting", writer: false) == nil)
        #expect(try await backend.setting("fsync; DROP TABLE events", writer: false) == nil)
        try await backend.checkpointWAL()
        // A node opened for a benchmark that accepts acks before the WAL flush.
        let fast = try await PostgresBackend.open(url: url, maximumConnections: 2, synchronousCommit: false)
        #expect(try await fast.setting("synchronous_commit", writer: true) == "off")
        await fast.close()
    }
}
