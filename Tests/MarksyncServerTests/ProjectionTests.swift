import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import MarksyncCore
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Synchronization
import Testing

// Issue 17: README.md is a projection of the log, never read back in a way that undoes an acked change.
// Each test runs a real SyncServer in this process over a real SQLite log and README in a temporary folder.

/// A server in this process projecting one README from a SQLite log.
struct ProjectingServer: Sendable {
    let server: SyncServer
    let log: EventLog
    let task: Task<Void, any Error>
    let port: Int

    static let document = "demo"

    /// Opens the log at `db` and serves `readme` as document `demo`; `hooks` changes how it is written.
    static func start(db: String, readme: String, hooks: (@Sendable (inout ProjectionHooks) -> Void)? = nil) async throws -> ProjectingServer {
        let log = try await EventLog.open(path: db)
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        var logger = Logger(label: "projection-test")
        logger.logLevel = ProcessInfo.processInfo.environment["PDEBUG"] != nil ? .debug : .critical
        let server = SyncServer(log: log, configuration: configuration, logger: logger)
        if let hooks { server.projectionHooks.withLock { hooks(&$0) } }
        do { try await server.addDocument(document, readme: readme) } catch {
            await log.close()
            throw error
        }
        let (ports, feed) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run(onReady: { feed.yield($0) }) }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        return ProjectingServer(server: server, log: log, task: task, port: port)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await log.close()
    }
}

@Suite(.serialized, .timeLimit(.minutes(5)))
struct ProjectionTests {
    /// 13 blocks, like the document of the issue.
    static let markdown: String = {
        var text = "# Projection\n\nProse before the blocks.\n\n"
        for index in 0..<12 { text += "```text markpact:file path=f\(index).txt\nblock \(index) line one\nblock \(index) line two\n```\n\n" }
        text += "```bash markpact:run\necho original\n```\n"
        return text
    }()
    static let run = "markpact:run"
    static func file(_ index: Int) -> String { "markpact:file=f\(index).txt" }

    struct Paths {
        let folder: URL
        var db: String { folder.appendingPathComponent("log.db").path }
        var readme: String { folder.appendingPathComponent("README.md").path }
    }

    static func paths(_ name: String) throws -> Paths {
        let paths = Paths(folder: try temporaryFolder("projection-\(name)"))
        try markdown.write(toFile: paths.readme, atomically: true, encoding: .utf8)
        return paths
    }

    /// `count` acked writes by author `writer` (one transaction), the last one to markpact:run.
    @discardableResult
    static func appendMany(_ log: EventLog, count: Int, tag: String = "w") async throws -> String {
        var requests = [WriteRequest]()
        for index in 0..<count {
            let block = index == count - 1 ? run : file(index % 12)
            requests.append(WriteRequest(document: ProjectingServer.document, author: "writer", change: .full(blockID: block, content: "\(tag) \(index)")))
        }
        let outcomes = try await log.append(requests)
        #expect(outcomes.allSatisfy { if case .appended = $0 { true } else { false } })
        return "\(tag) \(count - 1)"
    }

    /// The events by author `file` after `seq`.
    static func fileEvents(_ log: EventLog, after seq: Int) async throws -> [Event] {
        var out = [Event]()
        var after = seq
        while true {
            let page = try await log.events(ProjectingServer.document, after: after, limit: 1000)
            guard let last = page.last else { return out }
            out += page.filter { $0.author == "file" }
            after = last.seq
        }
    }

    static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// Waits until README.md is `head`; on a timeout the failure says what the server knew.
    static func expectProjected(_ head: String, server: ProjectingServer, paths: Paths, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        if try await waitUntil(timeout: .seconds(20), { Self.read(paths.readme) == head }) { return }
        let file = Self.read(paths.readme) ?? ""
        let recorded = try await server.log.projectedSeq(document: ProjectingServer.document, sha256: SHA256.hexDigest(of: Array(file.utf8)))
        Issue.record(
            "README.md not the head after 20 s: problems \(server.server.healthProblems()), file \(file.utf8.count) B (projection of seq \(recorded.map(String.init) ?? "none")), head \(head.utf8.count) B at seq \(try await server.log.headSeq(ProjectingServer.document)); \(server.server.projectionDebugState())",
            sourceLocation: sourceLocation)
    }

    /// A README emptied while the server was down, with more than 4,096 events since its last write, is
    /// restored from the log with a warning: never read as "delete every block".
    @Test func emptyReadmeWithManyEventsIsRestored() async throws {
        let paths = try Self.paths("empty")
        try await ProjectingServer.start(db: paths.db, readme: paths.readme).stop()
        let log = try await EventLog.open(path: paths.db)
        let last = try await Self.appendMany(log, count: 4200)
        let head = try await log.head(ProjectingServer.document)
        await log.close()
        try Data().write(to: URL(fileURLWithPath: paths.readme))
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        let now = try await server.log.head(ProjectingServer.document)
        #expect(now.seq == head.seq, "events were appended for an empty README")
        #expect(now.blocks.count == 13)
        #expect(now.block(Self.run)?.content == last)
        #expect(try await Self.fileEvents(server.log, after: head.seq).isEmpty)
        #expect(Self.read(paths.readme) == head.render())
        await server.stop()
    }

