import Foundation
import MarksyncCLI
import MarksyncCore
import Testing

/// The seqs `log --json` prints for these arguments, in its order.
func logSeqs(_ arguments: [String]) async throws -> [Int] {
    struct Record: Decodable { var seq: Int }
    let result = await runCLI(["log", "--json"] + arguments)
    #expect(result.code == 0, "\(result.err)")
    return try result.out.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)).seq }
}

/// The history commands, run in-process on a real log file.
struct HistoryCommandTests {
    /// A folder with a README ingested twice (the second time with edits); returns the README path and db.
    func prepared() async throws -> (readme: String, db: String, original: String, edited: String) {
        let original = try String(contentsOf: repoRoot.appendingPathComponent("examples/task-manager-api/README.md"), encoding: .utf8)
        let readme = try temporaryFile("README.md", original)
        let db = URL(fileURLWithPath: readme).deletingLastPathComponent().appendingPathComponent("log.db").path
        let first = await runCLI(["ingest", readme, "--db", db, "--doc", "tasks", "--author", "alice", "--json"])
        #expect(first.code == 0, "\(first.err)")
        var document = MarkpactDocument(parsing: original)
        let run = try #require(document.index(ofBlock: "markpact:run"))
        document.blocks[run].setContent("uvicorn app.main:app --port 9000")
        let edited = document.render()
        try Data(edited.utf8).write(to: URL(fileURLWithPath: readme))
        let second = await runCLI(["ingest", readme, "--db", db, "--doc", "tasks", "--author", "bob", "--json"])
        #expect(second.code == 0, "\(second.err)")
        struct Result: Decodable {
            var doc: String
            var seq: Int
            var appended: Int
        }
        let result = try JSONDecoder().decode(Result.self, from: Data(second.out.utf8))
        #expect(result.appended == 1)
        #expect(result.doc == "tasks")
        return (readme, db, original, edited)
    }

    @Test func replayGivesEachVersionBack() async throws {
        let (_, db, original, edited) = try await prepared()
        let headSeq = try await logSeqs(["--db", db, "-n", "1"]).first ?? 0
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString).md").path
        #expect((await runCLI(["replay", "--db", db, "--to", String(headSeq - 1), "--out", out])).code == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == original)
        #expect((await runCLI(["replay", "--db", db, "--out", out])).code == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == edited)
        let block = await runCLI(["replay", "--db", db, "--block", "markpact:run"])
        #expect(block.out == "uvicorn app.main:app --port 9000\n")
        let bad = await runCLI(["replay", "--db", db, "--to", "100000"])
        #expect(bad.code == 1)
        #expect(bad.err.contains("there is no seq 100000"))
    }

    @Test func logDiffAndBlameShowWhoChangedWhat() async throws {
        let (_, db, _, _) = try await prepared()
        let log = await runCLI(["log", "--db", db, "--author", "bob"])
        let lines = log.out.split(separator: "\n")
        #expect(lines.count == 2)  // the header and bob's one event
        #expect(lines.first?.hasPrefix("SEQ") == true)
        #expect(lines.last?.contains("markpact:run") == true)
        let seq = try #require(try await logSeqs(["--db", db, "--author", "bob"]).first)
        let diff = await runCLI(["diff", "--db", db, String(seq - 1), String(seq), "--block", "markpact:run"])
        #expect(diff.out.contains("+uvicorn app.main:app --port 9000"))
        #expect(diff.out.contains("-uvicorn app.main:app --host 0.0.0.0"))
        let blame = await runCLI(["blame", "--db", db, "markpact:run", "--json"])
        struct Line: Decodable {
            var line: Int
            var text: String
            var seq: Int
            var author: String
        }
        let blamed = try JSONDecoder().decode([Line].self, from: Data(blame.out.utf8))
        #expect(blamed.map(\.author) == ["bob"])
        #expect(blamed.map(\.seq) == [seq])
        let mainBlame = try JSONDecoder().decode(
            [Line].self, from: Data((await runCLI(["blame", "--db", db, "markpact:file=app/main.py", "--json"])).out.utf8))
        #expect(!mainBlame.isEmpty && mainBlame.allSatisfy { $0.author == "alice" })
    }

    @Test func verifyStatsExportImport() async throws {
        let (_, db, _, _) = try await prepared()
        let verify = await runCLI(["verify", "--db", db])
        #expect(verify.code == 0)
        #expect(verify.out.contains("ok:"))
        let stats = await runCLI(["stats", "--db", db, "--json"])
        #expect(stats.out.contains("\"events\""))
        // snake_case like every other JSON output, with the derived figures.
        for key in ["payload_bytes_stored", "payload_bytes_decoded", "checkpoint_bytes", "lz4_events", "file_bytes", "wal_bytes", "bytes_per_event", "compression_ratio"] {
            #expect(stats.out.contains("\"\(key)\""), "\(key) missing in \(stats.out)")
        }
        #expect(!stats.out.contains("payloadBytesStored"))
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent()
        let first = folder.appendingPathComponent("a.jsonl").path
        let second = folder.appendingPathComponent("b.jsonl").path
        let copy = folder.appendingPathComponent("copy.db").path
        let exported = await runCLI(["export", "--db", db, "--out", first])
        #expect(exported.code == 0)
        // It says what it wrote.
        #expect(exported.out.contains("exported"))
        #expect(exported.out.contains(first))
        #expect(exported.out.contains("1 document"))
        #expect((await runCLI(["import", first, "--db", copy])).code == 0)
        #expect((await runCLI(["export", "--db", copy, "--out", second])).code == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: first))
        let b = try Data(contentsOf: URL(fileURLWithPath: second))
        #expect(a == b, "export → import → export changed the bytes")
        #expect(a.count > 1000)
        // Importing again into a non-empty log is refused.
        let again = await runCLI(["import", first, "--db", copy])
        #expect(again.code == 1)
    }

    @Test func verifyExitsThreeOnDamage() async throws {
        let (_, db, _, _) = try await prepared()
        // Damage the stored hash of event 3 through SQLite.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('UPDATE events SET hash = zeroblob(16) WHERE seq = 3'); c.commit()", db]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let verify = await runCLI(["verify", "--db", db])
        #expect(verify.code == 3)
        #expect(verify.out.contains("seq 3"))
    }

    @Test func readCommandsOnAMissingLogSayWhatToDo() async {
        let result = await runCLI(["log", "--db", "/nonexistent/folder/log.db"])
        #expect(result.code == 1)
        #expect(result.err.contains("marksync-log ingest"))
    }
}
