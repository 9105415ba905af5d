import Foundation
import MarksyncCore
import MarksyncTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `marksync-log shell`: the built binary on a real pseudo-terminal (driven by a Python `pty` script),
/// scripts, SYNC against a live server, and `--api` against a stand-in control API.
@Suite(.serialized) struct ShellTests {
    // MARK: - On a terminal

    /// HELP table, AGENT then LIST, Up Up Enter re-running a command, Tab completion, the history file, Ctrl-D.
    @Test func interactiveSessionOnAPseudoTerminal() async throws {
        let server = try await LiveSyncServer.start(markdown: Self.document)
        defer { Task { await server.stop() } }
        let home = try temporaryFolder("shell-home")
        let run = try await PTYSession.run(
            arguments: ["shell", "--server", server.url], home: home,
            steps: [
                .init(keys: [], expect: [Self.prompt]),
                .init(keys: ["HELP\r"], expect: ["stop an agent and forget it", Self.prompt]),
                .init(keys: ["AGENT mon-1 monitor\r"], expect: ["OK", Self.prompt]),
                .init(keys: ["LIST\r"], expect: ["mon-1", Self.prompt]),
                // Up twice: the AGENT line (Up once would be LIST); it runs again and is refused.
                .init(keys: ["\u{1B}[A", "\u{1B}[A", "\r"], expect: ["FAIL exists", Self.prompt]),
                // Tab completes the command and the agent name.
                .init(keys: ["KI", "\t", "mon-", "\t", "\r"], expect: ["killed", Self.prompt]),
                .init(keys: ["LIST\r"], expect: ["(no agents)", Self.prompt]),
                .init(keys: ["\u{04}"], expect: []),
            ])
        #expect(run.failedStep == nil, "step \(run.failedStep ?? -1) did not show what it should:\n\(run.output)")
        #expect(run.status == 0, "\(run.output)")
        let lines = run.lines
        // HELP: usage and text side by side, one row per command.
        #expect(lines.contains { $0.range(of: #"^\s+KILL <name>\s+stop an agent and forget it$"#, options: .regularExpression) != nil })
        #expect(lines.contains { $0.range(of: #"^\s+SYNC \[push\|pull\|status\]\s+push the README"#, options: .regularExpression) != nil })
        // LIST: the agent table with mon-1, a monitor, and its model.
        #expect(lines.contains { $0.range(of: #"^\s+NAME\s+ROLE\s+STATE\s+CURSOR\s+LAG\s+MODEL$"#, options: .regularExpression) != nil })
        #expect(lines.contains { $0.range(of: #"^\s+mon-1\s+monitor\s+\S+\s+\d+\s+\d+\s+\S+$"#, options: .regularExpression) != nil })
        // The recalled AGENT line ran a second time.
        #expect(run.output.contains("FAIL exists: an agent named mon-1 exists"))
        #expect(run.output.contains("KILL mon-1"))
        let history = try String(contentsOf: home.appendingPathComponent(".marksync-log_history"), encoding: .utf8)
        #expect(history == "HELP\nAGENT mon-1 monitor\nLIST\nAGENT mon-1 monitor\nKILL mon-1\nLIST\n")
    }

