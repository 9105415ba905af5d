import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import MarksyncAgents
import MarksyncClient
import MarksyncControl
import MarksyncCore
import MarksyncDSL
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization
import Testing

let controlReadme = TestProject.readme

let mainBlock = "markpact:file=app/main.py"

/// The admin token of a harness started without tokens (the control API always needs one), sent by default
/// by ``http(_:_:body:bytes:token:headers:stream:)``, ``execute(_:_:token:)`` and ``DSLSocket/connect(_:token:timeout:)``.
let harnessToken = "harness-admin-token"
let depsBlock = "markpact:deps=python"

/// A live sync server, a fake LLM, an empty started runtime with its DSL executor, and a ControlServer on
/// 127.0.0.1 with an OS-chosen port over them.
struct ControlHarness: Sendable {
    let live: LiveSyncServer
    let llm: FakeLLMServer
    let orchestrator: Orchestrator
    let executor: DSLExecutor
    let port: Int
    let task: Task<Void, any Error>

    var base: String { "http://127.0.0.1:\(port)" }
    var socketURL: String { "ws://127.0.0.1:\(port)/ws/dsl" }

    static func start(
        tokens: String? = nil, llmResponder: @escaping @Sendable (FakeLLMServer.Request) async -> FakeLLMServer.Reply = { _ in .text("OK\nlooks fine") }
    ) async throws -> ControlHarness {
        let live = try await LiveSyncServer.start(markdown: controlReadme)
        let llm = try await FakeLLMServer.start(responder: llmResponder)
        let orchestrator = try Orchestrator(plan: OrchestrationPlan(), defaults: Orchestrator.Defaults(), output: .silent)
        await orchestrator.start()
        let executor = DSLExecutor(
            orchestrator: orchestrator,
            settings: [
                "server_uri": live.url, "doc": live.document, "ollama_url": llm.baseURL, "ollama_model": "qwen2.5-coder:7b",
                "llm_provider": "ollama",
            ])
        let tokenSet = try TokenSet(parsing: tokens ?? "\(harnessToken):admin")
        var logger = Logger(label: "control-test")
        logger.logLevel = .critical
        let server = ControlServer(api: ControlAPI(executor: executor, tokens: tokenSet), host: "127.0.0.1", port: 0, logger: logger)
        let (ports, feed) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run(onReady: { feed.yield($0) }) }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        guard port > 0 else { throw HarnessError(message: "the control server did not start") }
        return ControlHarness(live: live, llm: llm, orchestrator: orchestrator, executor: executor, port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await orchestrator.stop()
        await live.stop()
        await llm.stop()
    }

    /// A person writing to the document through the sync protocol.
    func person(_ name: String = "human") async throws -> SyncClient {
        var options = SyncClient.Options()
        options.name = name
        options.document = live.document
        options.requestTimeout = .seconds(20)
        return try await SyncClient.connect(to: live.url, options: options)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// An HTTP answer.
struct HTTPReply: Sendable {
    var status: Int
    var contentType: String
    var text: String
    var json: JSONValue? { JSONValue.parse(Array(text.utf8)) }
    /// `error.code` of an error body.
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    /// True when the body is `{error: {code: String, message: String}}`.
    var isErrorBody: Bool { errorCode != nil && json?["error"]?["message"]?.stringValue != nil }
}

/// One request with AsyncHTTPClient; `stream` reads only the head and the first chunk (for endless bodies).
func http(
    _ method: HTTPMethod, _ url: String, body: String? = nil, bytes: Int? = nil, token: String? = harnessToken, headers: [(String, String)] = [],
    stream: Bool = false
) async throws -> HTTPReply {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    if let bytes { request.body = .bytes(ByteBuffer(repeating: UInt8(ascii: "x"), count: bytes)) }
    // The control API takes JSON bodies only (a cross-site text/plain post is refused).
    if body != nil || bytes != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
        request.headers.add(name: "Content-Type", value: "application/json")
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let contentType = response.headers.first(name: "Content-Type") ?? ""
    if stream {
        var iterator = response.body.makeAsyncIterator()
        let first = try await iterator.next()
        return HTTPReply(status: Int(response.status.code), contentType: contentType, text: first.map { String(buffer: $0) } ?? "")
    }
    let buffer = try await response.body.collect(upTo: 16 << 20)
    return HTTPReply(status: Int(response.status.code), contentType: contentType, text: String(buffer: buffer))
}

/// `POST /api/v1/execute {command}`.
func execute(_ harness: ControlHarness, _ command: String, token: String? = harnessToken) async throws -> HTTPReply {
    try await http(.POST, "\(harness.base)/api/v1/execute", body: JSONValue.object(["command": .string(command)]).text, token: token)
}

/// A `/ws/dsl` client (HummingbirdWSClient): every message received is kept; `next` awaits one.
final class DSLSocket: Sendable {
    private struct State {
        var pending: [JSONValue] = []
        var all: [String] = []
        var writer: WebSocketOutboundWriter?
        var closed = false
        var failure: String?
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Connects; throws when the upgrade is refused or nothing happens within `timeout`.
    static func connect(_ url: String, token: String? = harnessToken, timeout: Duration = .seconds(10)) async throws -> DSLSocket {
        let socket = DSLSocket()
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = 1 << 22
        // A token in the URL is the one meant (the harness's default header would win over it).
        if let token, !(url.contains("?token=") && token == harnessToken) { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        var logger = Logger(label: "dsl-socket")
        logger.logLevel = .critical
        let task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                    socket.state.withLock { $0.writer = outbound }
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        guard case .text(let text) = message else { continue }
                        socket.state.withLock { state in
                            state.all.append(text)
                            if let value = JSONValue.parse(Array(text.utf8)) { state.pending.append(value) }
                        }
                    }
                }
            } catch {
                socket.state.withLock { $0.failure = "\(error)" }
            }
            socket.state.withLock {
                $0.closed = true
                $0.writer = nil
            }
        }
        socket.task.withLock { $0 = task }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (ready, closed, failure) = socket.state.withLock { ($0.writer != nil, $0.closed, $0.failure) }
            if ready { return socket }
            if closed { throw HarnessError(message: "cannot connect to \(url): \(failure ?? "closed")") }
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        throw HarnessError(message: "cannot connect to \(url): timeout")
    }

