import Foundation
import HummingbirdWSClient
import Logging
import MarksyncCore
import MarksyncStore
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

/// Helpers of the Yjs projection tests: random logs, the reference readers (pycrdt from PyPI, Debian's
/// node-yjs) run as child processes, and a binary WebSocket client.
enum YjsTestKit {
    static let toolsFolder = InteropKit.repoRoot.appendingPathComponent("tools/yjs")
    static let nodePath = "/usr/share/nodejs"

    // MARK: Random logs

    /// A log in a temporary folder holding `events` random changes of document `demo` by three authors
    /// (creates, patches, full replacements, deletes, prose, headers, line endings, review notes; text
    /// with emoji, a skin-tone sequence and other non-BMP characters). Checkpoints every
    /// `checkpointEvents` events.
    /// With `focus`, nearly every change patches the first block (one long Y.Text of many items).
    static func randomLog(seed: UInt64, events: Int, checkpointEvents: Int = 256, focus: Bool = false) async throws -> (log: EventLog, folder: URL) {
        let folder = try InteropKit.temporaryFolder("yjs-log")
        var options = EventLog.Options()
        options.checkpointEvents = checkpointEvents
        options.synchronousFull = false
        let log = try await EventLog.open(path: folder.appendingPathComponent("log.db").path, options: options)
        try await log.createDocument("demo")
        var generator = RandomChanges(seed: seed)
        generator.focus = focus
        var batch = [WriteRequest]()
        while generator.count < events {
            let (author, change) = generator.next()
            var request = WriteRequest(document: "demo", author: author, change: change)
            request.timestampMs = 1_700_000_000_000 + Int64(generator.count) * 1000
            batch.append(request)
            if batch.count == 200 || generator.count == events {
                let outcomes = try await log.append(batch)
                for outcome in outcomes where outcome.event == nil { Issue.record("refused: \(outcome)") }
                batch.removeAll()
            }
        }
        #expect(try await log.headSeq("demo") == events)
        return (log, folder)
    }

    /// A log of document `demo` where two authors whose FNV-1a client ids collide (`author-422789`, then
    /// `author-639192`) take turns inserting at the same places of one block, the way concurrent
    /// typists would (items whose order Yjs settles by client id). Returns the log and its folder.
    static func collidingAuthorsLog(events: Int = 60) async throws -> (log: EventLog, folder: URL) {
        let folder = try InteropKit.temporaryFolder("yjs-collide")
        var options = EventLog.Options()
        options.checkpointEvents = 16
        options.synchronousFull = false
        let log = try await EventLog.open(path: folder.appendingPathComponent("log.db").path, options: options)
        try await log.createDocument("demo")
        let dmp = DiffMatchPatch()
        var content = "head|tail"
        var requests = [WriteRequest(document: "demo", author: "author-422789", change: .full(blockID: "markpact:file=a.txt", content: content))]
        for n in 1..<events {
            var scalars = Array(content.unicodeScalars)
            let at = n % 4 == 0 ? scalars.count / 2 : 5
            scalars.insert(contentsOf: (n % 2 == 0 ? "a\(n)😀" : "b\(n)").unicodeScalars, at: at)
            if n % 7 == 0 { scalars.remove(at: 0) }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let next = String(view)
            let author = n % 2 == 0 ? "author-422789" : "author-639192"
            requests.append(
                WriteRequest(
                    document: "demo", author: author,
                    change: .patch(blockID: "markpact:file=a.txt", patch: dmp.patchToText(dmp.patchMake(content, next)), expectedSHA256: nil)))
            content = next
        }
        for outcome in try await log.append(requests) where outcome.event == nil { Issue.record("refused: \(outcome)") }
        return (log, folder)
    }

    /// Random changes checked against a local copy of the document (so every one applies).
    struct RandomChanges {
        var state = DocumentState()
        var rng: UInt64
        var focus = false
        var count: Int { state.seq }
        static let authors = ["alice", "bob", "carol"]
        static let alphabet: [String] = ["a", "b", "x", " ", " ", "\n", "é", "ß", "中", "😀", "🎉", "👍🏽", "𝒳", "🇫🇷"]

