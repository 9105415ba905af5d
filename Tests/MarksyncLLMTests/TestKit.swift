import Foundation
import MarksyncLLM
import MarksyncTestSupport
import Synchronization

/// Runs `body` against a fresh fake server and stops it afterwards, also when `body` throws.
func withFakeServer<T>(
    models: [String] = ["qwen2.5-coder:7b"],
    responder: @escaping @Sendable (FakeLLMServer.Request) async -> FakeLLMServer.Reply = { .text("ECHO: " + $0.prompt) },
    _ body: (FakeLLMServer) async throws -> T
) async throws -> T {
    let server = try await FakeLLMServer.start(models: models, responder: responder)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// A client with short delays, so failure tests run in milliseconds.
func makeClient(
    _ baseURL: String, provider: LLMConfiguration.Provider = .ollama, model: String = "qwen2.5-coder:7b", apiKey: String? = nil,
    stream: Bool = true, retries: Int = 2, timeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(30),
    temperature: Double? = nil, maxTokens: Int? = nil
) -> LLMClient {
    LLMClient(
        configuration: LLMConfiguration(
            provider: provider, baseURL: baseURL, model: model, apiKey: apiKey, temperature: temperature, maxTokens: maxTokens,
            timeout: timeout, idleTimeout: idleTimeout, retries: retries, retryDelay: .milliseconds(10),
            maxRetryDelay: .milliseconds(40), stream: stream))
}

/// Collects the pieces passed to `onToken`.
final class TokenLog: Sendable {
    private let pieces = Mutex<[String]>([])

    var all: [String] { pieces.withLock { $0 } }

    var callback: @Sendable (String) -> Void {
        { [self] piece in pieces.withLock { $0.append(piece) } }
    }
}

/// The JSON object of a request body.
func jsonBody(_ request: FakeLLMServer.Request) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(request.body.utf8))) as? [String: Any] ?? [:]
}

/// The error thrown by `body`, as an `LLMError` (nil when it did not throw one).
func llmError(_ body: () async throws -> some Any) async -> LLMError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? LLMError
    }
}

/// How long `body` took.
func elapsed(_ body: () async throws -> Void) async rethrows -> Duration {
    let start = ContinuousClock.now
    try await body()
    return ContinuousClock.now - start
}