    /// A README cut in the middle of a block (an unclosed fence) is restored from the log, its text kept in
    /// README.md.conflict; nothing is appended.
    @Test func truncatedReadmeIsRestored() async throws {
        let paths = try Self.paths("truncated")
        try await ProjectingServer.start(db: paths.db, readme: paths.readme).stop()
        let projected = try #require(Self.read(paths.readme))
        let cut = String(projected.prefix(projected.count / 2))
        try cut.write(toFile: paths.readme, atomically: true, encoding: .utf8)
        let log = try await EventLog.open(path: paths.db)
        let seq = try await log.headSeq(ProjectingServer.document)
        await log.close()
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        #expect(try await server.log.headSeq(ProjectingServer.document) == seq)
        #expect(Self.read(paths.readme) == projected)
        #expect(Self.read(paths.readme + ".conflict") == cut)
        await server.stop()
    }

    /// A README left stale (the projection of an old seq, 4,300 acked writes ago) is rewritten from the log
    /// at restart, not taken for an edit that reverts those writes.
    @Test func staleReadmeIsRewrittenNotReverted() async throws {
        let paths = try Self.paths("stale")
        try await ProjectingServer.start(db: paths.db, readme: paths.readme).stop()
        let stale = try #require(Self.read(paths.readme))
        let log = try await EventLog.open(path: paths.db)
        let last = try await Self.appendMany(log, count: 4300)
        let seq = try await log.headSeq(ProjectingServer.document)
        await log.close()
        try stale.write(toFile: paths.readme, atomically: true, encoding: .utf8)
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        #expect(try await server.log.head(ProjectingServer.document).block(Self.run)?.content == last)
        #expect(try await Self.fileEvents(server.log, after: seq).isEmpty)
        #expect(Self.read(paths.readme) == (try await server.log.head(ProjectingServer.document).render()))
        await server.stop()
    }

    /// README writes fail (a full disk) while 4,300 writes are acked; the server is stopped and started
    /// again with a working disk: the stale README is rewritten, nothing is reverted.
    @Test func staleReadmeAfterFailedWritesAcrossRestart() async throws {
        let paths = try Self.paths("failed-restart")
        let first = try await ProjectingServer.start(db: paths.db, readme: paths.readme) { hooks in
            hooks.write = { path, _ in throw POSIXError(.ENOSPC) }
        }
        let before = try #require(Self.read(paths.readme))
        let seq = try await first.log.headSeq(ProjectingServer.document)
        let last = try await Self.appendMany(first.log, count: 4300)
        #expect(try await waitUntil(timeout: .seconds(20)) { !first.server.healthProblems().isEmpty })
        await first.stop()
        #expect(Self.read(paths.readme) == before, "the failing writer wrote")
        let second = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        #expect(try await second.log.head(ProjectingServer.document).block(Self.run)?.content == last)
        #expect(try await Self.fileEvents(second.log, after: seq).isEmpty)
        #expect(Self.read(paths.readme) == (try await second.log.head(ProjectingServer.document).render()))
        await second.stop()
    }

    /// A README projected by a server that then stopped; an acked write of "acked" to f2.txt while it is
    /// down; the README edited on disk (`replacing` → `with`); the server started again. Returns the seq of
    /// the acked write, the edited text and the running server.
    static func editWhileDown(_ name: String, replacing: String, with replacement: String) async throws -> (
        paths: Paths, seq: Int, edited: String, server: ProjectingServer
    ) {
        let paths = try Self.paths(name)
        try await ProjectingServer.start(db: paths.db, readme: paths.readme).stop()
        let projected = try #require(Self.read(paths.readme))
        let log = try await EventLog.open(path: paths.db)
        _ = try await log.append([WriteRequest(document: ProjectingServer.document, author: "writer", change: .full(blockID: Self.file(2), content: "acked"))])
        let seq = try await log.headSeq(ProjectingServer.document)
        await log.close()
        let edited = projected.replacingOccurrences(of: replacing, with: replacement)
        try edited.write(toFile: paths.readme, atomically: true, encoding: .utf8)
        return (paths, seq, edited, try await ProjectingServer.start(db: paths.db, readme: paths.readme))
    }

