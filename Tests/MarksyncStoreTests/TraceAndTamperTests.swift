import Foundation
import GRDB
import MarksyncCore
import MarksyncMigrations
import MarksyncTestSupport
import MarksyncTraces
import Testing

@testable import MarksyncStore

/// The seph-blog1 trace through the log, damaged logs caught by verify, and schema migrations.
struct TraceAndTamperTests {
    /// The trace folder: required in CI, where ../shared is always beside the clone.
    static func traceFolder() throws -> String? {
        if let folder = EditingTrace.defaultFolder(packageRoot: repoRoot.path) { return folder }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("the editing traces are missing (expected ../shared/data/traces or MARKSYNC_TRACES)")
        }
        return nil
    }

    @Test(arguments: StoreBackend.allCases) func sephBlogTraceReplaysToEveryCheckedSeq(backend: StoreBackend) async throws {
        guard let folder = try Self.traceFolder() else { return }
        let trace = try EditingTrace.load(path: folder + "/seph-blog1.json.gz")
        let edits = trace.edits
        var options = EventLog.Options()
        options.checkpointEvents = 5_000
        let (log, _) = try await temporaryLog(options, on: backend)
        try await log.createDocument("blog")
        let block = "markpact:file=blog.md"
        _ = try await log.append(WriteRequest(document: "blog", author: "setup", change: .full(blockID: block, content: trace.startContent)))
        let dmp = DiffMatchPatch()
        var shadow = DiffMatchPatch.padded(Array(trace.startContent.unicodeScalars.map(\.value)), margin: 4)
        var requests = [WriteRequest]()
        requests.reserveCapacity(edits.count)
        for edit in edits {
            let patches = dmp.patchMake(
                forEditInPadded: shadow, at: edit.position, deleting: edit.deleteCount, inserting: edit.insert.unicodeScalars.map(\.value))
            _ = dmp.patchApply(patches, toPadded: &shadow)
            requests.append(
                WriteRequest(document: "blog", author: "seph", change: .patch(blockID: block, patch: dmp.patchToText(patches), expectedSHA256: nil)))
        }
        var start = 0
        while start < requests.count {
            let outcomes = try await log.append(Array(requests[start..<min(start + 5_000, requests.count)]))
            #expect(outcomes.allSatisfy { $0.event != nil }, "a trace event was refused near \(start)")
            start += 5_000
        }
        #expect(try await log.head("blog").block(block)?.content == trace.endContent)
        // Intermediate seqs: the trace applied up to there, computed here without the log.
        for editCount in [1, 777, 20_000, 68_577, 100_003, edits.count - 1] {
            let state = try await log.state("blog", at: editCount + 1)
            #expect(state.block(block)?.content == trace.replay(upTo: editCount), "after \(editCount) edits")
        }
    }

    /// A log of 300 events over a few blocks, closed, for tampering.
    static func makeLog(_ backend: StoreBackend = .sqlite) async throws -> String {
        let (path, _) = try await temporaryDatabase(backend)
        var options = EventLog.Options()
        options.checkpointEvents = 64
        let log = try await EventLog.open(database: path, options: options)
        try await log.createDocument("d")
        var requests = [WriteRequest]()
        for i in 0..<300 {
            requests.append(
                WriteRequest(
                    document: "d", author: "w\(i % 3)",
                    change: .full(blockID: "markpact:file=b\(i % 5).txt", content: "version \(i) of block \(i % 5)\n" + String(repeating: "x", count: i))))
        }
        var start = 0
        while start < requests.count {
            _ = try await log.append(Array(requests[start..<(start + 10)]))
            start += 10
        }
        await log.close()
        return path
    }

    /// Runs SQL on a closed log behind the store's back (each statement valid on both backends).
    static func tamper(_ path: String, _ sql: String) async throws {
        if path.hasPrefix("postgres") {
            try await LivePostgres.execute(sql, in: path)
        } else {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in try db.execute(sql: sql) }
        }
    }

    static func verify(_ path: String) async throws -> VerifyReport {
        try await EventLog.open(database: path).verify()
    }

    @Test(arguments: StoreBackend.allCases) func cleanLogVerifies(backend: StoreBackend) async throws {
        let report = try await Self.verify(try await Self.makeLog(backend))
        #expect(report.isClean, "\(report.problems)")
        #expect(report.events == 300)
        #expect(report.checkpoints >= 4)
    }

    @Test(arguments: StoreBackend.allCases) func flippedPayloadBitIsFoundAtItsSeq(backend: StoreBackend) async throws {
        let path = try await Self.makeLog(backend)
        // Flip one bit in the middle of event 150's stored payload.
        if backend == .postgres {
            try await Self.tamper(
                path, "UPDATE events SET payload = set_byte(payload, length(payload) / 2, get_byte(payload, length(payload) / 2) # 16) WHERE seq = 150")
        } else {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                var bytes = [UInt8](try Data.fetchOne(db, sql: "SELECT payload FROM events WHERE seq = 150")!)
                bytes[bytes.count / 2] ^= 0x10
                try db.execute(sql: "UPDATE events SET payload = ? WHERE seq = 150", arguments: [Data(bytes)])
            }
        }
        let report = try await Self.verify(path)
        #expect(!report.isClean)
        #expect(report.problems.first?.seq == 150, "\(report.problems)")
    }

    @Test(arguments: StoreBackend.allCases) func deletedRowIsFound(backend: StoreBackend) async throws {
        let path = try await Self.makeLog(backend)
        try await Self.tamper(path, "DELETE FROM events WHERE seq = 100")
        let report = try await Self.verify(path)
        #expect(report.problems.first?.seq == 100, "\(report.problems)")
        #expect(report.problems.first?.message.contains("missing") == true)
    }

    @Test(arguments: StoreBackend.allCases) func reorderedRowsAreFound(backend: StoreBackend) async throws {
        let path = try await Self.makeLog(backend)
        for sql in ["UPDATE events SET seq = -1 WHERE seq = 200", "UPDATE events SET seq = 200 WHERE seq = 201", "UPDATE events SET seq = 201 WHERE seq = -1"] {
            try await Self.tamper(path, sql)
        }
        let report = try await Self.verify(path)
        #expect(report.problems.first?.seq == 200, "\(report.problems)")
    }

    @Test func damagedCheckpointIsFound() async throws {
        let path = try await Self.makeLog()
        try await Self.tamper(path, "UPDATE checkpoints SET state = zeroblob(length(state)) WHERE seq = (SELECT min(seq) FROM checkpoints)")
        let report = try await Self.verify(path)
        #expect(!report.isClean)
        #expect(report.problems.contains { $0.message.contains("checkpoint") }, "\(report.problems)")
        // rebuild replaces the damaged checkpoint; the log verifies again.
        var options = EventLog.Options()
        options.checkpointEvents = 64
        let log = try await EventLog.open(path: path, options: options)
        #expect(try await log.rebuild() >= 4)
        #expect(try await Self.verify(path).isClean)
    }

    @Test func flippedByteInTheFileIsDetected() async throws {
        let path = try await Self.makeLog()
        // Fold the WAL into the file, then flip a byte inside the events table's pages.
        let queue = try DatabaseQueue(path: path)
        try await queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let pages = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'").map { $0[0] as Int }
        }
        try queue.close()
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let page = pages[pages.count / 2]
        let offset = UInt64((page - 1) * 4096 + 3000)
        try handle.seek(toOffset: offset)
        var byte = try #require(handle.readData(ofLength: 1).first)
        byte ^= 0x55
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [byte])
        try handle.close()
        do {
            let report = try await Self.verify(path)
            #expect(!report.isClean, "a flipped byte in an events page went unnoticed")
        } catch let error as StoreError {
            // SQLite itself may refuse the damaged page: also a detection.
            #expect(error.code == .corrupt || error.code == .database || error.code == .cannotOpen)
        }
    }

    @Test func firstSchemaVersionIsMigrated() async throws {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent("old.db").path
        // A log as the first schema version left it: only 0001 applied, with one document and event.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: SQLiteMigrations.all[0].sql)
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('0001_initial')")
        }
        try queue.close()
        do {
            let log = try await EventLog.open(path: path)
            try await log.createDocument("d")
            _ = try await log.append(WriteRequest(document: "d", author: "a", change: .full(blockID: "markpact:run", content: "echo 1")))
        }
        let reopened = try await EventLog.open(path: path)
        #expect(try await reopened.head("d").block("markpact:run")?.content == "echo 1")
        let applied = try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        #expect(applied == SQLiteMigrations.all.map(\.id))
        let columns = try await DatabaseQueue(path: path).read { db in try db.columns(in: "documents").map(\.name) }
        #expect(columns.contains("readme_path"))
    }

    @Test func newerLogIsRefused() async throws {
        let path = try await Self.makeLog()
        try await Self.tamper(path, "INSERT INTO grdb_migrations VALUES ('9999_from_the_future')")
        do {
            _ = try await EventLog.open(path: path)
            Issue.record("a log with an unknown migration was opened")
        } catch {
            #expect(error.code == .newerFormat)
            #expect(error.message.contains("newer marksync-log"))
        }
    }
}
