import Foundation
import MarksyncCore
import MarksyncStore
import MarksyncTestSupport
import Testing

@testable import MarksyncCLI

/// The git-like history CLI: order and paging, revisions, block references, JSON, colour, -p/--stat,
/// progress, help examples, and finding the log from a subfolder.
struct HistoryCLITests {
    /// The task-manager example ingested by alice, then its run block edited by bob.
    func prepared() async throws -> (readme: String, db: String) {
        let original = try String(contentsOf: repoRoot.appendingPathComponent("examples/task-manager-api/README.md"), encoding: .utf8)
        let readme = try temporaryFile("README.md", original)
        let db = URL(fileURLWithPath: readme).deletingLastPathComponent().appendingPathComponent("log.db").path
        #expect((await runCLI(["ingest", readme, "--db", db, "--author", "alice"])).code == 0)
        var document = MarkpactDocument(parsing: original)
        let run = try #require(document.index(ofBlock: "markpact:run"))
        document.blocks[run].setContent("uvicorn app.main:app --port 9000")
        try Data(document.render().utf8).write(to: URL(fileURLWithPath: readme))
        #expect((await runCLI(["ingest", readme, "--db", db, "--author", "bob"])).code == 0)
        return (readme, db)
    }

    /// A log whose events were recorded at known times: seq N at 2026-01-0N 12:00:00 UTC.
    func timedLog(days: Int = 5) async throws -> String {
        let folder = try temporaryFolder("timed")
        let db = folder.appendingPathComponent("log.db").path
        let log = try await EventLog.open(path: db)
        try await log.createDocument("timed")
        for day in 1...days {
            let ms = Int64(Date(timeIntervalSince1970: 1_767_268_800).timeIntervalSince1970 * 1000) + Int64(day - 1) * 86_400_000
            var request = WriteRequest(
                document: "timed", author: "a\(day)", change: .full(blockID: "markpact:file=notes.txt", content: "day \(day)\n"))
            request.timestampMs = ms
            #expect(try await log.append(request).event?.seq == day)
        }
        await log.close()
        return db
    }