    /// Cursor movement and deletion keys: every line below only parses when the keys did their job.
    @Test func editingKeys() async throws {
        let home = try temporaryFolder("shell-home")
        try Data("LIST routes\n".utf8).write(to: home.appendingPathComponent(".marksync-log_history"))
        let run = try await PTYSession.run(
            arguments: ["shell", "--server", "ws://127.0.0.1:9"], home: home,
            steps: [
                .init(keys: [], expect: [Self.prompt]),
                // Ctrl-U drops "garbage".
                .init(keys: ["garbage", "\u{15}", "HELP KILL\r"], expect: ["stop an agent", Self.prompt]),
                // Ctrl-A, Right, insert in the middle, Ctrl-E.
                .init(keys: ["SATUS", "\u{01}", "\u{1B}[C", "T", "\u{05}", "\r"], expect: ["pipelines: 0, routes: 0", Self.prompt]),
                // Ctrl-W deletes the word before the cursor.
                .init(keys: ["LIST foo", "\u{17}", "\r"], expect: ["(no agents)", Self.prompt]),
                // Home and Delete; then Left (nine times) and an insert, End, Backspace.
                .init(keys: ["xLIST pipelines", "\u{1B}[H", "\u{1B}[3~", "\r"], expect: ["(no pipelines)", Self.prompt]),
                // UTF-8 text typed in two chunks, one a two-byte character.
                .init(keys: ["SET doc caf", "é", "\r"], expect: ["OK", Self.prompt]),
                .init(keys: ["LST config"] + Array(repeating: "\u{1B}[D", count: 9), expect: []),
                .init(keys: ["I", "\u{05}", "X", "\u{7F}", "\r"], expect: ["server_uri = ws://127.0.0.1:9", "doc = café", Self.prompt]),
                // The history loaded from the file: Up through this session's lines to the file's.
                .init(keys: Array(repeating: "\u{1B}[A", count: 7) + ["\r"], expect: ["(no routes)", Self.prompt]),
                // Ctrl-C abandons the line; Ctrl-D on the empty line ends.
                .init(keys: ["KILL everything", "\u{03}"], expect: ["^C", Self.prompt]),
                .init(keys: ["\u{04}"], expect: []),
            ])
        #expect(run.failedStep == nil, "step \(run.failedStep ?? -1) did not show what it should:\n\(run.output)")
        #expect(run.status == 0)
        #expect(!run.output.contains("FAIL"), "\(run.output)")
        #expect(run.lines.filter { $0.hasSuffix("OK") }.count == 7, "\(run.output)")
    }

    /// SIGINT and SIGTERM while a line is edited in raw mode: the terminal is back in cooked mode, the
    /// agents are stopped and the shell exits 0.
    @Test(arguments: [SIGINT, SIGTERM]) func signalRestoresTheTerminal(signal: Int32) async throws {
        let server = try await LiveSyncServer.start(markdown: Self.document)
        defer { Task { await server.stop() } }
        let run = try await PTYSession.run(
            arguments: ["shell", "--server", server.url], home: try temporaryFolder("shell-home"),
            steps: [
                .init(keys: [], expect: [Self.prompt]),
                .init(keys: ["AGENT mon-1 monitor\r"], expect: ["OK", Self.prompt]),
                .init(keys: ["STAT"], expect: ["STAT"]),
                .init(keys: [], expect: [], signal: signal),
            ])
        #expect(run.failedStep == nil, "\(run.output)")
        #expect(run.canonical.prefix(3) == [false, false, false], "raw mode while editing")
        #expect(run.canonicalAtEnd == true, "the terminal was left in raw mode")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("stopped mon-1"), "\(run.output)")
    }

    // MARK: - Scripts