        init(seed: UInt64) { rng = seed }

        mutating func random(_ bound: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return bound <= 1 ? 0 : Int((rng >> 33) % UInt64(bound))
        }

        mutating func text(_ maximum: Int) -> String {
            (0..<random(maximum + 1)).map { _ in Self.alphabet[random(Self.alphabet.count)] }.joined()
        }

        mutating func edit(_ old: String) -> String {
            var scalars = Array(old.unicodeScalars)
            let at = random(scalars.count + 1)
            let cut = min(scalars.count - at, random(5))
            scalars.replaceSubrange(at..<(at + cut), with: text(5).unicodeScalars)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        }

        mutating func next() -> (author: String, change: Change) {
            while true {
                let change = candidate()
                var copy = state
                if (try? copy.prepare(change, seq: state.seq + 1)) != nil {
                    state = copy
                    return (Self.authors[random(Self.authors.count)], change)
                }
            }
        }

        mutating func candidate() -> Change {
            let blocks = state.blocks
            let roll = random(100)
            if blocks.isEmpty || roll < 10 {
                return .create(blockID: "markpact:file=src/m\(state.seq)_\(random(100)).py", index: random(blocks.count + 1), header: nil, content: text(16))
            }
            if focus, roll < 92 {
                let block = blocks[0]
                var new = block.content
                for _ in 0..<(1 + random(2)) { new = edit(new) }
                let dmp = DiffMatchPatch()
                return .patch(blockID: block.id, patch: dmp.patchToText(dmp.patchMake(block.content, new)), expectedSHA256: nil)
            }
            let block = blocks[random(blocks.count)]
            switch roll {
            case 10..<65:
                var new = block.content
                for _ in 0..<(1 + random(2)) { new = edit(new) }
                let dmp = DiffMatchPatch()
                return .patch(blockID: block.id, patch: dmp.patchToText(dmp.patchMake(block.content, new)), expectedSHA256: nil)
            case 65..<75: return .full(blockID: block.id, content: random(3) == 0 ? text(24) : edit(edit(block.content)))
            case 75..<80: return .delete(blockID: block.id)
            case 80..<90:
                let index = random(state.prose.count)
                return .event(.proseEdited(index: index, text: edit(state.prose[index])))
            case 90..<94:
                var header = block.header
                header.lang = ["python", "text", "🐍"][random(3)]
                header.openingLine = "```\(header.lang) markpact:\(header.kind) \(header.meta)"
                return .event(.blockHeaderChanged(blockID: block.id, header: header))
            case 94..<96: return .event(.lineEndingChanged(state.lineEnding == .lf ? .crlf : .lf))
            default:
                return .event(
                    .reviewNote(ReviewNote(blockID: block.id, blockSeq: block.versionSeq, blockSHA256: block.sha256, verdict: "ok", text: "ok")))
            }
        }
    }

    /// What a reader must find in the Yjs document of a state: block texts, order, prose of the gaps
    /// that are not empty, and each block's opening fence.
    static func expected(_ state: DocumentState) -> JSONValue {
        var prose = [String: JSONValue]()
        for (index, text) in state.prose.enumerated() where !text.isEmpty {
            prose[index == 0 ? "" : state.blocks[index - 1].id] = .string(text)
        }
        return [
            "blocks": .object(Dictionary(uniqueKeysWithValues: state.blocks.map { ($0.id, JSONValue.string($0.content)) })),
            "order": .array(state.blocks.map { .string($0.id) }),
            "prose": .object(prose),
            "open": .object(Dictionary(uniqueKeysWithValues: state.blocks.map { ($0.id, JSONValue.string($0.header.openingLine)) })),
        ]
    }

