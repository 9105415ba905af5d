import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import MarksyncCore
import MarksyncServer
import MarksyncStore
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

// Wire compatibility with the Python marksync 0.2.17 peers (spec §4): the real `marksync push`, the real
// SyncClient.watch() and AgentWorker, and Python diff-match-patch, against the real server. The Python
// side lives in tools/interop/*.py; install it with scripts/setup.sh. Without it the tests are skipped
// with a note, except in CI (`CI` set), where that is a failure.

// MARK: - Support shared by the interop, fuzz and crash tests

/// Helpers for tests that run the server for real (in-process or as a child) and talk to it.
enum InteropKit {
    /// The repository's root folder (this file is Tests/MarksyncServerTests/PythonInteropTests.swift).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" && $0 != "false" } ?? false }

    /// A new empty temporary folder.
    static func temporaryFolder(_ prefix: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static func quietLogger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with a live server on 127.0.0.1 (port 0) over a new log in a temporary folder, serving
    /// the document `doc` from `folder/README.md` (a copy of `readme` when given; no file otherwise).
    static func withServer<Value: Sendable>(
        readme: URL? = nil, document: String = "demo", configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (SyncServer, Int, URL) async throws -> Value
    ) async throws -> Value {
        let folder = try temporaryFolder("interop")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readmePath = folder.appendingPathComponent("README.md")
        if let readme { try FileManager.default.copyItem(at: readme, to: readmePath) }
        let log = try await EventLog.open(path: folder.appendingPathComponent("log.db").path)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        let server = SyncServer(log: log, configuration: configuration, logger: quietLogger("interop-server"))
        try await server.addDocument(document, readme: readmePath.path)
        return try await server.application().test(.live) { client in
            try await body(server, try #require(client.port), folder)
        }
    }

    // MARK: Python

    /// The result of a finished process.
    struct Finished: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Standard output's lines parsed as JSON objects (other lines skipped).
        var jsonLines: [JSONValue] { stdout.split(separator: "\n").compactMap { JSONValue.parse(Array($0.utf8)) } }
    }

    static func script(_ name: String) -> String { repoRoot.appendingPathComponent("tools/interop/\(name)").path }

    private static let pythonCheck = Mutex<String??>(nil)

    /// Nil when python3 with marksync 0.2.17, diff-match-patch and websockets is usable; otherwise why not.
    static func pythonProblem() async -> String? {
        if let known = pythonCheck.withLock({ $0 }) { return known }
        var problem: String?
        do {
            let result = try await runPython(["check_env.py"], timeout: .seconds(30))
            if result.status != 0 {
                problem = "Python reference packages missing: \(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) \(result.stderr.suffix(300))"
            }
        } catch {
            problem = "python3 cannot run: \(error)"
        }
        pythonCheck.withLock { $0 = .some(problem) }
        return problem
    }

    /// Fails the test in CI, and skips it elsewhere, when the Python side is missing.
    static func requirePython() async throws {
        guard let problem = await pythonProblem() else { return }
        let message = "\(problem). Install them with scripts/setup.sh (pip install --no-deps marksync==0.2.17 && pip install websockets diff-match-patch click pyyaml rich httpx pycrdt)."
        if isCI {
            Issue.record(Comment(rawValue: message))
            throw InteropFailure(message: message)
        }
        try Test.cancel(Comment(rawValue: "skipped: \(message)"))
    }

    /// Runs `python3 tools/interop/<arguments[0]> …` to the end (killed after `timeout`).
    static func runPython(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> Finished {
        let running = try PythonProcess(arguments, stdin: stdin)
        return try await running.finish(timeout: timeout)
    }
}

struct InteropFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A python3 child running one of tools/interop/*.py, whose output lines can be awaited while it runs.
final class PythonProcess: Sendable {
    let process: Process
    private struct Output {
        var stdout = Data()
        var stderr = Data()
        var stdoutClosed = false
        var stderrClosed = false
    }
    private let output = Mutex(Output())

    init(_ arguments: [String], stdin: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var scriptArguments = arguments
        if let first = scriptArguments.first, first.hasSuffix(".py") { scriptArguments[0] = InteropKit.script(first) }
        process.arguments = ["python3", "-u"] + scriptArguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONIOENCODING"] = "utf-8"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        self.process = process
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.output.withLock { if data.isEmpty { $0.stdoutClosed = true } else { $0.stdout.append(data) } }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.output.withLock { if data.isEmpty { $0.stderrClosed = true } else { $0.stderr.append(data) } }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
    }

    var stdout: String { output.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.withLock { String(decoding: $0.stderr, as: UTF8.self) } }

    /// Waits until a JSON line of standard output satisfies `predicate` and returns it.
    func waitForLine(timeout: Duration, _ predicate: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in stdout.split(separator: "\n") {
                if let value = JSONValue.parse(Array(line.utf8)), predicate(value) { return value }
            }
            if !process.isRunning, output.withLock({ $0.stdoutClosed }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw InteropFailure(message: "no expected line from \(process.arguments ?? []): stdout \(stdout.suffix(2000)) stderr \(stderr.suffix(2000))")
    }

    /// Waits for the process to exit (killing it after `timeout`) and for its output to be read.
    func finish(timeout: Duration) async throws -> InteropKit.Finished {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                try await Task.sleep(for: .milliseconds(200))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                throw InteropFailure(message: "\(process.arguments ?? []) did not finish in \(timeout): stdout \(stdout.suffix(2000)) stderr \(stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let closedBy = ContinuousClock.now + .seconds(5)
        while !output.withLock({ $0.stdoutClosed && $0.stderrClosed }), ContinuousClock.now < closedBy {
            try await Task.sleep(for: .milliseconds(10))
        }
        return InteropKit.Finished(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A WebSocket client for tests (HummingbirdWSClient): messages received are buffered and awaited with a
/// timeout; the connection may be closed by either side at any time.
final class TestSocket: Sendable {
    private struct State {
        var messages: [String] = []
        var writer: WebSocketOutboundWriter?
        var closed = false
        var closeFrame: String?
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Connects to ws://127.0.0.1:port/path; throws when the connection cannot be made.
    static func connect(port: Int, path: String = "/", timeout: Duration = .seconds(5)) async throws -> TestSocket {
        let socket = TestSocket()
        let url = "ws://127.0.0.1:\(port)\(path)"
        let task = Task {
            do {
                var configuration = WebSocketClientConfiguration()
                configuration.maxFrameSize = 1 << 24
                let close = try await WebSocketClient.connect(
                    url: url, configuration: configuration, logger: InteropKit.quietLogger("test-socket")
                ) { inbound, outbound, _ in
                    socket.state.withLock { $0.writer = outbound }
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        switch message {
                        case .text(let text): socket.state.withLock { $0.messages.append(text) }
                        case .binary(let buffer): socket.state.withLock { $0.messages.append(String(buffer: buffer)) }
                        }
                    }
                }
                socket.state.withLock { $0.closeFrame = close.map { "\($0.closeCode)" } }
            } catch {
                socket.state.withLock { $0.closeFrame = "\(error)" }
            }
            socket.state.withLock {
                $0.closed = true
                $0.writer = nil
            }
        }
        socket.task.withLock { $0 = task }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (ready, closed) = socket.state.withLock { ($0.writer != nil, $0.closed) }
            if ready { return socket }
            if closed { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        socket.cancel()
        throw InteropFailure(message: "cannot connect to \(url): \(socket.state.withLock { $0.closeFrame ?? "timeout" })")
    }

    var isClosed: Bool { state.withLock { $0.closed } }
    /// How the connection ended (the close frame's code, or the error), when it has.
    var closeReason: String? { state.withLock { $0.closeFrame } }

    /// Takes every message received so far (unparsed).
    func takeAll() -> [String] {
        state.withLock { state in
            defer { state.messages.removeAll() }
            return state.messages
        }
    }

    /// Sends a text frame; false when the connection is closed.
    @discardableResult func send(_ text: String) async -> Bool {
        guard let writer = state.withLock({ $0.writer }) else { return false }
        do {
            try await writer.write(.text(text))
            return true
        } catch { return false }
    }

    /// Sends a binary frame; false when the connection is closed.
    @discardableResult func sendBinary(_ bytes: [UInt8]) async -> Bool {
        guard let writer = state.withLock({ $0.writer }) else { return false }
        do {
            try await writer.write(.binary(ByteBuffer(bytes: bytes)))
            return true
        } catch { return false }
    }

    /// The next message (parsed) for which `accept` is true; earlier ones it skips are dropped. Nil on
    /// timeout or when the connection closed.
    func next(timeout: Duration = .seconds(5), where accept: (JSONValue) -> Bool = { _ in true }) async -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (taken, closed) = state.withLock { state -> ([String], Bool) in
                let taken = state.messages
                state.messages.removeAll()
                return (taken, state.closed)
            }
            for (index, text) in taken.enumerated() {
                if let value = JSONValue.parse(Array(text.utf8)), accept(value) {
                    let rest = Array(taken[(index + 1)...])
                    state.withLock { $0.messages.insert(contentsOf: rest, at: 0) }
                    return value
                }
            }
            if closed || ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The next message of one of these types.
    func next(types: Set<String>, timeout: Duration = .seconds(5)) async -> JSONValue? {
        await next(timeout: timeout) { types.contains($0["type"]?.stringValue ?? "") }
    }

    /// Closes the connection (normal closure) and waits a little for it to end.
    func close() async {
        if let writer = state.withLock({ $0.writer }) { try? await writer.close(.normalClosure, reason: nil) }
        let deadline = ContinuousClock.now + .seconds(2)
        while !isClosed, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        cancel()
    }

    func cancel() { task.withLock { $0 }?.cancel() }
}

/// A JSON message with `type` and `ts`, as the Python peers send them.
func wireMessage(_ type: String, _ fields: [String: JSONValue] = [:]) -> String {
    var object = fields
    object["type"] = .string(type)
    object["ts"] = .double(Date().timeIntervalSince1970)
    return JSONValue.object(object).text
}

// MARK: - The tests

@Suite(.serialized, .timeLimit(.minutes(3)))
struct PythonInteropTests {
    static let examples = ["task-manager-api", "data-pipeline-cli", "chat-websocket-app"]

    static func exampleReadme(_ name: String) -> URL { InteropKit.repoRoot.appendingPathComponent("examples/\(name)/README.md") }

    /// Python's view of a README's blocks (marksync's BlockParser): [(id, content)] in file order.
    static func pythonBlocks(_ readme: URL) async throws -> [(id: String, content: String)] {
        let result = try await InteropKit.runPython(["blocks.py", readme.path])
        #expect(result.status == 0, "blocks.py: \(result.stderr)")
        let blocks = try #require(result.jsonLines.first?["blocks"])
        guard case .array(let items) = blocks else { throw InteropFailure(message: "blocks.py printed \(result.stdout)") }
        return items.map { ($0["id"]?.stringValue ?? "", $0["content"]?.stringValue ?? "") }
    }

    /// `marksync push README.md --server-uri ws://127.0.0.1:PORT` (the real CLI from PyPI) into a server
    /// holding an empty document: every block lands as a `block.created` event by `cli-push`, the server's
    /// blocks equal BlockParser's (ids, order, content), README.md on disk is the head, and a second push
    /// sends nothing (the manifest's sha256 values agree with Python's). After a Swift-side change to one
    /// block, a third push sends that block alone and restores it.
    @Test(arguments: examples) func marksyncPushLandsAsEvents(example: String) async throws {
        try await InteropKit.requirePython()
        let readme = Self.exampleReadme(example)
        let expected = try await Self.pythonBlocks(readme)
        #expect(!expected.isEmpty)
        try await InteropKit.withServer { server, port, folder in
            let uri = "ws://127.0.0.1:\(port)"
            let push = try await InteropKit.runPython(["marksync_cli.py", "push", readme.path, "--server-uri", uri])
            #expect(push.status == 0, "marksync push failed: \(push.stdout) \(push.stderr)")
            #expect(push.stdout.contains("Sent: \(expected.count) blocks"), "\(push.stdout)")

            let head = try await server.log.head("demo")
            #expect(head.blocks.map(\.id) == expected.map(\.id))
            for (id, content) in expected {
                #expect(head.block(id)?.content == content, "block \(id) differs from what marksync pushed")
            }
            let events = try await server.log.history("demo").filter { $0.body.changesDocument && $0.author == "cli-push" }
            #expect(events.count == expected.count)
            for (event, block) in zip(events, expected) {
                guard case .blockCreated(let created) = event.body else {
                    Issue.record("event \(event.seq) is \(event.body.kind), not block.created")
                    continue
                }
                #expect(created.blockID == block.id)
                #expect(created.content == block.content)
            }
            let report = try await server.log.verify()
            #expect(report.isClean, "\(report.problems)")

            // README.md on disk becomes the head (a projection written shortly after the commit).
            let readmePath = folder.appendingPathComponent("README.md").path
            let rendered = head.render()
            var onDisk = ""
            for _ in 0..<150 {
                onDisk = (try? String(contentsOfFile: readmePath, encoding: .utf8)) ?? ""
                if onDisk == rendered { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(onDisk == rendered, "README.md on disk is not the head")
            #expect(MarkpactDocument(parsing: onDisk).blocks.map(\.id) == expected.map(\.id))

            // Pushing the same file again: the manifest says everything is in sync.
            let headSeq = head.seq
            let again = try await InteropKit.runPython(["marksync_cli.py", "push", readme.path, "--server-uri", uri])
            #expect(again.stdout.contains("Sent: 0 blocks"), "a second push resent blocks: \(again.stdout)")
            #expect(try await server.log.headSeq("demo") == headSeq)

            // A change made on the server side is undone by the next push (the seed's last-writer-wins `full`).
            let (changedID, original) = expected[expected.count / 2]
            let outcome = try await server.log.append(
                WriteRequest(document: "demo", author: "swift", change: .full(blockID: changedID, content: "changed on the server ✓\n")))
            #expect(outcome.event != nil)
            let third = try await InteropKit.runPython(["marksync_cli.py", "push", readme.path, "--server-uri", uri])
            #expect(third.stdout.contains("Sent: 1 blocks"), "\(third.stdout)")
            let after = try await server.log.head("demo")
            #expect(after.block(changedID)?.content == original)
            #expect(after.seq == headSeq + 2)
        }
    }

    /// A Python client (the real SyncClient.watch(), or the real AgentWorker with its get_snapshot) follows
    /// 40 edits made by a Swift-side writer through `server.log.append` (patches with non-ASCII and emoji,
    /// full replacements, a new block): applying the broadcasts with Python diff-match-patch, ignoring
    /// flags and sha as the seed does, it ends with exactly the server's blocks; every broadcast carries
    /// seq and sha, and each patch applies exactly in Python.
    @Test(arguments: ["watch", "agent"]) func pythonClientFollowsSwiftWriter(mode: String) async throws {
        try await InteropKit.requirePython()
        let readme = Self.exampleReadme("task-manager-api")
        let edits = 40
        try await InteropKit.withServer(readme: readme) { server, port, _ in
            var arguments = ["listen.py", "ws://127.0.0.1:\(port)", "--mode", mode, "--count", "\(edits)", "--timeout", "60"]
            if mode == "watch" { arguments += ["--readme", readme.path] }
            let listener = try PythonProcess(arguments)
            defer { listener.stop() }
            let ready = mode == "watch" ? "manifest" : "snapshot"
            _ = try await listener.waitForLine(timeout: .seconds(20)) { $0["recv"]?["type"]?.stringValue == ready }

            let startSeq = try await server.log.headSeq("demo")
            var random = InteropRandom(seed: mode == "watch" ? 11 : 12)
            let dmp = DiffMatchPatch()
            let fragments = ["😀", "héllo wörld", " 👍🏽 ", "日本語テキスト", "Ω≈ç√", "e\u{301}", "🇵🇱", "\n# ✓ done\n", "ß", "🧑‍💻"]
            for index in 0..<edits {
                let head = try await server.log.head("demo")
                let change: Change
                if index == 17 {
                    change = .create(blockID: "markpact:file=notes/ünïcode.md", index: nil, header: nil, content: "notes 📝\nsecond line")
                } else {
                    let block = head.blocks[Int.random(in: 0..<head.blocks.count, using: &random)]
                    var scalars = Array(block.content.unicodeScalars)
                    if index % 9 == 8 {
                        change = .full(blockID: block.id, content: "replaced \(index) 🚀\n" + String(String.UnicodeScalarView(scalars.prefix(40))))
                    } else {
                        let at = Int.random(in: 0...scalars.count, using: &random)
                        let deleting = min(Int.random(in: 0...6, using: &random), scalars.count - at)
                        scalars.replaceSubrange(at..<(at + deleting), with: fragments[Int.random(in: 0..<fragments.count, using: &random)].unicodeScalars)
                        let new = String(String.UnicodeScalarView(scalars))
                        let patch = dmp.patchToText(dmp.patchMake(block.content, new))
                        change = .patch(blockID: block.id, patch: patch, expectedSHA256: SHA256.hexDigest(of: new))
                    }
                }
                let outcome = try await server.log.append(WriteRequest(document: "demo", author: "swift-writer", change: change))
                #expect(outcome.event != nil, "edit \(index) was refused: \(outcome)")
            }

            let finished = try await listener.finish(timeout: .seconds(60))
            #expect(finished.status == 0, "the Python \(mode) client did not get \(edits) broadcasts: \(finished.stderr.suffix(1500))")
            let lines = finished.jsonLines
            let broadcasts = lines.compactMap { $0["recv"] }.filter { ["patch", "full"].contains($0["type"]?.stringValue ?? "") && $0["seq"] != nil }
            #expect(broadcasts.count == edits)
            for message in broadcasts {
                #expect(message["sha"]?.stringValue?.count == 64, "broadcast without sha: \(message.text)")
                #expect(message["sender"]?.stringValue == "swift-writer")
            }
            #expect(broadcasts.compactMap { $0["seq"]?.intValue } == Array((startSeq + 1)...(startSeq + edits)), "broadcast seqs are not consecutive")
            let final = try #require(lines.last { $0["final"] != nil }?["final"]?.objectValue)
            let head = try await server.log.head("demo")
            #expect(Set(final.keys) == Set(head.blocks.map(\.id)))
            for block in head.blocks {
                #expect(final[block.id]?.stringValue == block.content, "the Python \(mode) client's \(block.id) differs from the server's")
            }
        }
    }

    /// Python diff-match-patch patches over non-ASCII and emoji text, sent by the real
    /// `AgentWorker._push_block` (with sha) and as bare patches (without sha, made against an older text):
    /// the server acks exactly when Python's patch_apply succeeds on the server's text (and, with sha,
    /// gives that sha), and its block is then the text Python computes; otherwise it nacks with a reason
    /// and the block is unchanged. Each ack is a `block.patched` event with the patch text as received.
    @Test func pythonPatchesWithEmojiApplyAsInPython() async throws {
        try await InteropKit.requirePython()
        let readme = Self.exampleReadme("task-manager-api")
        try await InteropKit.withServer(readme: readme) { server, port, folder in
            let start = try await server.log.head("demo")
            let main = try #require(start.blocks.first { $0.id == "markpact:file=app/main.py" }).content
            let models = try #require(start.blocks.first { $0.id == "markpact:file=app/models.py" }).content
            // Non-ASCII and emoji everywhere: before the edits, in them and after them.
            let emojiMain = "# 😀 Grüße, 日本語, 🇵🇱 and e\u{301}\n" + main.replacingOccurrences(of: "task", with: "tâsk🗒️")
            let setup = try await server.log.append(
                WriteRequest(document: "demo", author: "swift", change: .full(blockID: "markpact:file=app/main.py", content: emojiMain)))
            #expect(setup.event != nil)

            func insert(_ text: String, _ fragment: String, atFraction fraction: Double) -> String {
                var scalars = Array(text.unicodeScalars)
                scalars.insert(contentsOf: fragment.unicodeScalars, at: Int(Double(scalars.count) * fraction))
                return String(String.UnicodeScalarView(scalars))
            }
            let v1 = insert(emojiMain, "\n# inserted 👍🏽 by the agent ✓\n", atFraction: 0.5)
            let v2 = v1.replacingOccurrences(of: "😀", with: "😎 (cool) ")
            let models1 = insert(models, "\n# 🧑‍💻 wörk in prögress — ñ\n", atFraction: 0.3)
            // Made against emojiMain (before v1 and v2): the server must apply it fuzzily as Python does.
            let staleNew = insert(emojiMain, "\n# stale edit near the end 🐍\n", atFraction: 0.9)
            let cases: [JSONValue] = [
                .object(["block_id": .string("markpact:file=app/main.py"), "new": .string(v1)]),
                .object(["block_id": .string("markpact:file=app/main.py"), "new": .string(v2)]),
                .object(["block_id": .string("markpact:file=app/models.py"), "new": .string(models1)]),
                // Stale base with its sha: the result differs from what the agent meant → hash_mismatch.
                .object(["block_id": .string("markpact:file=app/main.py"), "new": .string(staleNew), "base": .string(emojiMain)]),
                // The same without sha: fuzzy apply, the result is Python's.
                .object([
                    "block_id": .string("markpact:file=app/main.py"), "new": .string(staleNew), "base": .string(emojiMain), "sha": .bool(false),
                ]),
                // Made against an unrelated text: Python's apply fails → nack, block unchanged.
                .object([
                    "block_id": .string("markpact:file=app/models.py"), "base": .string("zzzz 😀 qqqq\nnothing in common ✗\n" + String(repeating: "xy", count: 40)),
                    "new": .string("zzzz 😀 qqqq\nnothing at all in common ✗✗\n" + String(repeating: "xy", count: 40)), "sha": .bool(false),
                ]),
            ]
            let casesFile = folder.appendingPathComponent("cases.json")
            try Data(JSONValue.array(cases).text.utf8).write(to: casesFile)
            let result = try await InteropKit.runPython(["agent_push.py", "ws://127.0.0.1:\(port)", casesFile.path])
            #expect(result.status == 0, "agent_push.py: \(result.stderr.suffix(2000))")
            let lines = result.jsonLines
            #expect(lines.count == cases.count, "agent_push.py printed \(lines.count) lines: \(result.stdout.suffix(1000)) \(result.stderr.suffix(1000))")

            var acked = 0
            for (index, line) in lines.enumerated() {
                let sent = try #require(line["sent"])
                let reply = try #require(line["reply"])
                #expect(sent["type"]?.stringValue == "patch", "case \(index) sent \(sent["type"]?.stringValue ?? "?"), not a patch")
                let expected = line["expected"]?.stringValue ?? ""
                let flags = line["flags"].flatMap { value -> [Bool]? in
                    if case .array(let items) = value { return items.compactMap(\.boolValue) }
                    return nil
                } ?? []
                let pythonApplies = !flags.isEmpty && flags.allSatisfy { $0 }
                let shaMatches = sent["sha"]?.stringValue.map { $0 == SHA256.hexDigest(of: expected) } ?? true
                let serverText = line["server"]?["content"]?.stringValue
                if pythonApplies && shaMatches {
                    #expect(reply["type"]?.stringValue == "ack", "case \(index): Python applies this patch, the server answered \(reply.text)")
                    #expect(serverText == expected, "case \(index): the server's text differs from Python's")
                    if let seq = reply["seq"]?.intValue {
                        acked += 1
                        let event = try #require(try await server.log.history("demo", filter: HistoryFilter(from: seq, to: seq)).first)
                        if case .blockPatched(let blockID, let patch, let length, _) = event.body {
                            #expect(blockID == line["block_id"]?.stringValue)
                            #expect(patch == sent["patch"]?.stringValue, "the stored patch is not the text received")
                            #expect(length == expected.unicodeScalars.count)
                        } else {
                            Issue.record("case \(index): event \(seq) is \(event.body.kind), not block.patched")
                        }
                        #expect(event.author == "py-agent-push")
                    }
                } else {
                    #expect(reply["type"]?.stringValue == "nack", "case \(index): Python does not apply this patch, the server answered \(reply.text)")
                    let reason = reply["reason"]?.stringValue ?? ""
                    #expect(["hash_mismatch", "patch_failed"].contains(reason), "case \(index): reason \(reason)")
                    if !shaMatches && pythonApplies { #expect(reason == "hash_mismatch") }
                }
            }
            // The cases were built so that 1, 2, 3 and 5 apply and 4 and 6 do not.
            #expect(acked == 4, "expected 4 acks, got \(acked): \(result.stdout.suffix(3000))")
            let report = try await server.log.verify()
            #expect(report.isClean, "\(report.problems)")
        }
    }
}

/// A small deterministic random generator (SplitMix64) for reproducible tests.
struct InteropRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