    @Test func logIsNewestFirstWithAHeaderAndReverseIsOldestFirst() async throws {
        let db = try await timedLog()
        #expect(try await logSeqs(["--db", db]) == [5, 4, 3, 2, 1])
        #expect(try await logSeqs(["--db", db, "--reverse"]) == [1, 2, 3, 4, 5])
        #expect(try await logSeqs(["--db", db, "-n", "2"]) == [5, 4])
        #expect(try await logSeqs(["--db", db, "--limit", "2", "--reverse"]) == [1, 2])
        #expect(try await logSeqs(["--db", db, "-n", "2", "--skip", "2"]) == [3, 2])
        #expect(try await logSeqs(["--db", db, "--from", "2", "--to", "HEAD~1"]) == [4, 3, 2])
        let text = await runCLI(["log", "--db", db, "--utc"])
        let lines = text.out.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].hasPrefix("SEQ  TIME"))
        #expect(lines[1].hasPrefix("  5  2026-01-05 12:00:00 +0000  a5"))
        // Columns line up: every row has its author where the header has AUTHOR.
        let authorColumn = try #require(lines[0].range(of: "AUTHOR")).lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() { #expect(String(line).dropFirst(authorColumn).hasPrefix("a")) }
    }

    @Test func sinceAndUntilFilterByTimeAndRevisionsTakeTimes() async throws {
        let db = try await timedLog()
        #expect(try await logSeqs(["--db", db, "--since", "2026-01-02T12:00:00Z", "--until", "2026-01-04"]) == [3, 2])
        #expect(try await logSeqs(["--db", db, "--since", "2026-01-03 13:00:00+01:00", "--reverse"]) == [3, 4, 5])
        #expect(try await logSeqs(["--db", db, "--since", "1h"]).isEmpty)  // all of them are older
        #expect(try await logSeqs(["--db", db, "--until", "1h"]) == [5, 4, 3, 2, 1])
        let bad = await runCLI(["log", "--db", db, "--since", "whenever"])
        #expect(bad.code == 2)
        #expect(bad.err.contains("HEAD~N"))
        // A time is the last event at or before it.
        let replay = await runCLI(["replay", "--db", db, "--to", "2026-01-03T18:00:00Z", "--block", "notes.txt"])
        #expect(replay.out == "day 3\n")
        #expect((await runCLI(["replay", "--db", db, "--to", "HEAD~4", "--block", "notes.txt"])).out == "day 1\n")
        let diff = await runCLI(["diff", "--db", db, "HEAD~2", "2026-01-05T00:00:00Z"])
        #expect(diff.out.contains("-day 3"))
        #expect(diff.out.contains("+day 4"))
        let blame = await runCLI(["blame", "--db", db, "notes.txt", "--at", "HEAD~1", "--json"])
        #expect(blame.out.contains("\"seq\" : 4"))
    }

    @Test func blockReferencesBySuffixPathAndKind() async throws {
        let (_, db) = try await prepared()
        for reference in ["main.py", "app/main.py", "markpact:file=app/main.py"] {
            let blame = await runCLI(["blame", "--db", db, reference])
            #expect(blame.code == 0, "\(reference): \(blame.err)")
            #expect(blame.out.contains("FastAPI") || blame.out.contains("app"), "\(reference)")
        }
        let run = await runCLI(["blame", "--db", db, "run"])
        #expect(run.code == 0, "\(run.err)")
        #expect(run.out.contains("uvicorn app.main:app --port 9000"))
        #expect(run.out.contains("bob"))
        #expect(try await logSeqs(["--db", db, "--block", "run"]).count == 2)  // created, then patched

        let unknown = await runCLI(["log", "--db", db, "--block", "markpact:nope"])
        #expect(unknown.code == 1)
        #expect(unknown.out.isEmpty)
        #expect(unknown.err.contains("no block \"markpact:nope\""))
        #expect(unknown.err.contains("markpact:"))  // candidates are listed
        let typo = await runCLI(["blame", "--db", db, "mian.py"])
        #expect(typo.code == 1)
        #expect(typo.err.contains("did you mean"))
        #expect(typo.err.contains("markpact:file=app/main.py"))
        let ambiguous = await runCLI(["blame", "--db", db, "file"])
        #expect(ambiguous.code == 1)
        #expect(ambiguous.err.contains("ambiguous"))
        #expect(ambiguous.err.contains("markpact:file=app/main.py"))
        #expect(ambiguous.err.contains("markpact:file=app/models.py"))
    }

    @Test func replayAndDiffPrintJSON() async throws {
        let (_, db) = try await prepared()
        struct Replay: Decodable {
            var doc: String
            var seq: Int
            var block: String?
            var content: String
        }
        let replay = try JSONDecoder().decode(Replay.self, from: Data((await runCLI(["replay", "--db", db, "--block", "run", "--json"])).out.utf8))
        #expect(replay.block == "markpact:run")
        #expect(replay.content == "uvicorn app.main:app --port 9000")
        let whole = try JSONDecoder().decode(Replay.self, from: Data((await runCLI(["replay", "--db", db, "--to", "HEAD~1", "--json"])).out.utf8))
        #expect(whole.block == nil)
        #expect(whole.content.contains("--host 0.0.0.0"))
        #expect(whole.seq == replay.seq - 1)
        struct Diff: Decodable {
            var doc: String
            var from: Int
            var to: Int
            var block: String?
            var diff: String
        }
        let diff = try JSONDecoder().decode(Diff.self, from: Data((await runCLI(["diff", "--db", db, "HEAD~1", "--json", "--block", "run"])).out.utf8))
        #expect(diff.to == diff.from + 1)
        #expect(diff.block == "markpact:run")
        #expect(diff.diff.contains("+uvicorn app.main:app --port 9000"))
    }

    @Test func logPatchAndStat() async throws {
        let (_, db) = try await prepared()
        let patch = await runCLI(["log", "--db", db, "-n", "1", "-p"])
        #expect(patch.code == 0, "\(patch.err)")
        #expect(patch.out.contains("--- markpact:run@"))
        #expect(patch.out.contains("+uvicorn app.main:app --port 9000"))
        #expect(patch.out.contains("-uvicorn app.main:app --host 0.0.0.0"))
        let stat = await runCLI(["log", "--db", db, "--author", "bob", "--stat"])
        #expect(stat.out.contains("markpact:run | +1 -1"), "\(stat.out)")
        let created = await runCLI(["log", "--db", db, "--block", "models.py", "--stat"])
        #expect(created.out.contains("markpact:file=app/models.py | +"))
        #expect(created.out.contains(" -0"))
    }

    @Test func colourOnlyWhenAskedOrOnATerminal() async throws {
        let (_, db) = try await prepared()
        let plain = await runCLI(["log", "--db", db, "-p"])
        #expect(!plain.out.contains("\u{1B}["))  // captured output is not a terminal
        let always = await runCLI(["log", "--db", db, "-p", "--color=always"])
        #expect(always.out.contains("\u{1B}[33m"))
        #expect(always.out.contains("\u{1B}[32m+uvicorn"))
        #expect(!(await runCLI(["diff", "--db", db, "HEAD~1", "--color", "never"])).out.contains("\u{1B}["))
        #expect(Style.shouldColor(mode: .auto, isTerminal: true, environment: [:]))
        #expect(!Style.shouldColor(mode: .auto, isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(!Style.shouldColor(mode: .auto, isTerminal: false, environment: [:]))
        #expect(Style.shouldColor(mode: .always, isTerminal: false, environment: ["NO_COLOR": "1"]))
        #expect(!Style.shouldColor(mode: .never, isTerminal: true, environment: [:]))
        #expect(Pager.command(environment: [:]) == "less -FRX")
        #expect(Pager.command(environment: ["PAGER": "more"]) == "more")
        #expect(Pager.command(environment: ["PAGER": "cat"]) == nil)
    }

    @Test func logFromASubfolderOfTheIngestedREADME() async throws {
        let original = try String(contentsOf: repoRoot.appendingPathComponent("examples/task-manager-api/README.md"), encoding: .utf8)
        let readme = try temporaryFile("README.md", original)
        let folder = URL(fileURLWithPath: readme).deletingLastPathComponent()
        let sub = folder.appendingPathComponent("app/deep")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["MARKSYNC_DB"] = nil
        environment["NO_COLOR"] = nil
        let binary = try marksyncBinary()
        // ingest README (by path) writes the log next to it; log finds it from the README's folder and below.
        let ingest = try await runToEnd(binary, ["ingest", readme], environment: environment, directory: sub)
        #expect(ingest.status == 0, "\(ingest.error)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".marksync/log.db").path))
        for directory in [folder, sub] {
            let log = try await runToEnd(binary, ["log", "-n", "1"], environment: environment, directory: directory)
            #expect(log.status == 0, "\(directory.path): \(log.error)")
            #expect(log.output.hasPrefix("SEQ"))
            #expect(!log.output.contains("\u{1B}["))  // a pipe: no colour, no pager
            let stats = try await runToEnd(binary, ["blame", "run"], environment: environment, directory: directory)
            #expect(stats.status == 0, "\(stats.error)")
        }
        #expect(LogOptions.discover(from: sub.path).found == folder.appendingPathComponent(".marksync/log.db").standardizedFileURL.path)
        #expect(LogOptions.discover(from: folder.path).found == ".marksync/log.db")
        // Nowhere to be found: the error says where it looked.
        let empty = try temporaryFolder("nolog")
        let missing = try await runToEnd(binary, ["log"], environment: environment, directory: empty)
        #expect(missing.status == 1)
        #expect(missing.error.contains("looked for .marksync/log.db"))
        #expect(missing.error.contains(empty.appendingPathComponent(".marksync/log.db").standardizedFileURL.path))
    }

    @Test func progressShowsTheTotal() async throws {
        let (readme, db) = try await prepared()
        let folder = URL(fileURLWithPath: db).deletingLastPathComponent()
        let export = folder.appendingPathComponent("e.jsonl").path
        #expect((await runCLI(["export", "--db", db, "--out", export])).code == 0)
        let events = try await logSeqs(["--db", db]).count
        let imported = await runCLI(["import", export, "--db", folder.appendingPathComponent("i.db").path, "--progress"])
        #expect(imported.code == 0, "\(imported.err)")
        #expect(imported.err.contains("import: \(events)/\(events) (100%)"), "\(imported.err)")
        #expect(!imported.err.contains("/0 "))
        #expect(ImportCommand.eventCount(try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n")) == events)
        let ingest = await runCLI(["ingest", readme, "--db", folder.appendingPathComponent("n.db").path, "--progress"])
        #expect(ingest.err.contains("ingest: "), "\(ingest.err)")
        #expect(ingest.err.contains("(100%)"))
        // Without --progress and without a terminal: nothing.
        let quiet = await runCLI(["import", export, "--db", folder.appendingPathComponent("q.db").path])
        #expect(!quiet.err.contains("import:"))
    }

    @Test func everyLocalCommandHasExamplesInItsHelp() async throws {
        for command in ["log", "replay", "diff", "blame", "blocks", "ingest", "export", "import", "stats", "verify", "rebuild", "export-yjs"] {
            let help = await runCLI([command, "--help"])
            #expect(help.code == 0)
            #expect(help.out.contains("Examples:"), "\(command) --help has no examples")
            #expect(help.out.contains("marksync-log \(command)"), "\(command)'s examples do not show it")
        }
    }

    @Test func timesAreLocalWithTheirZoneOrUTC() {
        let paris = TimeFormat(utc: false, zone: TimeZone(secondsFromGMT: 3600)!)
        #expect(paris.string(1_767_268_800_000) == "2026-01-01 13:00:00 +0100")
        #expect(TimeFormat(utc: true, zone: TimeZone(secondsFromGMT: 3600)!).string(1_767_268_800_000) == "2026-01-01 12:00:00 +0000")
    }
}