    /// An edit made on disk while the server was down, to a block nobody else changed, is merged onto the
    /// head: the acked writes made after the README's last write stay.
    @Test func editWhileDownIsMergedOntoTheHead() async throws {
        let (paths, seq, _, server) = try await Self.editWhileDown("merge", replacing: "block 1 line two", with: "block 1 line two, edited by hand")
        let head = try await server.log.head(ProjectingServer.document)
        #expect(head.block(Self.file(2))?.content == "acked")
        #expect(head.block(Self.file(1))?.content == "block 1 line one\nblock 1 line two, edited by hand")
        let byFile = try await Self.fileEvents(server.log, after: seq)
        #expect(byFile.map(\.body.blockID) == [Self.file(1)])
        #expect(Self.read(paths.readme) == head.render())
        #expect(!FileManager.default.fileExists(atPath: paths.readme + ".conflict"))
        await server.stop()
    }

    /// An edit on disk that overlaps an acked change is kept in README.md.conflict; the log keeps the acked
    /// change and nothing is stored for the file.
    @Test func overlappingEditGoesToTheConflictFile() async throws {
        let (paths, seq, edited, server) = try await Self.editWhileDown("conflict", replacing: "block 2 line one", with: "block 2 by hand")
        let head = try await server.log.head(ProjectingServer.document)
        #expect(head.block(Self.file(2))?.content == "acked")
        #expect(try await Self.fileEvents(server.log, after: seq).isEmpty)
        #expect(Self.read(paths.readme + ".conflict") == edited)
        #expect(Self.read(paths.readme) == head.render())
        // The kept edit is a note on /health until the file is deleted.
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/health")!)
        let health = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(health["status"] as? String == "ok")
        #expect((health["notes"] as? [String])?.first?.hasPrefix("projection_conflict: \(paths.readme).conflict holds an edit") == true)
        try FileManager.default.removeItem(atPath: paths.readme + ".conflict")
        #expect(server.server.healthNotes().isEmpty)
        await server.stop()
    }