    @Test func scriptRunsEveryCommandAndPrintsTheReplies() async throws {
        let server = try await LiveSyncServer.start(markdown: Self.document)
        defer { Task { await server.stop() } }
        let folder = try temporaryFolder("shell-script")
        let script = folder.appendingPathComponent("setup.msdsl")
        try Data(
            """
            # agents for the demo
            SET ollama_model tiny-model

            AGENT mon-1 monitor
            AGENT mon-2 monitor --model other-model
            PIPE flow mon-1 -> mon-2
            ROUTE 'markpact:file=*' -> mon-1
            LIST pipelines
            LIST routes
            LIST config
            LIST

            """.utf8
        ).write(to: script)
        let result = try await runShell(["--script", script.path, "--server", server.url], in: folder)
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0 == "OK" }.count == 9)
        #expect(lines.contains("marksync> SET ollama_model tiny-model"))
        #expect(lines.contains("marksync> PIPE flow mon-1 -> mon-2"))
        #expect(lines.contains("  flow: mon-1 → mon-2"))
        #expect(lines.contains("  markpact:file=* → mon-1"))
        #expect(lines.contains("  ollama_model = tiny-model"))
        #expect(lines.contains("  server_uri = \(server.url)"))
        #expect(lines.contains { $0.range(of: #"^\s+mon-1\s+monitor\s+\S+\s+\d+\s+\d+\s+tiny-model$"#, options: .regularExpression) != nil })
        #expect(lines.contains { $0.range(of: #"^\s+mon-2\s+monitor\s+\S+\s+\d+\s+\d+\s+other-model$"#, options: .regularExpression) != nil })
    }

    @Test func scriptWithASyntaxErrorRunsNothingAndNamesLineAndColumn() async throws {
        let folder = try temporaryFolder("shell-script")
        let script = folder.appendingPathComponent("bad.msdsl")
        try Data("SET ollama_model x\nAGENT mon-1 monitor\nPIPE flow mon-1 mon-2\n".utf8).write(to: script)
        let result = try await runShell(["--script", script.path, "--server", "ws://127.0.0.1:9"], in: folder)
        #expect(result.status == 1)
        #expect(result.err.contains("bad.msdsl: line 3, column 17: expected -> between the stages mon-1 and mon-2"), "\(result.err)")
        #expect(!result.out.contains("marksync> "), "a command ran: \(result.out)")
    }

    @Test func scriptWithAFailingCommandExitsOne() async throws {
        let folder = try temporaryFolder("shell-script")
        let script = folder.appendingPathComponent("kill.msdsl")
        try Data("HELP KILL\nKILL nobody\nLIST\n".utf8).write(to: script)
        let result = try await runShell(["--script", script.path, "--server", "ws://127.0.0.1:9"], in: folder)
        #expect(result.status == 1)
        #expect(result.out.contains("FAIL not_found: no agent named nobody"))
        // The script goes on after a failure.
        #expect(result.out.contains("marksync> LIST\nOK\n  (no agents)"))
        #expect(result.err.contains("1 of 3 commands failed"))
    }

    /// Standard input from a pipe: plain lines, each printed with its reply, `exit` ends, a failure gives 1,
    /// and nothing goes to the history file.
    @Test func pipedInputReadsPlainLines() async throws {
        let folder = try temporaryFolder("shell-pipe")
        let home = try temporaryFolder("shell-home")
        let result = try await runShell(
            ["--server", "ws://127.0.0.1:9"], in: folder, environment: ["HOME": home.path],
            input: "HELP KILL\n# a comment\n\nKILL nobody\r\nexit\nLIST\n")
        #expect(result.status == 1)
        #expect(result.out.hasPrefix("marksync> HELP KILL\nOK\n  KILL <name>"), "\(result.out)")
        #expect(result.out.contains("marksync> KILL nobody\nFAIL not_found: no agent named nobody\n"))
        #expect(!result.out.contains("marksync> LIST"), "a line after exit ran")
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(".marksync-log_history").path))
    }

    // MARK: - SYNC

    @Test func syncStatusPushAndPull() async throws {
        let server = try await LiveSyncServer.start(markdown: Self.document)
        defer { Task { await server.stop() } }
        let folder = try temporaryFolder("shell-sync")
        let readme = folder.appendingPathComponent("README.md")
        let local = Self.document.replacingOccurrences(of: "python app/main.py\n", with: "python app/main.py --port 9000\n")
        try Data(local.utf8).write(to: readme)
        let script = folder.appendingPathComponent("sync.msdsl")
        try Data("SET readme \(readme.path)\nSYNC status\nSYNC push\nSYNC status\n".utf8).write(to: script)

        let first = try await runShell(["--script", script.path, "--server", server.url, "--json"], in: folder)
        #expect(first.status == 0, "\(first.out)\n\(first.err)")
        let replies = first.out.split(separator: "\n").compactMap { JSONValue.parse(Data($0.utf8)) }
        try #require(replies.count == 4, "\(first.out)")
        let before = try #require(replies[1]["result"])
        #expect(before["in_sync"] == .bool(false))
        #expect(before["differing"] == .array(["markpact:run"]))
        #expect(before["only_local"] == .array([]))
        #expect(before["only_server"] == .array([]))
        let push = try #require(replies[2]["result"])
        #expect(push["acks"] == .int(1))
        #expect(push["nacks"] == .int(0))
        #expect(push["creates"] == .int(0))
        #expect((push["patches"]?.intValue ?? 0) + (push["fulls"]?.intValue ?? 0) == 1)
        #expect(push["writes"]?.text.contains("\"block_id\":\"markpact:run\"") == true)
        #expect(replies[3]["result"]?["in_sync"] == .bool(true))
        #expect(try await httpText(server, "GET", "/api/v1/docs/demo/markdown") == local)

        // A change on the server, then SYNC pull writes it into the file.
        _ = try await httpText(server, "PUT", "/api/v1/docs/demo/blocks/markpact%3Arun", body: "python app/main.py --port 7000")
        try Data("SET readme \(readme.path)\nSYNC pull\nSYNC status\n".utf8).write(to: script)
        let second = try await runShell(["--script", script.path, "--server", server.url], in: folder)
        #expect(second.status == 0, "\(second.out)\n\(second.err)")
        #expect(second.out.contains("\"changed\" : true"), "\(second.out)")
        #expect(second.out.contains("\"in_sync\" : true"), "\(second.out)")
        #expect(try String(contentsOf: readme, encoding: .utf8) == Self.document.replacingOccurrences(of: "python app/main.py\n", with: "python app/main.py --port 7000\n"))
    }

    @Test func syncAgainstNoServerFails() async throws {
        let folder = try temporaryFolder("shell-sync")
        try Data(Self.document.utf8).write(to: folder.appendingPathComponent("README.md"))
        let script = folder.appendingPathComponent("sync.msdsl")
        try Data("SYNC status\n".utf8).write(to: script)
        let result = try await runShell(
            ["--script", script.path, "--server", "ws://127.0.0.1:9"], in: folder, environment: ["PROJECT_README": "README.md"])
        #expect(result.status == 1)
        #expect(result.out.contains("FAIL failed: SYNC status: cannot connect to ws://127.0.0.1:9: connection refused"), "\(result.out)")
    }

    // MARK: - --api

    /// Lines go to `POST /api/v1/execute` with the bearer token (--token, else $MARKSYNC_TOKEN); replies print
    /// as locally.
    @Test func apiModeSendsEachLineWithTheToken() async throws {
        let folder = try temporaryFolder("shell-api")
        let api = try await FakeControlAPI.start(in: folder)
        defer { api.stop() }
        let script = folder.appendingPathComponent("remote.msdsl")
        try Data("LIST\nKILL nobody\n".utf8).write(to: script)

        let result = try await runShell(["--api", api.url, "--token", "sekrit-api", "--script", script.path], in: folder)
        #expect(result.status == 1)
        #expect(result.out.split(separator: "\n").contains { $0.range(of: #"^\s+remote-1\s+reviewer\s+live\s+7\s+2\s+m-1$"#, options: .regularExpression) != nil }, "\(result.out)")
        #expect(result.out.contains("FAIL not_found: no agent named nobody"))

        let viaEnvironment = try await runShell(
            ["--api", api.url, "--script", script.path, "--json"], in: folder, environment: ["MARKSYNC_TOKEN": "sekrit-env"])
        #expect(viaEnvironment.status == 1)
        #expect(viaEnvironment.out.split(separator: "\n").first.flatMap { JSONValue.parse(Data($0.utf8)) }?["result"]?["agents"] != nil)

        let requests = try api.requests()
        #expect(requests.map { $0["command"]?.stringValue } == ["LIST", "KILL nobody", "LIST", "KILL nobody"])
        #expect(requests.map { $0["path"]?.stringValue } == Array(repeating: "/api/v1/execute", count: 4))
        #expect(requests.map { $0["auth"]?.stringValue } == ["Bearer sekrit-api", "Bearer sekrit-api", "Bearer sekrit-env", "Bearer sekrit-env"])
    }

    // MARK: - Helpers

    static let prompt = "marksync> "

    static let document = """
        # Demo

        ```python markpact:file path=app/main.py
        print("hello")
        ```

        ```bash markpact:run
        python app/main.py
        ```

        """

    /// Runs `marksync-log shell ARGS` in `folder` with `input` (default: nothing) as standard input.
    func runShell(_ arguments: [String], in folder: URL, environment: [String: String] = [:], input: String = "") async throws -> ChildResult {
        try await runChild(try builtBinary(), ["shell"] + arguments, in: folder, environment: environment, input: input)
    }

    /// GET or PUT on the server's HTTP API; the body as text.
    func httpText(_ server: LiveSyncServer, _ method: String, _ path: String, body: String? = nil) async throws -> String {
        var request = URLRequest(url: URL(string: server.httpBase + path)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(method) \(path): \(String(decoding: data, as: UTF8.self))")
        return String(decoding: data, as: UTF8.self)
    }
}

