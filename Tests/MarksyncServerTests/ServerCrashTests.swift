import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore
import Synchronization
import Testing

// Spec §2 "acked means durable" and §10: `marksync-log serve` runs as a child process on port 0 while 8
// WebSocket clients write with client message ids; it is killed with SIGKILL at random moments and
// restarted on the same files. After every kill, every acked write is in the log with the seq of its ack,
// verify is clean, each block holds its last acked content (or the write sent after it), and README.md is
// whole; after every restart README.md equals the replay of the head (a stale README left by the kill is
// not taken for an edit). `MARKSYNC_CRASH_KILLS` sets the number of kills (default 20 in CI, 6 elsewhere);
// tools/crash-check.sh runs it with 50.

/// The `marksync-log serve` child.
struct ServerChild {
    let process: Process
    let port: Int

    /// The built binary: $MARKSYNC_BIN, beside the test bundle, or .build/debug.
    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["MARKSYNC_BIN"] { return path }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("marksync-log").path,
            InteropKit.repoRoot.appendingPathComponent(".build/debug/marksync-log").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw InteropFailure(message: "build the binary first (swift build); looked in \(candidates)")
        }
        return found
    }

    /// Starts `marksync-log serve README --port 0 --db DB --doc DOC` and waits for `listening <port>`.
    static func start(binary: String, readme: String, db: String, document: String, stderr: URL) async throws -> ServerChild {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", readme, "--port", "0", "--db", db, "--doc", document]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "warning"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderr)
        let buffer = OutputBuffer()
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { buffer.data.withLock { $0.append(data) } }
        }
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = buffer.data.withLock { String(decoding: $0, as: UTF8.self) }
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }), let port = Int(line.dropFirst("listening ".count)) {
                return ServerChild(process: process, port: port)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let log = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        throw InteropFailure(message: "marksync-log serve did not start: \(log.suffix(2000))")
    }

    final class OutputBuffer: Sendable {
        let data = Mutex(Data())
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// What the writers sent and got acked, across rounds.
final class CrashLedger: Sendable {
    struct Ack: Sendable {
        var id: String
        var seq: Int
        var client: Int
        var index: Int
    }
    struct State {
        /// Per client, every content it sent, in order.
        var sent: [[String]]
        /// Per client, the index in `sent` of its last acked write.
        var lastAcked: [Int?]
        var acks: [Ack] = []
        var failures: [String] = []
    }
    let state: Mutex<State>

    init(clients: Int) { state = Mutex(State(sent: Array(repeating: [], count: clients), lastAcked: Array(repeating: nil, count: clients))) }

    static func block(_ client: Int) -> String { "markpact:file=crash/c\(client).txt" }

    /// One client: writes `full` messages with ids, one at a time, until the connection goes away.
    func write(client: Int, round: Int, port: Int) async {
        guard let socket = try? await TestSocket.connect(port: port), await socket.next(types: ["manifest"]) != nil else { return }
        var number = 0
        while true {
            number += 1
            let id = "r\(round)-c\(client)-\(number)"
            let content = "round \(round) client \(client) write \(number) ✓\n" + String(repeating: "payload ", count: number % 7)
            let index = state.withLock { state -> Int in
                state.sent[client].append(content)
                return state.sent[client].count - 1
            }
            guard await socket.send(wireMessage("full", ["block_id": .string(Self.block(client)), "content": .string(content), "id": .string(id), "sender": .string("crash-\(client)")])) else { return }
            guard let reply = await socket.next(types: ["ack", "nack", "error"], timeout: .seconds(15)) else { return }
            if reply["type"]?.stringValue == "ack", reply["id"]?.stringValue == id, let seq = reply["seq"]?.intValue {
                state.withLock { state in
                    state.acks.append(Ack(id: id, seq: seq, client: client, index: index))
                    state.lastAcked[client] = index
                }
            } else {
                state.withLock { $0.failures.append("write \(id) answered \(reply.text)") }
                return
            }
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(15)))
struct ServerCrashTests {
    static let clients = 8

    static var kills: Int {
        if let text = ProcessInfo.processInfo.environment["MARKSYNC_CRASH_KILLS"], let number = Int(text) { return number }
        return InteropKit.isCI ? 20 : 6
    }

    @Test func killedServerLosesNoAckedWrite() async throws {
        let binary = try ServerChild.binary()
        let folder = try InteropKit.temporaryFolder("server-crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md")
        try FileManager.default.copyItem(at: InteropKit.repoRoot.appendingPathComponent("examples/task-manager-api/README.md"), to: readme)
        let initialIDs = MarkpactDocument(parsing: try String(contentsOf: readme, encoding: .utf8)).blocks.map(\.id)
        let db = folder.appendingPathComponent("log.db").path
        let stderr = folder.appendingPathComponent("server.stderr")
        let ledger = CrashLedger(clients: Self.clients)
        let seed = UInt64(ProcessInfo.processInfo.environment["CRASH_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
        var random = InteropRandom(seed: seed)
        var expectedReadme: String?

        for round in 0..<Self.kills {
            let server = try await ServerChild.start(binary: binary, readme: readme.path, db: db, document: "crash", stderr: stderr)
            // After a restart README.md is the replay of the head as it was when the server died.
            if let expectedReadme {
                let onDisk = try String(contentsOf: readme, encoding: .utf8)
                #expect(onDisk == expectedReadme, "seed \(seed) round \(round): after the restart README.md is not the head of the log")
            }
            let lifetime = Int.random(in: 150...700, using: &random)
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<Self.clients {
                    group.addTask { await ledger.write(client: client, round: round, port: server.port) }
                }
                // The kill comes at a random moment once the writers are writing (on a loaded machine the
                // server and the clients may take longer than `lifetime` to get going).
                let started = ContinuousClock.now
                while ledger.state.withLock({ state in state.acks.filter { $0.id.hasPrefix("r\(round)-") }.count }) < Self.clients,
                    ContinuousClock.now - started < .seconds(15)
                {
                    try? await Task.sleep(for: .milliseconds(5))
                }
                try? await Task.sleep(for: .milliseconds(lifetime))
                server.kill9()
                await group.waitForAll()
            }
            #expect(server.process.terminationReason == .uncaughtSignal)
            expectedReadme = try await Self.check(db: db, readme: readme, initialIDs: initialIDs, ledger: ledger, context: "seed \(seed) round \(round)")
        }

        let state = ledger.state.withLock { $0 }
        #expect(state.failures.isEmpty, "\(state.failures.prefix(5))")
        #expect(state.acks.count >= Self.kills * Self.clients, "only \(state.acks.count) acks in \(Self.kills) rounds")

        // A last restart: README.md is the head, then a clean stop and `marksync-log verify` exits 0.
        let server = try await ServerChild.start(binary: binary, readme: readme.path, db: db, document: "crash", stderr: stderr)
        #expect(try String(contentsOf: readme, encoding: .utf8) == expectedReadme)
        server.process.terminate()
        server.process.waitUntilExit()
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: binary)
        verify.arguments = ["verify", "--db", db]
        verify.standardOutput = FileHandle.nullDevice
        verify.standardError = FileHandle.nullDevice
        try verify.run()
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0, "marksync-log verify failed after \(Self.kills) kills")
    }

    /// Checks the files of a killed server; returns the head rendered (what README.md must be after a restart).
    static func check(db: String, readme: URL, initialIDs: [String], ledger: CrashLedger, context: String) async throws -> String {
        let log = try await EventLog.open(path: db)
        let state = ledger.state.withLock { $0 }
        var stored = [String: Int]()
        for event in try await log.history("crash") {
            if let id = event.clientMessageID { stored[MessageIDScope.unscoped(id)] = event.seq }
        }
        let lost = state.acks.filter { stored[$0.id] != $0.seq }
        #expect(lost.isEmpty, "\(context): \(lost.count) acked writes missing or at another seq: \(lost.prefix(5).map { "\($0.id)@\($0.seq)" })")
        let report = try await log.verify()
        #expect(report.isClean, "\(context): \(report.problems)")
        let head = try await log.head("crash")
        for client in 0..<clients {
            guard let acked = state.lastAcked[client] else { continue }
            let content = head.block(CrashLedger.block(client))?.content
            let allowed = state.sent[client][acked...]
            #expect(content.map { allowed.contains($0) } ?? false, "\(context): client \(client)'s block is not its last acked write (or a later one)")
        }
        // README.md is whole: never empty, never cut, every block it had is there.
        let onDisk = try String(contentsOf: readme, encoding: .utf8)
        let parsed = MarkpactDocument(parsing: onDisk)
        #expect(!onDisk.isEmpty && onDisk.hasSuffix("\n"), "\(context): README.md is empty or cut")
        #expect(Set(initialIDs).isSubset(of: parsed.blocks.map(\.id)), "\(context): README.md lost blocks")
        #expect(parsed.render() == onDisk)
        return head.render()
    }
}