    /// The part of a reader's state that ``expected(_:)`` describes (empty prose texts dropped).
    static func comparable(_ state: JSONValue) -> JSONValue {
        var prose = [String: JSONValue]()
        if case .object(let entries) = state["prose"] ?? .null {
            for (key, value) in entries where value.stringValue != "" { prose[key] = value }
        }
        var open = [String: JSONValue]()
        if case .object(let entries) = state["headers"] ?? .null {
            for (key, value) in entries { open[key] = value["open"] ?? .null }
        }
        return ["blocks": state["blocks"] ?? .null, "order": state["order"] ?? .null, "prose": .object(prose), "open": .object(open)]
    }

    // MARK: Reference readers

    /// Why a reader cannot run here (nil when it can).
    static func problem(_ reader: Reader) -> String? {
        switch reader {
        case .pycrdt:
            let check = try? runSync(["python3", "-c", "import pycrdt"], stdin: nil)
            return check?.status == 0 ? nil : "pycrdt is not installed (pip install pycrdt; scripts/setup.sh installs it)"
        case .yjs:
            let check = try? runSync(["node", "-e", "require('yjs'); require('y-protocols/sync'); require('lib0/encoding')"], stdin: nil)
            return check?.status == 0
                ? nil : "node with Debian's node-yjs, node-y-protocols and node-lib0 is not installed (scripts/setup.sh installs them)"
        }
    }

    enum Reader: String, Sendable, CaseIterable {
        case pycrdt
        case yjs
    }

    /// Fails the test in CI and skips it elsewhere when a reader is missing.
    static func require(_ reader: Reader) throws {
        guard let problem = problem(reader) else { return }
        if InteropKit.isCI {
            Issue.record(Comment(rawValue: problem))
            throw InteropFailure(message: problem)
        }
        try Test.cancel(Comment(rawValue: "skipped: \(problem)"))
    }

    /// Runs a reader on a job: `{"cases": [{"name", "updates": [base64], "read_after": [index]}]}`.
    static func read(_ reader: Reader, _ job: JSONValue) throws -> [String: (states: [JSONValue], error: String?)] {
        let command =
            switch reader {
            case .pycrdt: ["python3", toolsFolder.appendingPathComponent("pycrdt_read.py").path]
            case .yjs: ["node", toolsFolder.appendingPathComponent("yjs_read.js").path]
            }
        let result = try runSync(command, stdin: job.text)
        guard result.status == 0, let output = JSONValue.parse(Array(result.stdout.utf8)), case .array(let list) = output["results"] ?? .null
        else {
            throw InteropFailure(message: "\(reader) failed (\(result.status)): \(result.stdout.prefix(500)) \(result.stderr.suffix(2000))")
        }
        var out = [String: (states: [JSONValue], error: String?)]()
        for entry in list {
            guard case .array(let states) = entry["states"] ?? .null else { continue }
            out[entry["name"]?.stringValue ?? ""] = (states, entry["error"]?.stringValue)
        }
        return out
    }

    /// Runs a command to the end (standard input given, output read through files).
    static func runSync(_ command: [String], stdin: String?) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        var environment = ProcessInfo.processInfo.environment
        environment["NODE_PATH"] = [nodePath, environment["NODE_PATH"]].compactMap { $0 }.joined(separator: ":")
        environment["PYTHONIOENCODING"] = "utf-8"
        process.environment = environment
        let folder = try InteropKit.temporaryFolder("yjs-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("in")
        let output = folder.appendingPathComponent("out")
        let errors = folder.appendingPathComponent("err")
        try Data((stdin ?? "").utf8).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "",
            (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        )
    }

    static func base64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }
}

/// A child process whose JSON output lines can be awaited while it runs (the Node viewer).
final class YjsChild: Sendable {
    let process: Process
    private let output = Mutex((stdout: Data(), stderr: Data()))

