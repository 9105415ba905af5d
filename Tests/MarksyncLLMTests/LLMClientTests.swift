import Foundation
import MarksyncLLM
import MarksyncTestSupport
import Testing

/// The client against the fake server: Ollama's API and the OpenAI-compatible API, streamed and not.
@Suite struct LLMClientTests {
    static let longReply = "The quick brown fox jumps over the lazy dog, then writes a Swift package with tests."

    // MARK: - Ollama

    @Test func ollamaGenerateWithoutStreaming() async throws {
        try await withFakeServer { server in
            let llm = makeClient(server.baseURL, stream: false, temperature: 0.2, maxTokens: 64)
            let text = try await llm.generate(prompt: "hello", system: "be brief")
            #expect(text == "ECHO: hello")
            let request = try #require(await server.requests.first)
            #expect(request.path == "/api/generate")
            #expect(request.model == "qwen2.5-coder:7b")
            #expect(request.system == "be brief")
            #expect(request.prompt == "hello")
            #expect(request.stream == false)
            #expect(request.authorization == nil)
            let options = try #require(jsonBody(request)["options"] as? [String: Any])
            #expect(options["temperature"] as? Double == 0.2)
            #expect(options["num_predict"] as? Int == 64)
        }
    }

    @Test func ollamaGenerateOmitsUnsetOptionsAndSystem() async throws {
        try await withFakeServer { server in
            let llm = makeClient(server.baseURL, stream: false)
            _ = try await llm.generate(prompt: "hi")
            let body = jsonBody(try #require(await server.requests.first))
            #expect(body["options"] == nil)
            #expect(body["system"] == nil)
            #expect(body["stream"] as? Bool == false)
        }
    }

    @Test func ollamaGenerateStreamedFromSeveralChunks() async throws {
        try await withFakeServer(responder: { _ in .text(Self.longReply) }) { server in
            let llm = makeClient(server.baseURL, stream: true)
            let text = try await llm.generate(prompt: "story", system: nil)
            #expect(text == Self.longReply)
            let request = try #require(await server.requests.first)
            #expect(request.stream == true)
            #expect(request.path == "/api/generate")
        }
    }

    @Test func ollamaChatStreamedCallsOnTokenForEachPiece() async throws {
        try await withFakeServer(responder: { _ in .text(Self.longReply) }) { server in
            let llm = makeClient(server.baseURL, stream: true)
            let tokens = TokenLog()
            let messages: [LLMMessage] = [.system("sys"), .user("first"), .assistant("answer"), .user("second")]
            let text = try await llm.chat(messages, onToken: tokens.callback)
            #expect(text == Self.longReply)
            // The fake sends the reply in 4 pieces, every other line cut in two writes.
            #expect(tokens.all.count == 4)
            #expect(tokens.all.joined() == Self.longReply)
            let request = try #require(await server.requests.first)
            #expect(request.path == "/api/chat")
            #expect(request.messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(request.messages.map(\.content) == ["sys", "first", "answer", "second"])
            #expect(request.prompt == "second")
            #expect(request.system == "sys")
        }
    }

    @Test func ollamaChatWithoutStreaming() async throws {
        try await withFakeServer { server in
            let llm = makeClient(server.baseURL, stream: false)
            let tokens = TokenLog()
            let text = try await llm.chat([.user("ping")], onToken: tokens.callback)
            #expect(text == "ECHO: ping")
            #expect(tokens.all == ["ECHO: ping"])
            #expect(await server.requests.first?.stream == false)
        }
    }

    // MARK: - OpenAI-compatible

    @Test func openAIWithoutStreamingSendsTheKey() async throws {
        try await withFakeServer { server in
            let llm = makeClient(
                server.baseURL, provider: .openai, apiKey: "sk-test-123", stream: false, temperature: 0.5, maxTokens: 99)
            let text = try await llm.generate(prompt: "hello", system: "sys")
            #expect(text == "ECHO: hello")
            let request = try #require(await server.requests.first)
            #expect(request.path == "/v1/chat/completions")
            #expect(request.authorization == "Bearer sk-test-123")
            #expect(request.messages == [.init(role: "system", content: "sys"), .init(role: "user", content: "hello")])
            #expect(request.stream == false)
            let body = jsonBody(request)
            #expect(body["temperature"] as? Double == 0.5)
            #expect(body["max_tokens"] as? Int == 99)
            #expect(body["options"] == nil)
        }
    }

    @Test(arguments: ["", "/v1", "/v1/", "/"])
    func openAIStreamedOverServerSentEvents(suffix: String) async throws {
        try await withFakeServer(responder: { _ in .text(Self.longReply) }) { server in
            let llm = makeClient(server.baseURL + suffix, provider: .openai, apiKey: "key", stream: true)
            let tokens = TokenLog()
            let text = try await llm.chat([.user("go")], onToken: tokens.callback)
            #expect(text == Self.longReply)
            #expect(tokens.all.count == 4)
            #expect(tokens.all.joined() == Self.longReply)
            let request = try #require(await server.requests.first)
            #expect(request.path == "/v1/chat/completions")
            #expect(request.stream == true)
            #expect(request.authorization == "Bearer key")
        }
    }

    @Test func openAIWithoutKeySendsNoAuthorization() async throws {
        try await withFakeServer { server in
            let llm = makeClient(server.baseURL, provider: .openai, stream: true)
            let value = try await llm.generate(prompt: "x", system: nil)
            #expect(value == "ECHO: x")
            let request = try #require(await server.requests.first)
            #expect(request.authorization == nil)
            #expect(request.messages == [.init(role: "user", content: "x")])
        }
    }

    @Test func ollamaNeverSendsTheKey() async throws {
        try await withFakeServer { server in
            let llm = makeClient(server.baseURL, provider: .ollama, apiKey: "secret")
            _ = try await llm.generate(prompt: "x", system: nil)
            #expect(await server.requests.first?.authorization == nil)
        }
    }

    @Test(arguments: [LLMConfiguration.Provider.ollama, .openai], [true, false])
    func nonASCIIAndEmojiRoundTrip(provider: LLMConfiguration.Provider, stream: Bool) async throws {
        let prompt = "Zażółć gęślą jaźń — 日本語テキスト 🙂👍🏽🇵🇱 \"quotes\" \\ back\nslash"
        try await withFakeServer(responder: { .text("→ " + $0.prompt + " 🎉🎉🎉🎉🎉🎉🎉🎉") }) { server in
            let llm = makeClient(server.baseURL, provider: provider, stream: stream)
            let tokens = TokenLog()
            let text = try await llm.chat([.user(prompt)], onToken: tokens.callback)
            #expect(text == "→ " + prompt + " 🎉🎉🎉🎉🎉🎉🎉🎉")
            #expect(tokens.all.joined() == text)
            #expect(await server.requests.first?.prompt == prompt)
        }
    }

    // MARK: - Models and health

    @Test func ollamaModelsAndHealth() async throws {
        try await withFakeServer(models: ["qwen2.5-coder:7b", "llama3.2:3b"]) { server in
            let llm = makeClient(server.baseURL)
            let value = try await llm.models()
            #expect(value == ["qwen2.5-coder:7b", "llama3.2:3b"])
            #expect(await llm.health())
            #expect(await server.generationCount == 0)
        }
    }

    @Test func openAIModelsAndHealth() async throws {
        try await withFakeServer(models: ["a", "b/c"]) { server in
            let llm = makeClient(server.baseURL + "/v1", provider: .openai, apiKey: "k")
            let value = try await llm.models()
            #expect(value == ["a", "b/c"])
            #expect(await llm.health())
        }
    }

    @Test func healthIsFalseWithoutServer() async throws {
        let server = try await FakeLLMServer.start()
        await server.stop()
        let llm = makeClient(server.baseURL, retries: 3)
        let took = await elapsed { #expect(await llm.health() == false) }
        #expect(took < .seconds(10), "no long connect timeout")
        #expect(llm.stats.requests == 1)
    }

    @Test func statsCountRequests() async throws {
        try await withFakeServer { server in
            let llm = makeClient(server.baseURL)
            _ = try await llm.generate(prompt: "a", system: nil)
            _ = try await llm.chat([.user("b")], onToken: nil)
            _ = try await llm.models()
            #expect(llm.stats == LLMClientStats(requests: 3, retries: 0, failures: 0))
        }
    }
}