/// What a child process printed and how it ended.
struct ChildResult {
    var status: Int32
    var out: String
    var err: String
}

/// Runs a program to its end without blocking a thread of the pool: input and output are files, the end
/// is awaited with the termination handler. The environment is this process's plus `environment`.
func runChild(
    _ executable: String, _ arguments: [String], in folder: URL, environment: [String: String] = [:], input: String = ""
) async throws -> ChildResult {
    let id = UUID().uuidString
    let inURL = folder.appendingPathComponent("child-\(id).in")
    try Data(input.utf8).write(to: inURL)
    let outURL = folder.appendingPathComponent("child-\(id).out")
    let errURL = folder.appendingPathComponent("child-\(id).err")
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardInput = try FileHandle(forReadingFrom: inURL)
    process.standardOutput = out
    process.standardError = err
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try out.close()
    try err.close()
    return ChildResult(
        status: status, out: try String(contentsOf: outURL, encoding: .utf8), err: try String(contentsOf: errURL, encoding: .utf8))
}

/// The binary on a pseudo-terminal, driven by a small Python script (standard library `pty`): each step
/// types its keys (a short pause between chunks) and waits until the texts of `expect` appear, in order,
/// in what the terminal shows after the step began.
enum PTYSession {
    struct Step: Encodable {
        var keys: [String]
        var expect: [String]
        /// A signal sent to the shell after the keys.
        var signal: Int32?

