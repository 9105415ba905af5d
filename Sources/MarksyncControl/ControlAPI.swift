import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import MarksyncCore
import MarksyncDSL
import MarksyncServer
import NIOCore
import Synchronization

/// The control API (contract §5): DSL commands over HTTP and a WebSocket, the agents, pipelines, routes,
/// settings and status of a live ``DSLExecutor``, and the OpenAPI document of marksync-log's HTTP APIs.
///
/// | route | scope |
/// |---|---|
/// | `GET /api/v1/health`, `GET /openapi.json`, `GET /docs` | open |
/// | `GET /api/v1/agents[/{name}]`, `/pipelines`, `/routes`, `/config`, `/status`; `/ws/dsl` | `read` |
/// | `POST /api/v1/execute`, `POST /api/v1/script`, `DELETE /api/v1/agents/{name}`; WebSocket commands | `write` |
/// | commands touching the host's files, commands or secrets (``requiredScope(for:)``) | `admin` |
///
/// Every route but the open ones needs a token (the CLI makes a random one at start when none is configured,
/// Jupyter's model): the control API runs commands on the host, so no web page may reach it. Tokens come
/// from `Authorization: Bearer` or `?token=` and are never logged or echoed. `Host` and `Origin` are checked
/// by the same ``AccessMiddleware`` as the sync server's, and `POST`s need `Content-Type: application/json`
/// (a cross-site `text/plain` form post needs no preflight; JSON does).
///
/// ```swift
/// let api = ControlAPI(executor: executor, tokens: try TokenSet(parsing: "s3cret:admin"))
/// let router = Router()
/// api.register(on: router)
/// ```
public struct ControlAPI: Sendable {
    /// The executor every command runs on.
    public let executor: DSLExecutor
    /// The tokens accepted (empty: none, so every route that needs a scope answers 401).
    public let tokens: TokenSet
    /// Host, Origin and token checks (a token is always required).
    public let access: AccessPolicy
    /// The `/ws/dsl` connections.
    let sockets: DSLSockets

    /// The largest request body accepted (`413 too_large` above).
    public static let maxBodyBytes = 1 << 20
    /// The service name of `GET /api/v1/health`.
    public static let serviceName = "marksync-log-control"

    /// A control API over `executor`, for the holders of `tokens`; `allowedOrigins` and `allowedHosts` as in
    /// ``AccessPolicy``.
    public init(executor: DSLExecutor, tokens: TokenSet, allowedOrigins: [String] = [], allowedHosts: [String] = []) {
        self.executor = executor
        self.tokens = tokens
        self.access = AccessPolicy(tokens: tokens, allowedOrigins: allowedOrigins, allowedHosts: allowedHosts, requiresToken: true)
        self.sockets = DSLSockets()
    }

    // MARK: - Scopes

    /// Settings whose change touches the host (files, commands) or a secret: `SET` of them needs `admin`.
    public static let adminSettings: Set<String> = ["token", "server_uri", "deploy", "deploy_command", "work_dir", "audit_file", "readme"]
    /// `AGENT` options that touch the host (a deployer's command and folder, an audit file): they need `admin`.
    public static let adminAgentOptions: Set<String> = ["command", "work_dir", "work_folder", "audit_file", "output", "enabled", "deploy"]
    /// Commands that change the runtime: the other `/ws/dsl` clients are told about them.
    public static let changingVerbs: Set<DSLCommand.Verb> = [
        .agent, .kill, .pipe, .route, .set, .send, .deploy, .connect, .disconnect, .load,
    ]

    /// The scope a DSL line needs: `read` for `LIST`, `STATUS`, `LOG`, `HELP` and comments; `admin` for
    /// `LOAD`, `SAVE`, `SET` of ``adminSettings``, `CONNECT <uri>` and `AGENT` with ``adminAgentOptions``;
    /// `write` for the rest (a line that does not parse too: the executor answers its syntax error).
    /// Over HTTP, `POST` always needs at least `write`.
    public static func requiredScope(for line: String) -> TokenScope {
        let parsed: DSLCommand?
        do { parsed = try DSLParser.parse(line) } catch { return .write }
        guard let command = parsed else { return .read }
        switch command.verb {
        case .list, .status, .log, .help: return .read
        case .load, .save: return .admin
        case .set: return adminSettings.contains(settingKey(command.target)) ? .admin : .write
        case .connect: return command.target.isEmpty ? .write : .admin
        case .agent: return command.options.keys.contains(where: adminAgentOptions.contains) ? .admin : .write
        default: return .write
        }
    }

