import Foundation
import Hummingbird
import Logging
import NIOCore

/// A local LLM server for tests: speaks Ollama's API (`/api/generate`, `/api/chat`, `/api/tags`) and the
/// OpenAI chat-completions API (`/v1/chat/completions`, `/v1/models`), streamed (NDJSON, server-sent
/// events) or not, on 127.0.0.1 with an OS-chosen port.
///
/// Streamed replies come in several chunks, some cut in the middle of a line (and so sometimes in the
/// middle of a UTF-8 character), with a short pause between chunks so they reach the client apart.
///
/// ```swift
/// let server = try await FakeLLMServer.start()
/// await server.enqueue([.status(500, body: "{}"), .text("hello")])
/// let llm = LLMClient(configuration: LLMConfiguration(baseURL: server.baseURL))
/// ```
public actor FakeLLMServer {
    /// How to answer one generation request.
    public indirect enum Reply: Sendable {
        /// The text as the model's answer, in the format and mode (streamed or not) that was asked for.
        case text(String)
        /// An HTTP status with a JSON body, sent as is.
        case status(Int, body: String)
        /// Waits, then answers.
        case delay(Duration, then: Reply)
        /// Closes the connection without a reply.
        case disconnect
        /// Sends the head and the first part of a streamed reply of the text, then closes the connection.
        case brokenStream(String)
        /// A streamed reply of the text with `pause` between its chunks (for idle timeouts).
        case slowStream(String, pause: Duration)
    }

    /// A message of a chat request.
    public struct Message: Sendable, Equatable {
        public let role: String
        public let content: String

        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    /// A generation request as the server saw it.
    public struct Request: Sendable {
        /// `/api/generate`, `/api/chat` or `/v1/chat/completions`.
        public let path: String
        public let model: String?
        /// Generate's `system`, or the first system message of a chat.
        public let system: String?
        /// Generate's prompt, or the content of the last user message.
        public let prompt: String
        public let messages: [Message]
        /// Whether a streamed reply was asked for (Ollama's default is true, OpenAI's false).
        public let stream: Bool
        /// The `Authorization` header.
        public let authorization: String?
        /// The raw request body (JSON).
        public let body: String
    }

    /// `http://127.0.0.1:PORT`.
    public nonisolated let baseURL: String
    /// The bound port.
    public nonisolated let port: Int
    private let state: State
    private let runTask: Task<Void, any Error>

    private init(baseURL: String, port: Int, state: State, runTask: Task<Void, any Error>) {
        self.baseURL = baseURL
        self.port = port
        self.state = state
        self.runTask = runTask
    }

    /// Starts on 127.0.0.1 with an OS-chosen port. `models` are the installed models (a request for
    /// another model gets the provider's 404 model-missing answer). `responder` answers every generation
    /// request that no queued reply answers; the default echoes "ECHO: " + prompt.
    public static func start(
        models: [String] = ["qwen2.5-coder:7b"],
        responder: @escaping @Sendable (Request) async -> Reply = { .text("ECHO: " + $0.prompt) }
    ) async throws -> FakeLLMServer {
        let state = State(models: models, responder: responder)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-llm")
        // Stopping cancels the server, which Hummingbird logs as an error.
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder { (request: Hummingbird.Request, context: FakeContext) in
                try await state.respond(to: request, context: context)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "fake-llm"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: logger
        )
        let runTask = Task {
            // Ends the port stream too when the server cannot start.
            defer { portContinuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            runTask.cancel()
            _ = await runTask.result
            throw FakeLLMServerError(message: "the fake LLM server did not start")
        }
        return FakeLLMServer(baseURL: "http://127.0.0.1:\(port)", port: port, state: state, runTask: runTask)
    }

    /// Replies answered first, FIFO, before the responder.
    public func enqueue(_ replies: [Reply]) async {
        await state.enqueue(replies)
    }

    /// Replaces the responder.
    public func setResponder(_ responder: @escaping @Sendable (Request) async -> Reply) async {
        await state.setResponder(responder)
    }

    /// The generation requests (generate, chat, completions), in arrival order.
    public var requests: [Request] {
        get async { await state.requests }
    }

    /// How many generation requests arrived.
    public var generationCount: Int {
        get async { await state.requests.count }
    }

    /// Stops the server and closes its connections; its port then refuses connections.
    public func stop() async {
        runTask.cancel()
        _ = await runTask.result
    }
}

/// An error of the test support code.
public struct FakeLLMServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The request context: Hummingbird's, plus the channel (to close it for `.disconnect`).
struct FakeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Thrown after closing a connection on purpose.
struct ClosedOnPurpose: Error {}

extension FakeLLMServer {
    /// The server's state, and the HTTP side.
    actor State {
        let models: [String]
        var responder: @Sendable (Request) async -> Reply
        var queue: [Reply] = []
        var requests: [Request] = []

        init(models: [String], responder: @escaping @Sendable (Request) async -> Reply) {
            self.models = models
            self.responder = responder
        }

        func enqueue(_ replies: [Reply]) { queue.append(contentsOf: replies) }
        func setResponder(_ responder: @escaping @Sendable (Request) async -> Reply) { self.responder = responder }

        private func record(_ request: Request) -> Reply? {
            requests.append(request)
            return queue.isEmpty ? nil : queue.removeFirst()
        }

        nonisolated func respond(to request: Hummingbird.Request, context: FakeContext) async throws -> Response {
            let path = request.uri.path
            switch (request.method, path) {
            case (.get, "/api/tags"):
                let list = models.map { ["name": $0, "model": $0, "size": 0] as [String: Any] }
                return json(200, ["models": list])
            case (.get, "/v1/models"):
                let list = models.map { ["id": $0, "object": "model", "owned_by": "fake"] as [String: Any] }
                return json(200, ["object": "list", "data": list])
            case (.post, "/api/generate"), (.post, "/api/chat"), (.post, "/v1/chat/completions"):
                break
            default:
                return Response(status: .notFound, body: ResponseBody(byteBuffer: ByteBuffer(string: "404 page not found")))
            }

            let bodyBuffer = try await request.body.collect(upTo: 16 << 20)
            let bodyText = String(buffer: bodyBuffer)
            let object = (try? JSONSerialization.jsonObject(with: Data(bodyText.utf8))) as? [String: Any] ?? [:]
            let format = Format(path: path)
            let messages = (object["messages"] as? [[String: Any]] ?? []).map {
                Message(role: $0["role"] as? String ?? "", content: $0["content"] as? String ?? "")
            }
            let prompt = object["prompt"] as? String ?? messages.last { $0.role == "user" }?.content ?? ""
            let system = object["system"] as? String ?? messages.first { $0.role == "system" }?.content
            let recorded = Request(
                path: path,
                model: object["model"] as? String,
                system: system,
                prompt: prompt,
                messages: messages,
                stream: object["stream"] as? Bool ?? (format != .openAI),
                authorization: request.headers[.authorization],
                body: bodyText
            )
            let queued = await record(recorded)

            let model = recorded.model ?? ""
            guard models.contains(model) else {
                switch format {
                case .openAI:
                    return json(
                        404,
                        [
                            "error": [
                                "message": "The model `\(model)` does not exist or you do not have access to it.",
                                "type": "invalid_request_error", "code": "model_not_found",
                            ]
                        ])
                case .generate, .chat:
                    return json(404, ["error": "model \"\(model)\" not found, try pulling it first"])
                }
            }
            let reply: Reply
            if let queued {
                reply = queued
            } else {
                reply = await responder(recorded)
            }
            return try await render(reply, format: format, model: model, stream: recorded.stream, channel: context.channel)
        }

        private nonisolated func render(_ reply: Reply, format: Format, model: String, stream: Bool, channel: any Channel) async throws
            -> Response
        {
            switch reply {
            case .delay(let duration, let then):
                try await Task.sleep(for: duration)
                return try await render(then, format: format, model: model, stream: stream, channel: channel)
            case .status(let status, let body):
                var response = Response(status: .init(code: status), body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
                response.headers[.contentType] = "application/json; charset=utf-8"
                return response
            case .disconnect:
                try? await channel.close().get()
                throw ClosedOnPurpose()
            case .text(let text) where !stream:
                return json(200, format.whole(text, model: model))
            case .text(let text):
                return streamed(format.chunks(text, model: model), format: format, pause: .milliseconds(2), breakAfter: nil, channel: channel)
            case .slowStream(let text, let pause):
                return streamed(format.chunks(text, model: model), format: format, pause: pause, breakAfter: nil, channel: channel)
            case .brokenStream(let text):
                let lines = format.chunks(text, model: model)
                // Stops halfway through the lines, in the middle of one.
                return streamed(lines, format: format, pause: .milliseconds(2), breakAfter: max(1, lines.count / 2), channel: channel)
            }
        }

        /// A chunked reply of `lines`; odd lines go out in two writes cut mid-line. With `breakAfter`, the
        /// connection is closed after that many lines and half of the next one.
        private nonisolated func streamed(_ lines: [String], format: Format, pause: Duration, breakAfter: Int?, channel: any Channel)
            -> Response
        {
            var response = Response(
                status: .ok,
                body: ResponseBody { writer in
                    for (index, line) in lines.enumerated() {
                        let bytes = Array(line.utf8)
                        let cut = index % 2 == 1 || index == breakAfter ? bytes.count / 2 : bytes.count
                        try await writer.write(ByteBuffer(bytes: bytes[..<cut]))
                        try await Task.sleep(for: pause)
                        if index == breakAfter {
                            try? await channel.close().get()
                            throw ClosedOnPurpose()
                        }
                        if cut < bytes.count {
                            try await writer.write(ByteBuffer(bytes: bytes[cut...]))
                            try await Task.sleep(for: pause)
                        }
                    }
                    try await writer.finish(nil)
                })
            response.headers[.contentType] = format == .openAI ? "text/event-stream" : "application/x-ndjson"
            return response
        }

        private nonisolated func json(_ status: Int, _ object: [String: Any]) -> Response {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
            var response = Response(status: .init(code: status), body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
            response.headers[.contentType] = "application/json; charset=utf-8"
            return response
        }
    }

    /// The wire format of an endpoint.
    enum Format: Equatable {
        case generate
        case chat
        case openAI

        init(path: String) {
            switch path {
            case "/api/generate": self = .generate
            case "/api/chat": self = .chat
            default: self = .openAI
            }
        }

        /// A non-streamed reply.
        func whole(_ text: String, model: String) -> [String: Any] {
            switch self {
            case .generate:
                return ["model": model, "created_at": "2025-01-01T00:00:00Z", "response": text, "done": true, "done_reason": "stop"]
            case .chat:
                return [
                    "model": model, "created_at": "2025-01-01T00:00:00Z", "message": ["role": "assistant", "content": text],
                    "done": true, "done_reason": "stop",
                ]
            case .openAI:
                return [
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
                    "choices": [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": "stop"]],
                    "usage": ["prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2],
                ]
            }
        }

        /// The lines of a streamed reply (each with its line end): NDJSON objects, or SSE events with a
        /// keep-alive comment first and `[DONE]` last.
        func chunks(_ text: String, model: String) -> [String] {
            let pieces = Self.pieces(text)
            switch self {
            case .generate:
                return pieces.map { Self.line(["model": model, "response": $0, "done": false]) }
                    + [Self.line(["model": model, "response": "", "done": true, "done_reason": "stop", "eval_count": pieces.count])]
            case .chat:
                return pieces.map { Self.line(["model": model, "message": ["role": "assistant", "content": $0], "done": false]) }
                    + [Self.line(["model": model, "message": ["role": "assistant", "content": ""], "done": true, "done_reason": "stop"])]
            case .openAI:
                func event(_ delta: [String: Any], finish: String?) -> String {
                    let chunk: [String: Any] = [
                        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                        "choices": [["index": 0, "delta": delta, "finish_reason": finish as Any? ?? NSNull()]],
                    ]
                    return "data: " + Self.line(chunk) + "\n"
                }
                return [": keep-alive\n\n", event(["role": "assistant", "content": ""], finish: nil)]
                    + pieces.map { event(["content": $0], finish: nil) }
                    + [event([:], finish: "stop"), "data: [DONE]\n\n"]
            }
        }

        /// The text cut into up to 4 pieces of whole characters (a reply of several chunks).
        static func pieces(_ text: String) -> [String] {
            let characters = Array(text)
            guard characters.count > 1 else { return [text] }
            let size = max(1, (characters.count + 3) / 4)
            return stride(from: 0, to: characters.count, by: size).map { String(characters[$0..<min($0 + size, characters.count)]) }
        }

        static func line(_ object: [String: Any]) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }
}
