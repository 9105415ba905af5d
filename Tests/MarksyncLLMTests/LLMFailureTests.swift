import Foundation
import MarksyncLLM
import MarksyncTestSupport
import Testing

/// Errors, retries, timeouts and cancellation against the fake server.
@Suite struct LLMFailureTests {
    @Test(arguments: [LLMConfiguration.Provider.ollama, .openai])
    func serverErrorThenSuccessRetriesOnce(provider: LLMConfiguration.Provider) async throws {
        try await withFakeServer { server in
            await server.enqueue([.status(500, body: #"{"error":"boom"}"#)])
            let llm = makeClient(server.baseURL, provider: provider, retries: 3)
            let value = try await llm.generate(prompt: "again", system: nil)
            #expect(value == "ECHO: again")
            #expect(llm.stats.retries == 1)
            #expect(llm.stats.requests == 2)
            #expect(llm.stats.failures == 0)
            // Both attempts were made (attempts == 2 above); on a loaded machine a 300 ms attempt can time out
            // before its request reached the server, so the server may have seen only one of them.
            let seen = await server.generationCount
            #expect(seen >= 1 && seen <= 2, "the server saw \(seen) generation requests")
        }
    }

    @Test func persistentServerErrorFailsAfterAllAttempts() async throws {
        try await withFakeServer(responder: { _ in .status(503, body: #"{"error":"overloaded"}"#) }) { server in
            let llm = makeClient(server.baseURL, retries: 2)
            let error = try #require(await llmError { try await llm.generate(prompt: "x", system: nil) })
            #expect(error.code == .http)
            #expect(error.status == 503)
            #expect(error.attempts == 3)
            #expect(error.message.contains("overloaded"))
            #expect(await server.generationCount == 3)
            #expect(llm.stats == LLMClientStats(requests: 3, retries: 2, failures: 1))
        }
    }

    @Test func rateLimitIsRetried() async throws {
        try await withFakeServer { server in
            await server.enqueue([.status(429, body: #"{"error":{"message":"slow down","code":"rate_limited"}}"#)])
            let llm = makeClient(server.baseURL, provider: .openai, retries: 1)
            let value = try await llm.chat([.user("y")], onToken: nil)
            #expect(value == "ECHO: y")
            // Both attempts were made (attempts == 2 above); on a loaded machine a 300 ms attempt can time out
            // before its request reached the server, so the server may have seen only one of them.
            let seen = await server.generationCount
            #expect(seen >= 1 && seen <= 2, "the server saw \(seen) generation requests")
        }
    }

    @Test func ollamaMissingModelIsNotRetried() async throws {
        try await withFakeServer(models: ["qwen2.5-coder:7b"]) { server in
            let llm = makeClient(server.baseURL, model: "llama3:70b", retries: 3)
            let error = try #require(await llmError { try await llm.chat([.user("x")], onToken: nil) })
            #expect(error.code == .modelMissing)
            #expect(error.status == 404)
            #expect(error.attempts == 1)
            #expect(error.message.contains("llama3:70b"))
            #expect(error.message.contains("ollama pull llama3:70b"))
            #expect(error.message.contains(server.baseURL))
            #expect(await server.generationCount == 1)
            #expect(llm.stats.retries == 0)
        }
    }

    @Test func openAIMissingModelIsNotRetried() async throws {
        try await withFakeServer(models: ["gpt-x"]) { server in
            let llm = makeClient(server.baseURL, provider: .openai, model: "nope-7b", retries: 3)
            let error = try #require(await llmError { try await llm.generate(prompt: "x", system: nil) })
            #expect(error.code == .modelMissing)
            #expect(error.message.contains("nope-7b"))
            #expect(error.message.contains("LLM_MODEL"))
            #expect(await server.generationCount == 1)
        }
    }

    @Test func badRequestIsNotRetried() async throws {
        try await withFakeServer { server in
            await server.enqueue([.status(400, body: #"{"error":{"message":"messages must not be empty"}}"#)])
            let llm = makeClient(server.baseURL, provider: .openai, retries: 3)
            let error = try #require(await llmError { try await llm.chat([], onToken: nil) })
            #expect(error.code == .http)
            #expect(error.status == 400)
            #expect(error.attempts == 1)
            #expect(error.message.contains("messages must not be empty"))
            #expect(await server.generationCount == 1)
        }
    }

    @Test func unauthorizedIsNotRetried() async throws {
        try await withFakeServer { server in
            await server.enqueue([.status(401, body: #"{"error":{"message":"Invalid API key","code":"invalid_api_key"}}"#)])
            let llm = makeClient(server.baseURL, provider: .openai, apiKey: "sk-wrong-key", retries: 3)
            let error = try #require(await llmError { try await llm.chat([.user("x")], onToken: nil) })
            #expect(error.code == .unauthorized)
            #expect(error.status == 401)
            #expect(error.message.contains("LLM_API_KEY"))
            #expect(!error.message.contains("sk-wrong-key"))
            #expect(await server.generationCount == 1)
        }
    }

    @Test func connectionRefusedIsUnreachable() async throws {
        let server = try await FakeLLMServer.start()
        await server.stop()
        let llm = makeClient(server.baseURL, retries: 2)
        var error: LLMError?
        let took = await elapsed { error = await llmError { try await llm.generate(prompt: "x", system: nil) } }
        let failure = try #require(error)
        #expect(failure.code == .unreachable)
        #expect(failure.attempts == 3)
        #expect(failure.message.contains(server.baseURL))
        #expect(failure.message.contains("connection refused"))
        #expect(failure.message.contains("ollama serve"))
        // Three refused connects with back-off take well under a second alone; the bound only rules out a long
        // connect timeout (minutes), with room for a CI machine running every suite on two cores.
        #expect(took < .seconds(30), "no long connect timeout")
        #expect(llm.stats == LLMClientStats(requests: 3, retries: 2, failures: 1))
    }

    @Test func connectionRefusedNamesTheOpenAISetting() async throws {
        let server = try await FakeLLMServer.start()
        await server.stop()
        let llm = makeClient(server.baseURL, provider: .openai, retries: 0)
        let error = try #require(await llmError { try await llm.models() })
        #expect(error.code == .unreachable)
        #expect(error.message.contains("LLM_API_BASE"))
    }

    @Test func slowServerTimesOut() async throws {
        try await withFakeServer(responder: { _ in .delay(.seconds(20), then: .text("late")) }) { server in
            let llm = makeClient(server.baseURL, retries: 1, timeout: .milliseconds(300))
            var error: LLMError?
            let took = await elapsed { error = await llmError { try await llm.generate(prompt: "x", system: nil) } }
            let failure = try #require(error)
            #expect(failure.code == .timeout)
            #expect(failure.attempts == 2)
            #expect(failure.message.contains("LLM_TIMEOUT"))
            #expect(took >= .milliseconds(600))
            #expect(took < .seconds(15), "two attempts of 300 ms, not the 20 s reply (loose: CI runs other suites on the same cores)")
            // Both attempts were made (attempts == 2 above); on a loaded machine a 300 ms attempt can time out
            // before its request reached the server, so the server may have seen only one of them.
            let seen = await server.generationCount
            #expect(seen >= 1 && seen <= 2, "the server saw \(seen) generation requests")
        }
    }

    @Test func stalledStreamHitsTheIdleTimeout() async throws {
        try await withFakeServer(responder: { _ in .slowStream("a b c d e f g h", pause: .seconds(20)) }) { server in
            let llm = makeClient(server.baseURL, retries: 0, timeout: .seconds(60), idleTimeout: .seconds(1))
            var error: LLMError?
            let took = await elapsed { error = await llmError { try await llm.chat([.user("x")], onToken: nil) } }
            let failure = try #require(error)
            #expect(failure.code == .timeout)
            #expect(failure.message.contains("stalled"))
            // Well before the 20 s pause ends (loose: CI runs other suites on the same cores).
            #expect(took < .seconds(15))
        }
    }

    @Test func steadyStreamOutlivesTheIdleTimeout() async throws {
        // Six writes 800 ms apart: longer in total than the idle timeout, never idle that long (a margin of
        // five, for a loaded CI machine).
        try await withFakeServer(responder: { _ in .slowStream("one two three four five six", pause: .milliseconds(800)) }) { server in
            let llm = makeClient(server.baseURL, retries: 0, timeout: .seconds(60), idleTimeout: .seconds(4))
            var text = ""
            let took = try await elapsed { text = try await llm.chat([.user("x")], onToken: nil) }
            #expect(text == "one two three four five six")
            #expect(took > .seconds(4))
        }
    }

    @Test(arguments: [LLMConfiguration.Provider.ollama, .openai])
    func brokenStreamIsRetriedFromScratch(provider: LLMConfiguration.Provider) async throws {
        try await withFakeServer(responder: { _ in .text("the full and complete answer") }) { server in
            await server.enqueue([.brokenStream("the full and complete answer")])
            let llm = makeClient(server.baseURL, provider: provider, retries: 2)
            let tokens = TokenLog()
            let text = try await llm.chat([.user("x")], onToken: tokens.callback)
            #expect(text == "the full and complete answer")
            #expect(llm.stats.retries == 1)
            // Both attempts were made (attempts == 2 above); on a loaded machine a 300 ms attempt can time out
            // before its request reached the server, so the server may have seen only one of them.
            let seen = await server.generationCount
            #expect(seen >= 1 && seen <= 2, "the server saw \(seen) generation requests")
            // Pieces of the broken attempt came first, then the whole reply again.
            #expect(tokens.all.joined().hasSuffix("the full and complete answer"))
            #expect(tokens.all.count > 4)
        }
    }

    @Test func brokenStreamEveryTimeFails() async throws {
        try await withFakeServer(responder: { _ in .brokenStream("never finished here") }) { server in
            let llm = makeClient(server.baseURL, retries: 1)
            let error = try #require(await llmError { try await llm.chat([.user("x")], onToken: nil) })
            #expect(error.code == .badResponse)
            #expect(error.attempts == 2)
            #expect(error.message.contains("broke off"))
        }
    }

    @Test func disconnectWithoutReplyIsRetried() async throws {
        try await withFakeServer { server in
            await server.enqueue([.disconnect])
            let llm = makeClient(server.baseURL, retries: 1)
            let value = try await llm.generate(prompt: "z", system: nil)
            #expect(value == "ECHO: z")
            // Both attempts were made (attempts == 2 above); on a loaded machine a 300 ms attempt can time out
            // before its request reached the server, so the server may have seen only one of them.
            let seen = await server.generationCount
            #expect(seen >= 1 && seen <= 2, "the server saw \(seen) generation requests")
            #expect(llm.stats.retries == 1)
        }
    }

    @Test func cancellingTheCallerReturnsPromptly() async throws {
        try await withFakeServer(responder: { _ in .delay(.seconds(30), then: .text("late")) }) { server in
            let llm = makeClient(server.baseURL, retries: 3, timeout: .seconds(30))
            let task = Task { try await llm.chat([.user("x")], onToken: nil) }
            let held = try await waitUntil(timeout: .seconds(30)) { await server.generationCount == 1 }
            #expect(held)
            let took = await elapsed {
                task.cancel()
                let error = await llmError { try await task.value }
                #expect(error?.code == .cancelled)
            }
            #expect(took < .seconds(15), "long before the 30 s reply")
            #expect(await server.generationCount == 1)
            #expect(llm.stats.failures == 1)
        }
    }

    @Test func cancellingDuringBackoffStopsRetrying() async throws {
        try await withFakeServer(responder: { _ in .status(500, body: "{}") }) { server in
            let llm = LLMClient(
                configuration: LLMConfiguration(
                    baseURL: server.baseURL, retries: 5, retryDelay: .seconds(60), maxRetryDelay: .seconds(60)))
            let task = Task { try await llm.generate(prompt: "x", system: nil) }
            // A long back-off, so a loaded machine still finds the client waiting in it (and nothing retried yet).
            let held = try await waitUntil(timeout: .seconds(30)) { llm.stats.retries == 1 }
            #expect(held)
            task.cancel()
            let error = await llmError { try await task.value }
            #expect(error?.code == .cancelled)
            #expect(await server.generationCount == 1)
        }
    }

    @Test func errorInsideAReplyIsReported() async throws {
        try await withFakeServer(responder: { _ in .status(200, body: #"{"error":"llama runner process has terminated"}"#) }) {
            server in
            let llm = makeClient(server.baseURL, stream: false, retries: 2)
            let error = try #require(await llmError { try await llm.generate(prompt: "x", system: nil) })
            #expect(error.code == .badResponse)
            #expect(error.message.contains("llama runner process has terminated"))
            #expect(await server.generationCount == 1)
        }
    }

    @Test func notAnLLMServerIsABadResponse() async throws {
        try await withFakeServer(responder: { _ in .status(200, body: "<html>hello</html>") }) { server in
            let llm = makeClient(server.baseURL, stream: false, retries: 0)
            let error = try #require(await llmError { try await llm.generate(prompt: "x", system: nil) })
            #expect(error.code == .badResponse)
            #expect(error.message.contains("OLLAMA_URL"))
        }
    }
}