    /// Whether the other `/ws/dsl` clients hear of this command: a successful command that changes the runtime.
    static func isChange(_ line: String, reply: JSONValue) -> Bool {
        guard reply["ok"]?.boolValue == true, let command = try? DSLParser.parse(line) else { return false }
        if command.verb == .sync { return ["push", "pull"].contains(command.target.lowercased()) }
        return changingVerbs.contains(command.verb)
    }

    static func settingKey(_ text: String) -> String { text.lowercased().replacingOccurrences(of: "-", with: "_") }

    /// The line as it may be shown: the value of `SET token …` is masked.
    static func redacted(_ line: String) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count >= 2, words[0].uppercased() == "SET" else { return line }
        let key = settingKey(words[1].trimmingCharacters(in: CharacterSet(charactersIn: "'\"")))
        return key == "token" ? "SET token ***" : line
    }

    /// The reply as it may be shown: the commands listed by `LOG`, and by a script's (or `LOAD`'s) results,
    /// with `SET token …` masked.
    static func redacted(reply: JSONValue) -> JSONValue {
        guard case .object(var object) = reply, case .object(var result)? = object["result"] else { return reply }
        for key in ["entries", "results"] {
            guard case .array(let entries)? = result[key] else { continue }
            result[key] = .array(
                entries.map { entry in
                    guard case .object(var fields) = entry else { return entry }
                    if let command = fields["command"]?.stringValue { fields["command"] = .string(redacted(command)) }
                    if let inner = fields["reply"] { fields["reply"] = redacted(reply: inner) }
                    return .object(fields)
                })
        }
        object["result"] = .object(result)
        return .object(object)
    }

    /// Runs one line (`origin`: the `/ws/dsl` connection it came from, which gets no event for it).
    /// `record`: keep the line in the executor's history (off for the API's own reads).
    func run(_ line: String, origin: UUID? = nil, record: Bool = true) async -> JSONValue {
        await sockets.listen(to: executor)
        let reply = await DSLSockets.$origin.withValue(origin) { await executor.execute(line, record: record) }
        return Self.redacted(reply: reply)
    }

    // MARK: - HTTP

    /// Adds the control routes, `GET /openapi.json` and `GET /docs` to `router`.
    public func register(on router: Router<MarksyncRequestContext>) {
        router.get("/api/v1/health") { _, _ in
            Self.json(["status": "ok", "service": .string(Self.serviceName), "version": .string(MarksyncVersion.tool)])
        }
        router.get("/openapi.json") { _, _ in Self.json(OpenAPIDocument.document) }
        router.get("/docs") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.htmlPage)))
        }
        router.post("/api/v1/execute") { request, context in
            await guarded(context, .write) {
                let body = try await Self.jsonBody(request)
                guard let line = body["command"]?.stringValue else {
                    throw ControlError(.badRequest, "send {\"command\": \"<one DSL line>\"}")
                }
                guard !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw ControlError(.badRequest, "the command is empty; send {\"command\": \"<one DSL line>\"}")
                }
                try authorize(context, Self.requiredScope(for: line), what: Self.verb(of: line))
                return Self.json(await run(line))
            }
        }
        router.post("/api/v1/script") { request, context in
            await guarded(context, .write) {
                let body = try await Self.jsonBody(request)
                guard let script = body["script"]?.stringValue else {
                    throw ControlError(.badRequest, "send {\"script\": \"<DSL lines>\"}")
                }
                // The lines exactly as `executeScript` splits and trims them.
                for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
                    let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
                    guard !text.isEmpty, !text.hasPrefix("#") else { continue }
                    try authorize(context, Self.requiredScope(for: text), what: Self.verb(of: text))
                }
                await sockets.listen(to: executor)
                return Self.json(Self.redacted(reply: await executor.executeScript(script)))
            }
        }
        router.get("/api/v1/agents") { _, context in await guarded(context, .read) { try await result(of: "LIST agents") } }
        router.get("/api/v1/agents/:name") { _, context in
            await guarded(context, .read) { try await result(of: "STATUS \(DSLScript.quote(try Self.name(context)))") }
        }
        router.delete("/api/v1/agents/:name") { _, context in
            await guarded(context, .write) { try await result(of: "KILL \(DSLScript.quote(try Self.name(context)))") }
        }
        router.get("/api/v1/pipelines") { _, context in await guarded(context, .read) { try await result(of: "LIST pipelines") } }
        router.get("/api/v1/routes") { _, context in await guarded(context, .read) { try await result(of: "LIST routes") } }
        router.get("/api/v1/config") { _, context in await guarded(context, .read) { try await result(of: "LIST config") } }
        router.get("/api/v1/status") { _, context in await guarded(context, .read) { try await result(of: "STATUS") } }
        // A plain GET of the socket's path (or an upgrade refused for its token) lands here.
        router.get("/ws/dsl") { _, context in
            await guarded(context, .read) {
                throw ControlError(.upgradeRequired, "connect with a WebSocket client (Upgrade: websocket)")
            }
        }
    }

    /// The `result` of a command's reply; its error as an HTTP error (`not_found` → 404).
    func result(of line: String) async throws -> Response {
        let verb = Self.verb(of: line)
        let reply = await run(line, record: verb != "LIST" && verb != "STATUS")
        if reply["ok"]?.boolValue == true { return Self.json(reply["result"] ?? .null) }
        let code = reply["error"]?["code"]?.stringValue ?? "failed"
        let message = reply["error"]?["message"]?.stringValue ?? "the command failed"
        throw ControlError(code == "not_found" ? .notFound : .failed, message, code: code)
    }

    static func name(_ context: some RequestContext) throws -> String {
        guard let raw = context.parameters.get("name"), let name = raw.removingPercentEncoding, !name.isEmpty else {
            throw ControlError(.badRequest, "the agent's name is missing")
        }
        return name
    }

    static func verb(of line: String) -> String {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map { $0.uppercased() } ?? "this"
    }

    /// Throws `unauthorized` / `forbidden` unless the request's identity has `needed`.
    func authorize(_ context: some IdentifiedRequestContext, _ needed: TokenScope, what: String? = nil) throws {
        guard let identity = context.identity else {
            throw ControlError(.unauthorized, "present a token: Authorization: Bearer … or ?token=… (printed by the server at start)")
        }
        guard identity.scope >= needed else {
            throw ControlError(.forbidden, "this token has \(identity.scope) scope; \(what.map { "\($0) needs" } ?? "this needs") \(needed)")
        }
    }

    /// Runs a handler with auth; every error is `{error: {code, message}}` with its status, never a stack trace.
    func guarded(_ context: some IdentifiedRequestContext, _ needed: TokenScope, _ body: @Sendable () async throws -> Response) async -> Response {
        do {
            try authorize(context, needed)
            return try await body()
        } catch let error as ControlError {
            return Self.failure(error)
        } catch {
            return Self.failure(ControlError(.internalError, "internal error"))
        }
    }

    /// The body as JSON: `413 too_large` over ``maxBodyBytes`` (the rest is read and dropped so the client
    /// gets the answer), `400 bad_request` when it is not a JSON object.
    static func jsonBody(_ request: Request) async throws -> JSONValue {
        // A page of another site can post text/plain, form or multipart bodies without a preflight; not JSON.
        guard let type = request.headers[.contentType]?.lowercased(), type.hasPrefix("application/json") else {
            throw ControlError(.unsupportedMediaType, "send the body as Content-Type: application/json", code: AccessReason.badContentType.rawValue)
        }
        var buffer = ByteBuffer()
        var total = 0
        do {
            for try await chunk in request.body {
                total += chunk.readableBytes
                if total <= maxBodyBytes {
                    var chunk = chunk
                    buffer.writeBuffer(&chunk)
                } else if total > 64 * maxBodyBytes {
                    break
                }
            }
        } catch {
            throw ControlError(.badRequest, "the request body could not be read")
        }
        guard total <= maxBodyBytes else { throw ControlError(.tooLarge, "the body is over \(maxBodyBytes) bytes") }
        guard let value = JSONValue.parse(Array(buffer.readableBytesView)), value.objectValue != nil else {
            throw ControlError(.badRequest, "the body is not a JSON object")
        }
        return value
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: value.text + "\n")))
    }

    static func failure(_ error: ControlError) -> Response {
        json(["error": ["code": .string(error.code), "message": .string(error.message)]], status: error.kind.status)
    }

    // MARK: - WebSocket

    /// The WebSocket handler for a request to `/ws/dsl` (`.dontUpgrade` for other paths, and for a missing or
    /// unknown token or a refused Host or Origin: the request then reaches the router, which answers 401 or 403). Pass it to
    /// `.http1WebSocketUpgrade`.
    public func shouldUpgrade(
        _ request: HTTPRequest, channel: any Channel, logger: Logger
    ) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let components = URLComponents(string: request.path ?? "/")
        guard components?.path == "/ws/dsl" else { return .dontUpgrade }
        // Host, Origin and token as for every route: a refused upgrade reaches the router, whose
        // AccessMiddleware (or `GET /ws/dsl`) answers it.
        let token = components?.queryItems?.first { $0.name == "token" }?.value
        let admitted: Identity?
        do throws(AccessRefusal) { admitted = try access.admit(request, queryToken: token) } catch {
            error.refuseUpgrade(on: channel, path: components?.path, logger: logger)
            return .dontUpgrade
        }
        guard let identity = admitted else {
            AccessRefusal(.unauthorized, .unauthorized, "present a token: Authorization: Bearer … or ?token=…")
                .refuseUpgrade(on: channel, path: components?.path, logger: logger)
            return .dontUpgrade
        }
        let scope = identity.scope
        let api = self
        let granted = scope
        return .upgrade([:]) { inbound, outbound, _ in
            await DSLSession(api: api, scope: granted).run(inbound: inbound, outbound: outbound)
        }
    }
}

