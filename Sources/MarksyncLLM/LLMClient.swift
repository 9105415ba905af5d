import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The LLM client: Ollama's API or the OpenAI chat-completions API over AsyncHTTPClient, streamed or
/// not, with deadlines and retries.
///
/// ```swift
/// let llm = LLMClient(configuration: .from(settings: settings.value))
/// let answer = try await llm.chat([.system("Be brief."), .user("Hi")])
/// ```
public final class LLMClient: LanguageModel {
    public let configuration: LLMConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    private let counters = Mutex(LLMClientStats())

    /// The largest reply read whole (non-streamed replies, model lists) and the longest streamed line.
    static let maxBodyBytes = 16 << 20
    /// The most of an error body read for its message.
    static let maxErrorBodyBytes = 64 << 10

    /// The HTTP client used when none is given: the shared event loops; a connection that is refused
    /// fails at once instead of being retried by the pool until the deadline (the client's own retries
    /// apply); 10 s to connect; no read timeout (``LLMConfiguration/idleTimeout`` covers it).
    public static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: nil)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A client; `httpClient` is not shut down by it.
    public init(
        configuration: LLMConfiguration, httpClient: HTTPClient = LLMClient.defaultHTTPClient,
        logger: Logger = Logger(label: "marksync.llm")
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// Counters since the client was made.
    public var stats: LLMClientStats { counters.withLock { $0 } }

    // MARK: - LanguageModel

    public func generate(prompt: String, system: String?) async throws -> String {
        switch configuration.provider {
        case .ollama:
            let request = OllamaAPI.GenerateRequest(
                model: configuration.model, prompt: prompt, system: system, stream: configuration.stream,
                options: ollamaOptions)
            return try await complete(path: "api/generate", body: try encode(request), onToken: nil)
        case .openai:
            var messages: [LLMMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(prompt))
            return try await chat(messages, onToken: nil)
        }
    }

    public func chat(_ messages: [LLMMessage], onToken: (@Sendable (String) -> Void)?) async throws -> String {
        switch configuration.provider {
        case .ollama:
            let request = OllamaAPI.ChatRequest(
                model: configuration.model, messages: messages, stream: configuration.stream, options: ollamaOptions)
            return try await complete(path: "api/chat", body: try encode(request), onToken: onToken)
        case .openai:
            let request = OpenAIAPI.ChatRequest(
                model: configuration.model, messages: messages, stream: configuration.stream,
                temperature: configuration.temperature, max_tokens: configuration.maxTokens)
            return try await complete(path: "chat/completions", body: try encode(request), onToken: onToken)
        }
    }

    public func models() async throws -> [String] {
        try await retrying { try await self.modelsAttempt(timeout: self.configuration.timeout) }
    }

    /// True when the server answers `/api/tags` (or `/v1/models`); one attempt of at most 10 s.
    public func health() async -> Bool {
        do {
            _ = try await modelsAttempt(timeout: min(configuration.timeout, .seconds(10)))
            return true
        } catch {
            return false
        }
    }

    // MARK: - Requests

    private var ollamaOptions: OllamaAPI.Options? {
        let options = OllamaAPI.Options(temperature: configuration.temperature, num_predict: configuration.maxTokens)
        return options.isEmpty ? nil : options
    }

    private func encode(_ value: some Encodable) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return ByteBuffer(bytes: try encoder.encode(value))
        } catch {
            throw LLMError(code: .badResponse, message: "could not encode the request: \(error)")
        }
    }

    /// A completion with retries: POSTs `body` to `path` and reads the text, streamed or whole.
    private func complete(path: String, body: ByteBuffer, onToken: (@Sendable (String) -> Void)?) async throws -> String {
        let url = configuration.url(path)
        return try await retrying {
            try await Watchdog.run(timeout: self.configuration.timeout, idleTimeout: self.configuration.idleTimeout) {
                watchdog in
                let response = try await self.send(url: url, body: body)
                try await self.checkStatus(response)
                let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
                // A server may answer a streamed request with one JSON body; read that whole.
                if self.configuration.stream, !contentType.hasPrefix("application/json") {
                    watchdog.touch()
                    return try await self.readStream(response.body, watchdog: watchdog, onToken: onToken)
                }
                let text = try self.parseWhole(try await self.collect(response.body))
                if let onToken, !text.isEmpty { onToken(text) }
                return text
            }
        }
    }

    private func modelsAttempt(timeout: Duration) async throws -> [String] {
        let url = configuration.url(configuration.provider == .ollama ? "api/tags" : "models")
        return try await Watchdog.run(timeout: timeout, idleTimeout: configuration.idleTimeout) { _ in
            let response = try await self.send(url: url, body: nil)
            try await self.checkStatus(response)
            let body = try await self.collect(response.body)
            switch self.configuration.provider {
            case .ollama:
                let tags = try self.decode(OllamaAPI.Tags.self, Array(buffer: body))
                return (tags.models ?? []).compactMap { $0.name ?? $0.model }
            case .openai:
                let list = try self.decode(OpenAIAPI.Models.self, Array(buffer: body))
                return (list.data ?? []).compactMap(\.id)
            }
        }
    }

    private func send(url: String, body: ByteBuffer?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        if let body {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        if configuration.provider == .openai, let key = configuration.apiKey, !key.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        counters.withLock { $0.requests += 1 }
        // The watchdog's deadline comes first; AsyncHTTPClient's only frees the connection if it did not.
        return try await httpClient.execute(request, deadline: .now() + TimeAmount(configuration.timeout + .seconds(1)))
    }

    /// Throws the error for a non-2xx answer.
    private func checkStatus(_ response: HTTPClientResponse) async throws {
        let status = Int(response.status.code)
        guard !(200..<300).contains(status) else { return }
        let body = (try? await response.body.collect(upTo: Self.maxErrorBodyBytes)).map { String(buffer: $0) } ?? ""
        let (error, retryable) = httpError(status: status, body: body)
        if retryable {
            let retryAfter = response.headers.first(name: "retry-after").flatMap { Int($0.trimmingWhitespace()) }
            throw Retryable(error: error, retryAfter: retryAfter.map { .seconds($0) })
        }
        throw error
    }

    private func collect(_ body: HTTPClientResponse.Body) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: Self.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw LLMError(
                code: .badResponse, message: "the reply from \(configuration.trimmedBase) is larger than \(Self.maxBodyBytes >> 20) MB")
        } catch {
            throw StreamBroken(detail: "\(error)")
        }
    }

    // MARK: - Replies

    /// Reads a streamed reply line by line: NDJSON (Ollama) or server-sent events (OpenAI).
    private func readStream(
        _ body: HTTPClientResponse.Body, watchdog: Watchdog, onToken: (@Sendable (String) -> Void)?
    ) async throws -> String {
        var splitter = LineSplitter(maxLineLength: Self.maxBodyBytes)
        var state = StreamState()
        do {
            for try await buffer in body {
                watchdog.touch()
                let lines: [[UInt8]]
                do {
                    lines = try splitter.append(buffer)
                } catch {
                    throw LLMError(code: .badResponse, message: "a line of the reply from \(configuration.trimmedBase) is longer than 16 MB")
                }
                for line in lines {
                    try consume(line, into: &state, onToken: onToken)
                    if state.finished { return state.text }
                }
            }
        } catch let error as LLMError {
            throw error
        } catch {
            if Task.isCancelled { throw error }
            throw StreamBroken(detail: "\(error)")
        }
        if let last = splitter.finish() {
            try consume(last, into: &state, onToken: onToken)
        }
        guard state.finished || state.finishReasonSeen else { throw StreamBroken(detail: "the stream ended early") }
        return state.text
    }

    private struct StreamState {
        var text = ""
        /// Ollama's `"done": true`, or `data: [DONE]`.
        var finished = false
        /// An OpenAI choice with a `finish_reason`: enough for servers that do not send `[DONE]`.
        var finishReasonSeen = false
    }

    private func consume(_ line: [UInt8], into state: inout StreamState, onToken: (@Sendable (String) -> Void)?) throws {
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return }
        let piece: String
        switch configuration.provider {
        case .ollama:
            let reply = try decode(OllamaAPI.Reply.self, line)
            if let error = reply.error { throw streamError(error) }
            piece = reply.text
            state.finished = reply.done == true
        case .openai:
            // Server-sent events: `data: {json}` lines and `data: [DONE]`; comments (`: keep-alive`) and
            // `event:`/`id:`/`retry:` fields carry nothing here. One data line is one chunk.
            guard line.starts(with: Array("data:".utf8)) else { return }
            var payload = line.dropFirst(5)
            if payload.first == UInt8(ascii: " ") { payload = payload.dropFirst() }
            if payload.elementsEqual("[DONE]".utf8) {
                state.finished = true
                return
            }
            let reply = try decode(OpenAIAPI.Reply.self, Array(payload))
            if let error = reply.error { throw streamError(error) }
            let choice = reply.choices?.first
            piece = choice?.delta?.content ?? choice?.message?.content ?? ""
            if choice?.finish_reason != nil { state.finishReasonSeen = true }
        }
        if !piece.isEmpty {
            state.text += piece
            onToken?(piece)
        }
    }

    private func parseWhole(_ body: ByteBuffer) throws -> String {
        let bytes = Array(buffer: body)
        switch configuration.provider {
        case .ollama:
            let reply = try decode(OllamaAPI.Reply.self, bytes)
            if let error = reply.error { throw streamError(error) }
            guard reply.response != nil || reply.message != nil else { throw notTheAPI(bytes) }
            return reply.text
        case .openai:
            let reply = try decode(OpenAIAPI.Reply.self, bytes)
            if let error = reply.error { throw streamError(error) }
            guard let choice = reply.choices?.first else { throw notTheAPI(bytes) }
            return choice.message?.content ?? choice.delta?.content ?? ""
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw notTheAPI(bytes)
        }
    }

    private func notTheAPI(_ bytes: [UInt8]) -> LLMError {
        let sample = String(decoding: bytes.prefix(200), as: UTF8.self)
        switch configuration.provider {
        case .ollama:
            return LLMError(
                code: .badResponse,
                message: "the server at \(configuration.trimmedBase) did not answer like Ollama (\(sample)); check OLLAMA_URL")
        case .openai:
            return LLMError(
                code: .badResponse,
                message:
                    "the server at \(configuration.trimmedBase) did not answer like an OpenAI-compatible API (\(sample)); check LLM_API_BASE")
        }
    }

    // MARK: - Errors and retries

    /// An attempt's failure that is worth another attempt.
    struct Retryable: Error {
        var error: LLMError
        var retryAfter: Duration?
    }

    /// A reply that broke off after its head: the connection failed or the stream ended early.
    struct StreamBroken: Error {
        var detail: String?
    }

    /// Runs `attempt` until it succeeds, fails for good, or `retries` extra attempts have failed.
    private func retrying<T: Sendable>(_ attempt: () async throws -> T) async throws -> T {
        var attempts = 0
        var delay = configuration.retryDelay
        while true {
            attempts += 1
            let failure: Failure
            do {
                try Task.checkCancellation()
                return try await attempt()
            } catch {
                failure = classify(error)
            }
            var error = failure.error
            error.attempts = attempts
            guard failure.retryable, attempts <= configuration.retries, !Task.isCancelled else {
                counters.withLock { $0.failures += 1 }
                logger.debug("LLM request failed", metadata: ["code": "\(error.code.rawValue)", "attempts": "\(attempts)"])
                throw error
            }
            counters.withLock { $0.retries += 1 }
            let wait = max(delay, min(failure.retryAfter ?? .zero, configuration.maxRetryDelay))
            logger.debug(
                "LLM request failed, retrying",
                metadata: ["code": "\(error.code.rawValue)", "attempt": "\(attempts)", "wait": "\(wait)", "reason": "\(error.message)"])
            do {
                try await Task.sleep(for: wait)
            } catch {
                counters.withLock { $0.failures += 1 }
                throw LLMError(code: .cancelled, message: "the LLM request was cancelled", attempts: attempts)
            }
            delay = min(delay * 2, configuration.maxRetryDelay)
        }
    }

    private struct Failure {
        var error: LLMError
        var retryable: Bool
        var retryAfter: Duration?
    }

    private var base: String { configuration.trimmedBase }

    private func classify(_ error: any Error) -> Failure {
        if Task.isCancelled || error is CancellationError {
            return Failure(error: LLMError(code: .cancelled, message: "the LLM request was cancelled"), retryable: false)
        }
        switch error {
        case let error as LLMError:
            return Failure(error: error, retryable: false)
        case let retryable as Retryable:
            return Failure(error: retryable.error, retryable: true, retryAfter: retryable.retryAfter)
        case Watchdog.Expiry.request:
            return Failure(error: timeoutError(), retryable: true)
        case Watchdog.Expiry.idle:
            return Failure(
                error: LLMError(
                    code: .timeout,
                    message:
                        "the reply from the LLM server at \(base) stalled for more than \(Self.seconds(configuration.idleTimeout)); the server may be overloaded"
                ), retryable: true)
        case let broken as StreamBroken:
            let detail = broken.detail.map { " (\($0))" } ?? ""
            return Failure(
                error: LLMError(
                    code: .badResponse, message: "the reply from the LLM server at \(base) broke off before it was complete\(detail)"),
                retryable: true)
        default:
            return Failure(error: transportError(error), retryable: true)
        }
    }

    private func timeoutError() -> LLMError {
        LLMError(
            code: .timeout,
            message:
                "the LLM server at \(base) did not answer within \(Self.seconds(configuration.timeout)); raise LLM_TIMEOUT (seconds) or use a smaller model"
        )
    }

    private var startHint: String {
        configuration.provider == .ollama
            ? "start Ollama (`ollama serve`) or set OLLAMA_URL" : "start the server or set LLM_API_BASE"
    }

    /// A connection-level failure: refused, reset, closed, DNS, or AsyncHTTPClient's own timeouts.
    private func transportError(_ error: any Error) -> LLMError {
        if let error = error as? HTTPClientError {
            if error == .connectTimeout || error == .readTimeout || error == .deadlineExceeded || error == .writeTimeout {
                return timeoutError()
            }
            if error == .remoteConnectionClosed {
                return LLMError(
                    code: .unreachable, message: "the LLM server at \(base) closed the connection without answering; is it running properly?")
            }
            if error == .cancelled {
                return LLMError(code: .cancelled, message: "the LLM request was cancelled")
            }
        }
        // NIO's connection errors are matched by their text: their types live in modules this one does
        // not depend on (NIOPosix).
        let text = String(describing: error)
        let lower = text.lowercased()
        let reason: String
        if lower.contains("refused") {
            reason = "connection refused"
        } else if lower.contains("reset") {
            reason = "connection reset"
        } else if lower.contains("resolv") || lower.contains("nodename") || lower.contains("name or service") || lower.contains("dns") {
            reason = "the host name does not resolve"
        } else if lower.contains("unreachable") || lower.contains("no route") {
            reason = "network unreachable"
        } else {
            reason = text
        }
        return LLMError(code: .unreachable, message: "no LLM server answers at \(base) (\(reason)); \(startHint)")
    }

    /// The error for an HTTP status, and whether it is worth retrying (5xx, 408, 429).
    func httpError(status: Int, body: String) -> (LLMError, retryable: Bool) {
        let payload = (try? JSONDecoder().decode(APIErrorEnvelope.self, from: Data(body.utf8)))?.payload
        var detail = payload?.message ?? body.trimmingWhitespace()
        if detail.count > 300 { detail = String(detail.prefix(300)) + "…" }
        let said = detail.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(detail)"
        if status == 401 || status == 403 {
            let fix =
                configuration.provider == .openai
                ? (configuration.apiKey?.isEmpty ?? true ? "set LLM_API_KEY" : "check LLM_API_KEY")
                : "check what guards OLLAMA_URL"
            return (
                LLMError(code: .unauthorized, message: "the LLM server at \(base) refused the request (\(said)); \(fix)", status: status),
                false
            )
        }
        if (status == 404 || status == 400), Self.isModelMissing(payload) {
            return (modelMissingError(detail: detail, status: status), false)
        }
        let retryable = status >= 500 || status == 429 || status == 408
        var hint = ""
        if status == 404 {
            hint = configuration.provider == .ollama ? "; check OLLAMA_URL" : "; check LLM_API_BASE"
        } else if status == 429 {
            hint = "; the server is rate limiting"
        }
        return (LLMError(code: .http, message: "the LLM server at \(base) answered \(said)\(hint)", status: status), retryable)
    }

    static func isModelMissing(_ payload: APIErrorPayload?) -> Bool {
        guard let payload else { return false }
        if payload.code == "model_not_found" { return true }
        let message = payload.message.lowercased()
        return message.contains("model")
            && (message.contains("not found") || message.contains("does not exist") || message.contains("not a valid model")
                || message.contains("no such model"))
    }

    private func modelMissingError(detail: String, status: Int?) -> LLMError {
        let model = configuration.model
        switch configuration.provider {
        case .ollama:
            return LLMError(
                code: .modelMissing,
                message:
                    "the model \(model) is not on the Ollama server at \(base); run `ollama pull \(model)` (or set OLLAMA_MODEL to one it has)",
                status: status)
        case .openai:
            return LLMError(
                code: .modelMissing,
                message: "the model \(model) is not served by the LLM server at \(base) (\(detail)); set LLM_MODEL to a model it serves",
                status: status)
        }
    }

    /// An error reported in a reply body (an NDJSON line, an SSE event, a 200 body).
    private func streamError(_ payload: APIErrorPayload) -> LLMError {
        if Self.isModelMissing(payload) { return modelMissingError(detail: payload.message, status: nil) }
        return LLMError(code: .badResponse, message: "the LLM server at \(base) reported an error: \(payload.message)")
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