        init(keys: [String], expect: [String], signal: Int32? = nil) {
            self.keys = keys
            self.expect = expect
            self.signal = signal
        }
    }

    struct Run: Decodable {
        /// Everything the terminal showed (CR LF turned into LF).
        var output: String
        var status: Int32
        /// The first step whose texts did not appear in time.
        var failedStep: Int?
        /// Whether the terminal was in canonical (cooked) mode after each step.
        var canonical: [Bool]
        /// Whether it was in canonical mode after the shell ended.
        var canonicalAtEnd: Bool?
        var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    static func run(arguments: [String], home: URL, steps: [Step]) async throws -> Run {
        struct Spec: Encodable {
            var argv: [String]
            var cwd: String
            var steps: [Step]
            var result: String
        }
        let folder = try temporaryFolder("shell-pty")
        let driver = folder.appendingPathComponent("drive.py")
        try Data(driverSource.utf8).write(to: driver)
        let resultURL = folder.appendingPathComponent("result.json")
        let spec = Spec(argv: [try builtBinary()] + arguments, cwd: folder.path, steps: steps, result: resultURL.path)
        let specURL = folder.appendingPathComponent("spec.json")
        try JSONEncoder().encode(spec).write(to: specURL)
        let child = try await runChild(
            "/usr/bin/env", ["python3", driver.path, specURL.path], in: folder, environment: ["HOME": home.path, "TERM": "xterm"])
        guard child.status == 0, let data = FileManager.default.contents(atPath: resultURL.path) else {
            throw PTYFailure(message: "the pty driver failed (\(child.status)): \(child.err)")
        }
        return try JSONDecoder().decode(Run.self, from: data)
    }