/// One `/ws/dsl` connection: a snapshot, then a result per command; events from the others in between.
struct DSLSession {
    let api: ControlAPI
    let scope: TokenScope
    let id = UUID()

    static func message(_ type: String, command: String?, data: JSONValue) -> String {
        var object: [String: JSONValue] = ["type": .string(type), "data": data, "ts": .double(Date().timeIntervalSince1970)]
        if let command { object["command"] = .string(command) }
        return JSONValue.object(object).text
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let (outgoing, feed) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        await api.sockets.listen(to: api.executor)
        // Events from now on are held until the snapshot is out, so that none is missed or comes first.
        api.sockets.add(id, feed)
        defer { api.sockets.remove(id) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in outgoing {
                    do { try await outbound.write(.text(text)) } catch { return }
                }
            }
            let status = await api.run("STATUS", origin: id, record: false)
            feed.yield(Self.message("snapshot", command: nil, data: status["result"] ?? .null))
            api.sockets.ready(id)
            do {
                for try await message in inbound.messages(maxSize: ControlAPI.maxBodyBytes) {
                    let text: String
                    switch message {
                    case .text(let value): text = value
                    case .binary(let buffer): text = String(buffer: buffer)
                    }
                    feed.yield(await handle(text))
                }
            } catch {
                // The connection broke or sent a frame too large: it ends.
            }
            feed.finish()
            await group.waitForAll()
        }
    }

    /// The reply to one frame: `{"command": …}` or the raw text.
    func handle(_ text: String) async -> String {
        var line = text
        if let json = JSONValue.parse(Array(text.utf8)), json.objectValue != nil {
            line = json["command"]?.stringValue ?? ""
        }
        let shown = ControlAPI.redacted(line)
        guard !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            let error: JSONValue = ["ok": false, "error": ["code": "empty", "message": "send a DSL command: {\"command\": \"HELP\"}"]]
            return Self.message("result", command: shown, data: error)
        }
        let needed = ControlAPI.requiredScope(for: line)
        guard scope >= needed else {
            let message = "this token has \(scope) scope; \(ControlAPI.verb(of: line)) needs \(needed)"
            return Self.message("result", command: shown, data: ["ok": false, "error": ["code": "forbidden", "message": .string(message)]])
        }
        return Self.message("result", command: shown, data: await api.run(line, origin: id))
    }
}