    /// Every text message received so far.
    var received: [String] { state.withLock { $0.all } }

    func send(_ text: String) async throws {
        guard let writer = state.withLock({ $0.writer }) else { throw HarnessError(message: "the socket is closed") }
        try await writer.write(.text(text))
    }

    /// Sends `{"command": line}`.
    func command(_ line: String) async throws { try await send(JSONValue.object(["command": .string(line)]).text) }

    /// The next message accepted by `accept` (earlier ones are dropped); nil after `timeout`.
    func next(timeout: Duration = .seconds(20), where accept: (JSONValue) -> Bool = { _ in true }) async -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = state.withLock { state -> JSONValue? in
                while !state.pending.isEmpty {
                    let value = state.pending.removeFirst()
                    if accept(value) { return value }
                }
                return nil
            }
            if let found { return found }
            if state.withLock({ $0.closed }) || ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next message of this type.
    func next(type: String, timeout: Duration = .seconds(20)) async -> JSONValue? {
        await next(timeout: timeout) { $0["type"]?.stringValue == type }
    }

    /// Messages not taken by `next` yet.
    var pending: [JSONValue] { state.withLock { $0.pending } }

    func close() async {
        if let writer = state.withLock({ $0.writer }) { try? await writer.close(.normalClosure, reason: nil) }
        let deadline = ContinuousClock.now + .seconds(2)
        while !state.withLock({ $0.closed }), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        task.withLock { $0 }?.cancel()
    }
}

/// Whether the environment says this is CI.
var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" && $0 != "false" } ?? false }

/// Runs a child process with `input` on standard input; its exit status and output.
func runProcess(_ arguments: [String], input: String, timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stdout
    let collected = Mutex(Data())
    stdout.fileHandleForReading.readabilityHandler = { handle in
        let data = handle.availableData
        if data.isEmpty { handle.readabilityHandler = nil } else { collected.withLock { $0.append(data) } }
    }
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try? stdin.fileHandleForWriting.close()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
        if ContinuousClock.now > deadline {
            process.terminate()
            process.waitUntilExit()
            throw HarnessError(message: "\(arguments) did not finish in \(timeout)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    try await Task.sleep(for: .milliseconds(50))
    stdout.fileHandleForReading.readabilityHandler = nil
    let rest = (try? stdout.fileHandleForReading.readToEnd()) ?? nil
    return (process.terminationStatus, collected.withLock { String(decoding: $0 + (rest ?? Data()), as: UTF8.self) })
}

/// The OpenAPI validator (PyPI openapi-spec-validator) on a document: nil when valid, else its complaint.
/// Skips the test when python3 lacks the module outside CI.
func openAPIProblem(_ document: JSONValue) async throws -> String? {
    let probe = try? await runProcess(["python3", "-c", "import openapi_spec_validator"], input: "")
    if probe?.status != 0 {
        let message = "python3 with openapi-spec-validator is needed (scripts/setup.sh installs it): \(probe?.output ?? "no python3")"
        if isCI { throw HarnessError(message: message) }
        try Test.cancel(Comment(rawValue: "skipped: \(message)"))
    }
    let script = "from openapi_spec_validator import validate; import json,sys; validate(json.load(sys.stdin))"
    let result = try await runProcess(["python3", "-c", script], input: document.text)
    return result.status == 0 ? nil : result.output
}