    struct PTYFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static let driverSource = #"""
        import json, os, pty, select, sys, termios, time

        spec = json.load(open(sys.argv[1]))
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(spec["cwd"])
            os.execv(spec["argv"][0], spec["argv"])

        out = bytearray()
        closed = False

        def pump(seconds):
            global closed
            deadline = time.time() + seconds
            while not closed:
                left = deadline - time.time()
                if left <= 0:
                    return
                ready, _, _ = select.select([fd], [], [], left)
                if not ready:
                    return
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    closed = True
                    return
                out.extend(data)

        def shows(texts, start):
            position = start
            for text in texts:
                found = out.find(text.encode(), position)
                if found < 0:
                    return False
                position = found + len(text.encode())
            return True

        def canonical():
            try:
                return bool(termios.tcgetattr(fd)[3] & termios.ICANON)
            except termios.error:
                return None

        failed = None
        modes = []
        for index, step in enumerate(spec["steps"]):
            start = len(out)
            for chunk in step["keys"]:
                os.write(fd, chunk.encode())
                pump(0.08)
            if step.get("signal"):
                os.kill(pid, step["signal"])
            deadline = time.time() + 60
            while not shows(step["expect"], start) and time.time() < deadline and not closed:
                pump(0.05)
            if not shows(step["expect"], start):
                failed = index
                break
            modes.append(canonical())

        deadline = time.time() + 60
        status = None
        while time.time() < deadline:
            pump(0.05)
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(code)
                break
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            status = -9
        pump(0.2)
        text = out.decode("utf-8", "replace").replace("\r\n", "\n")
        result = {"output": text, "status": status, "failedStep": failed, "canonical": modes, "canonicalAtEnd": canonical()}
        json.dump(result, open(spec["result"], "w"))
        """#
}

/// A stand-in for the control API (Python's `http.server`): records each request's path, bearer token and
/// command as JSON lines, answers LIST with one agent and anything starting with KILL with a 404 error.
struct FakeControlAPI {
    let process: Process
    let port: Int
    let log: URL
    var url: String { "http://127.0.0.1:\(port)" }

    static func start(in folder: URL) async throws -> FakeControlAPI {
        let script = folder.appendingPathComponent("control.py")
        try Data(source.utf8).write(to: script)
        let log = folder.appendingPathComponent("requests.jsonl")
        let portFile = folder.appendingPathComponent("port")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, log.path, portFile.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let started = try await waitUntil { (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) } != nil }
        guard started, let port = Int(try String(contentsOf: portFile, encoding: .utf8)) else {
            process.terminate()
            throw PTYSession.PTYFailure(message: "the fake control API did not start")
        }
        return FakeControlAPI(process: process, port: port, log: log)
    }

    func requests() throws -> [JSONValue] {
        try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap { JSONValue.parse(Data($0.utf8)) }
    }

    func stop() { process.terminate() }

    static let source = #"""
        import http.server, json, os, sys

        log_path, port_path = sys.argv[1], sys.argv[2]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                command = json.loads(body).get("command", "")
                with open(log_path, "a") as log:
                    log.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization"), "command": command}) + "\n")
                if command.startswith("KILL"):
                    status, reply = 404, {"ok": False, "error": {"code": "not_found", "message": "no agent named nobody"}}
                else:
                    agent = {"name": "remote-1", "role": "reviewer", "model": "m-1", "status": {"state": "live", "cursor": 7, "lag": 2}}
                    status, reply = 200, {"ok": True, "result": {"agents": [agent]}}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(port_path + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(port_path + ".tmp", port_path)
        server.serve_forever()
        """#
}