/// The open `/ws/dsl` connections, and the executor listener that tells them of changes.
final class DSLSockets: Sendable {
    /// The connection a command came from (it gets a `result`, not an `event`).
    @TaskLocal static var origin: UUID?

    /// A connection's outgoing messages; `held` collects events until its snapshot is sent.
    private struct Connection {
        var feed: AsyncStream<String>.Continuation
        var held: [String]? = []
    }
    private struct State {
        var connections: [UUID: Connection] = [:]
        var listening: Task<Void, Never>?
    }
    private let state = Mutex(State())

    /// Registers the listener on the executor once (every caller waits until it is in place).
    func listen(to executor: DSLExecutor) async {
        let task = state.withLock { state in
            if let task = state.listening { return task }
            let task = Task { await executor.onCommand { line, reply in self.tell(line, reply) } }
            state.listening = task
            return task
        }
        await task.value
    }

    /// A new connection: its events are held until ``ready(_:)``.
    func add(_ id: UUID, _ feed: AsyncStream<String>.Continuation) { state.withLock { $0.connections[id] = Connection(feed: feed) } }

    /// The connection's snapshot is sent: the events held meanwhile follow it, and the next go out at once.
    func ready(_ id: UUID) {
        state.withLock { state in
            guard let held = state.connections[id]?.held else { return }
            for message in held { state.connections[id]?.feed.yield(message) }
            state.connections[id]?.held = nil
        }
    }