    init(_ command: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        var environment = ProcessInfo.processInfo.environment
        environment["NODE_PATH"] = [YjsTestKit.nodePath, environment["NODE_PATH"]].compactMap { $0 }.joined(separator: ":")
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        self.process = process
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { self?.output.withLock { $0.stdout.append(data) } }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { self?.output.withLock { $0.stderr.append(data) } }
        }
        try process.run()
    }

    var lines: [JSONValue] {
        output.withLock { String(decoding: $0.stdout, as: UTF8.self) }.split(separator: "\n").compactMap { JSONValue.parse(Array($0.utf8)) }
    }

    var stderr: String { output.withLock { String(decoding: $0.stderr, as: UTF8.self) } }

    /// The first output line for which `predicate` holds.
    func line(timeout: Duration = .seconds(60), _ predicate: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = lines.first(where: predicate) { return found }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(50))
                if let found = lines.first(where: predicate) { return found }
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw InteropFailure(message: "no expected line from \(process.arguments ?? []): \(lines.map(\.text).suffix(8)) stderr \(stderr.suffix(1500))")
    }

    /// The first line with this `event`.
    func event(_ name: String, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        try await line(timeout: timeout) { $0["event"]?.stringValue == name }
    }

    /// Waits for the exit (killed after `timeout`).
    func exitStatus(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                stop()
                throw InteropFailure(message: "\(process.arguments ?? []) did not end: \(lines.map(\.text).suffix(8)) \(stderr.suffix(1500))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A WebSocket client of the y-websocket endpoint that keeps binary messages as bytes.
final class YjsSocket: Sendable {
    private struct State {
        var messages: [[UInt8]] = []
        var writer: WebSocketOutboundWriter?
        var closed = false
        var closeCode: String?
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    static func connect(port: Int, path: String) async throws -> YjsSocket {
        let socket = YjsSocket()
        let url = "ws://127.0.0.1:\(port)\(path)"
        let task = Task {
            do {
                let close = try await WebSocketClient.connect(url: url, configuration: .init(), logger: InteropKit.quietLogger("yjs-socket")) {
                    inbound, outbound, _ in
                    socket.state.withLock { $0.writer = outbound }
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        if case .binary(let buffer) = message { socket.state.withLock { $0.messages.append(Array(buffer.readableBytesView)) } }
                    }
                }
                socket.state.withLock { $0.closeCode = close.map { "\($0.closeCode)" } }
            } catch {
                socket.state.withLock { $0.closeCode = "\(error)" }
            }
            socket.state.withLock {
                $0.closed = true
                $0.writer = nil
            }
        }
        socket.task.withLock { $0 = task }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let (ready, closed, received) = socket.state.withLock { ($0.writer != nil, $0.closed, !$0.messages.isEmpty) }
            if ready { return socket }
            // The server may have said why and closed before this loop looked.
            if closed && received { return socket }
            if closed { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw InteropFailure(message: "cannot connect to \(url): \(socket.state.withLock { $0.closeCode ?? "timeout" })")
    }

    var isClosed: Bool { state.withLock { $0.closed } }
    var closeCode: String? { state.withLock { $0.closeCode } }

    func send(_ message: YjsSyncMessage) async throws {
        guard let writer = state.withLock({ $0.writer }) else { throw InteropFailure(message: "the socket is closed") }
        try await writer.write(.binary(ByteBuffer(bytes: message.encoded)))
    }

    /// The next message for which `accept` holds (earlier ones are dropped); nil on timeout or close.
    func next(timeout: Duration = .seconds(30), _ accept: (YjsSyncMessage) -> Bool = { _ in true }) async -> YjsSyncMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (taken, closed) = state.withLock { state -> ([[UInt8]], Bool) in
                defer { state.messages.removeAll() }
                return (state.messages, state.closed)
            }
            for (index, bytes) in taken.enumerated() {
                if let message = try? YjsSyncMessage(decoding: bytes), accept(message) {
                    state.withLock { $0.messages.insert(contentsOf: taken[(index + 1)...], at: 0) }
                    return message
                }
            }
            if closed || ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    func close() async {
        if let writer = state.withLock({ $0.writer }) { try? await writer.close(.normalClosure, reason: nil) }
        _ = await task.withLock({ $0 })?.value
    }
}
