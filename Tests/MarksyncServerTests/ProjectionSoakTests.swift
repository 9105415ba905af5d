import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore
import Synchronization
import Testing

// Issue 17 soak: `marksync-log serve` as a child; 4 WebSocket clients write their own blocks while an
// "editor" rewrites one other block of README.md on disk as fast as it can, and the server is killed
// with SIGKILL at a random moment; then restarted. After every kill: every ack is in the log at its seq,
// no event by author `file` touches a block the editor never edited (the file never undoes an acked
// change), and each client's block holds its last acked write or a later one.
// `MARKSYNC_PROJECTION_SOAK` sets the number of trials (default 3; tools/projection-soak.sh runs 30).

@Suite(.serialized, .timeLimit(.minutes(20)))
struct ProjectionSoakTests {
    static let clients = 4
    static let editBlock = "markpact:file=edit.txt"

    static var trials: Int { Int(ProcessInfo.processInfo.environment["MARKSYNC_PROJECTION_SOAK"] ?? "") ?? 3 }

    /// Rewrites the edit block's line in README.md on disk (read, change, atomic rename), until stopped.
    private static func edit(readme: String, round: Int, stop: SoakStop) async -> Int {
        var count = 0
        while !stop.isSet {
            count += 1
            if let text = try? String(contentsOfFile: readme, encoding: .utf8),
                let range = text.range(of: "```text markpact:file path=edit.txt\n")
            {
                let lineEnd = text[range.upperBound...].firstIndex(of: "\n") ?? text.endIndex
                let edited = text.replacingCharacters(in: range.upperBound..<lineEnd, with: "edit r\(round)-\(count)")
                try? edited.write(toFile: readme, atomically: true, encoding: .utf8)
            }
            try? await Task.sleep(for: .milliseconds(Int.random(in: 5...60)))
        }
        return count
    }

    @Test func readmeEditsRacingSocketWritesUndoNothing() async throws {
        let binary = try ServerChild.binary()
        let folder = try InteropKit.temporaryFolder("projection-soak")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md")
        try "# Soak\n\n```text markpact:file path=edit.txt\nedit 0\n```\n\n```bash markpact:run\necho soak\n```\n".write(
            to: readme, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("log.db").path
        let stderr = folder.appendingPathComponent("server.stderr")
        let ledger = CrashLedger(clients: Self.clients)
        var edits = 0
        for round in 0..<Self.trials {
            let server = try await ServerChild.start(binary: binary, readme: readme.path, db: db, document: "soak", stderr: stderr)
            let stop = SoakStop()
            let lifetime = Int.random(in: 150...700)
            edits += await withTaskGroup(of: Int.self) { group in
                for client in 0..<Self.clients {
                    group.addTask {
                        await ledger.write(client: client, round: round, port: server.port)
                        return 0
                    }
                }
                group.addTask { await Self.edit(readme: readme.path, round: round, stop: stop) }
                let started = ContinuousClock.now
                while ledger.state.withLock({ state in state.acks.filter { $0.id.hasPrefix("r\(round)-") }.count }) < Self.clients,
                    ContinuousClock.now - started < .seconds(15)
                {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                try? await Task.sleep(for: .milliseconds(lifetime))
                server.kill9()
                stop.set()
                return await group.reduce(0, +)
            }
            try await Self.check(db: db, ledger: ledger, context: "round \(round)")
        }
        #expect(edits > Self.trials, "the editor made only \(edits) edits")
        // A last start: the README is the head, the log verifies.
        let server = try await ServerChild.start(binary: binary, readme: readme.path, db: db, document: "soak", stderr: stderr)
        server.kill9()
        let merged = try await Self.check(db: db, ledger: ledger, context: "last start")
        #expect(merged > 0, "none of the \(edits) edits on disk reached the log")
        let log = try await EventLog.open(path: db)
        #expect(try String(contentsOf: readme, encoding: .utf8) == (try await log.head("soak").render()))
        let report = try await log.verify()
        #expect(report.isClean, "\(report.problems)")
        await log.close()
    }

    /// Checks the log after a kill; returns how many events by author `file` the editor's edits became.
    @discardableResult
    static func check(db: String, ledger: CrashLedger, context: String) async throws -> Int {
        let log = try await EventLog.open(path: db)
        let state = ledger.state.withLock { $0 }
        var stored = [String: Int]()
        var undone = [String]()
        var importing = true
        var merged = 0
        for event in try await log.history("soak") {
            if let id = event.clientMessageID { stored[MessageIDScope.unscoped(id)] = event.seq }
            // The import of the README at the first start is by author file too.
            importing = importing && event.author == "file"
            if !importing, event.author == "file", event.body.blockID == Self.editBlock { merged += 1 }
            if !importing, event.author == "file", event.body.blockID != Self.editBlock {
                undone.append("seq \(event.seq) \(event.body.kind) \(event.body.blockID ?? "prose")")
            }
        }
        let lost = state.acks.filter { stored[$0.id] != $0.seq }
        #expect(lost.isEmpty, "\(context): \(lost.count) acked writes missing: \(lost.prefix(5).map { "\($0.id)@\($0.seq)" })")
        #expect(undone.isEmpty, "\(context): events by author file outside the edited block: \(undone.prefix(5))")
        let head = try await log.head("soak")
        for client in 0..<clients {
            guard let acked = state.lastAcked[client] else { continue }
            let content = head.block(CrashLedger.block(client))?.content
            #expect(content.map { state.sent[client][acked...].contains($0) } ?? false, "\(context): client \(client)'s block lost its last acked write")
        }
        await log.close()
        return merged
    }
}

/// A flag set once, read from other tasks.
private final class SoakStop: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