    func remove(_ id: UUID) { state.withLock { $0.connections[id] = nil } }

    /// Sends an `event` to every connection but the command's origin, for changes.
    func tell(_ line: String, _ reply: JSONValue) {
        guard ControlAPI.isChange(line, reply: reply) else { return }
        let origin = Self.origin
        let message = DSLSession.message("event", command: ControlAPI.redacted(line), data: ControlAPI.redacted(reply: reply))
        state.withLock { state in
            for (id, connection) in state.connections where id != origin {
                if connection.held != nil {
                    state.connections[id]?.held?.append(message)
                } else {
                    connection.feed.yield(message)
                }
            }
        }
    }
}

/// The control API's one error type: an HTTP failure with its stable `code`, or a problem starting the server.
public struct ControlError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure, each with its HTTP status.
    public enum Kind: Sendable {
        case badRequest, unauthorized, forbidden, notFound, tooLarge, upgradeRequired, failed, internalError, unsafeBind, unsupportedMediaType

        var status: HTTPResponse.Status {
            switch self {
            case .badRequest: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .tooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .upgradeRequired: .upgradeRequired
            case .failed: .conflict
            case .internalError, .unsafeBind: .internalServerError
            }
        }

        var code: String {
            switch self {
            case .badRequest: "bad_request"
            case .unauthorized: "unauthorized"
            case .forbidden: "forbidden"
            case .notFound: "not_found"
            case .tooLarge: "too_large"
            case .unsupportedMediaType: "bad_content_type"
            case .upgradeRequired: "upgrade_required"
            case .failed: "failed"
            case .internalError: "internal"
            case .unsafeBind: "unsafe_bind"
            }
        }
    }

    /// What failed (it gives the HTTP status).
    public var kind: Kind
    /// A stable reason code (`bad_request`, `unauthorized`, `forbidden`, `not_found`, `too_large`, …).
    public var code: String
    /// What went wrong, for people (never a token).
    public var message: String

    /// A failure of `kind`; `code` defaults to the kind's (`bad_request`, `forbidden`, …).
    public init(_ kind: Kind, _ message: String, code: String? = nil) {
        self.kind = kind
        self.code = code ?? kind.code
        self.message = message
    }

    public var description: String { message }
}