    /// README.md emptied while the server runs is restored from the log; nothing is stored for the file.
    @Test func readmeEmptiedWhileServingIsRestored() async throws {
        let paths = try Self.paths("empty-live")
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        let seq = try await server.log.headSeq(ProjectingServer.document)
        let head = try await server.log.head(ProjectingServer.document).render()
        try Data().write(to: URL(fileURLWithPath: paths.readme))
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.read(paths.readme) == head })
        #expect(try await server.log.headSeq(ProjectingServer.document) == seq)
        await server.stop()
    }

    /// An editor that loaded README.md long ago (more projections written since than the server keeps as
    /// candidate bases) saves it with an edit: the blocks it holds stale copies of are not set back to
    /// them; the edit goes to README.md.conflict and nothing is stored for the file.
    @Test func editFromALongStaleBufferUndoesNothing() async throws {
        let paths = try Self.paths("old-buffer")
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        let loaded = try #require(Self.read(paths.readme))
        for index in 0..<11 {
            let block = index < 2 ? Self.file(3) : Self.file(5)
            _ = try await server.log.append([
                WriteRequest(document: ProjectingServer.document, author: "agent", change: .full(blockID: block, content: String(format: "agent %02d", index)))
            ])
            let head = try await server.log.head(ProjectingServer.document).render()
            try await Self.expectProjected(head, server: server, paths: paths)
        }
        let seq = try await server.log.headSeq(ProjectingServer.document)
        let edited = loaded.replacingOccurrences(of: "block 1 line two", with: "block 1 edited in an old buffer")
        try edited.write(toFile: paths.readme, atomically: true, encoding: .utf8)
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.read(paths.readme + ".conflict") == edited })
        let head = try await server.log.head(ProjectingServer.document)
        #expect(head.block(Self.file(3))?.content == "agent 01")
        #expect(head.block(Self.file(5))?.content == "agent 10")
        #expect(try await Self.fileEvents(server.log, after: seq).isEmpty)
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.read(paths.readme) == head.render() })
        await server.stop()
    }

    /// An editor that loaded README.md before an agent created a block (and more projections were written
    /// since than the server keeps as recent bases) saves it with an edit: the new block is not taken as
    /// deleted by the file; the edit is merged, the block and the agent's later writes to it and to a block
    /// the buffer holds an old copy of are kept.
    @Test func editFromABufferOlderThanANewBlockKeepsTheBlock() async throws {
        let paths = try Self.paths("new-block")
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        let loaded = try #require(Self.read(paths.readme))
        let created = "markpact:file=new.txt"
        _ = try await server.log.append([
            WriteRequest(
                document: ProjectingServer.document, author: "agent",
                change: .create(blockID: created, index: nil, header: nil, content: "made by an agent"))
        ])
        for index in 0..<11 {
            _ = try await server.log.append([
                WriteRequest(document: ProjectingServer.document, author: "agent", change: .full(blockID: index < 9 ? created : Self.file(5), content: "agent \(index)"))
            ])
            let head = try await server.log.head(ProjectingServer.document).render()
            try await Self.expectProjected(head, server: server, paths: paths)
        }
        let seq = try await server.log.headSeq(ProjectingServer.document)
        let edited = loaded.replacingOccurrences(of: "block 1 line two", with: "block 1 edited in an old buffer")
        try edited.write(toFile: paths.readme, atomically: true, encoding: .utf8)
        #expect(
            try await waitUntil(timeout: .seconds(20)) {
                try await server.log.head(ProjectingServer.document).block(Self.file(1))?.content == "block 1 line one\nblock 1 edited in an old buffer"
            })
        let head = try await server.log.head(ProjectingServer.document)
        #expect(head.block(created)?.content == "agent 8")
        #expect(head.block(Self.file(5))?.content == "agent 10")
        #expect(try await Self.fileEvents(server.log, after: seq).map(\.body.blockID) == [Self.file(1)])
        #expect(!FileManager.default.fileExists(atPath: paths.readme + ".conflict"))
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.read(paths.readme) == head.render() })
        await server.stop()
    }

    /// A README write that fails (the path is a folder) keeps the document dirty: /health says degraded,
    /// the failure is counted, and the write is retried until it succeeds once the path is free again.
    @Test func failedWriteIsRetried() async throws {
        let paths = try Self.paths("retry")
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        try FileManager.default.removeItem(atPath: paths.readme)
        try FileManager.default.createDirectory(atPath: paths.readme + "/blocker", withIntermediateDirectories: true)
        let last = try await Self.appendMany(server.log, count: 3, tag: "while-blocked")
        #expect(try await waitUntil(timeout: .seconds(20)) { server.server.healthProblems().contains { $0.reason == .projection } })
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/health")!)
        let health = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(health["status"] as? String == "degraded")
        let (metrics, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/metrics")!)
        let failures = String(decoding: metrics, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("marksync_projection_write_failures_total ") }
        #expect((failures?.split(separator: " ").last).flatMap { Int($0) } ?? 0 > 0)
        try FileManager.default.removeItem(atPath: paths.readme)
        let head = try await server.log.head(ProjectingServer.document).render()
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.read(paths.readme) == head })
        #expect(head.contains(last))
        #expect(try await waitUntil(timeout: .seconds(5)) { server.server.healthProblems().isEmpty })
        await server.stop()
    }

    /// The log file deleted while serving: writes are refused with reason `storage` (never acked into the
    /// unlinked file) and /health says why.
    @Test func unlinkedLogFailsClosed() async throws {
        let paths = try Self.paths("unlinked")
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        try FileManager.default.removeItem(atPath: paths.db)
        let socket = try await TestSocket.connect(port: server.port)
        #expect(await socket.next(types: ["manifest"]) != nil)
        await socket.send(wireMessage("full", ["block_id": .string(Self.run), "content": .string("after the unlink"), "id": .string("u1")]))
        let reply = await socket.next(types: ["ack", "nack", "error"], timeout: .seconds(15))
        #expect(reply?["type"]?.stringValue == "nack")
        #expect(reply?["reason"]?.stringValue == "storage")
        await #expect(throws: StoreError.self) {
            _ = try await server.log.append([WriteRequest(document: ProjectingServer.document, author: "w", change: .full(blockID: Self.run, content: "x"))])
        }
        #expect(server.server.healthProblems().contains { $0.reason == .storage })
        await socket.close()
        await server.stop()
    }

    /// `.README.md.<uuid>.tmp` files left by a kill during a write are removed at start.
    @Test func leftoverTemporaryFilesAreRemoved() async throws {
        let paths = try Self.paths("tmp")
        let leftover = paths.folder.appendingPathComponent(".README.md.\(UUID().uuidString).tmp").path
        try "half a write".write(toFile: leftover, atomically: false, encoding: .utf8)
        let other = paths.folder.appendingPathComponent(".other.md.\(UUID().uuidString).tmp").path
        try "not ours".write(toFile: other, atomically: false, encoding: .utf8)
        let server = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: other))
        await server.stop()
    }

    /// One projector per README: a second server (here, in the same process, on another log) is refused.
    @Test func secondProjectorOfOneReadmeIsRefused() async throws {
        let paths = try Self.paths("owner")
        let first = try await ProjectingServer.start(db: paths.db, readme: paths.readme)
        await #expect(throws: OwnershipError.self) {
            _ = try await ProjectingServer.start(db: paths.folder.appendingPathComponent("other.db").path, readme: paths.readme)
        }
        await first.stop()
        // Released at stop: a restart takes it.
        try await ProjectingServer.start(db: paths.db, readme: paths.readme).stop()
    }
}
