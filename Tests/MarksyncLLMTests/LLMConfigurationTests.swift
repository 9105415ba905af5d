import Testing

@testable import MarksyncLLM

/// `LLMConfiguration.from(settings:)`, URLs, and the line splitter.
@Suite struct LLMConfigurationTests {
    static func configuration(_ values: [String: String]) -> LLMConfiguration {
        LLMConfiguration.from { values[$0] }
    }

    @Test func defaults() {
        let configuration = Self.configuration([:])
        #expect(configuration.provider == .ollama)
        #expect(configuration.baseURL == "http://localhost:11434")
        #expect(configuration.model == "qwen2.5-coder:7b")
        #expect(configuration.apiKey == nil)
        #expect(configuration.temperature == nil)
        #expect(configuration.maxTokens == nil)
        #expect(configuration.timeout == .seconds(120))
        #expect(configuration.idleTimeout == .seconds(60))
        #expect(configuration.retries == 3)
        #expect(configuration.retryDelay == .milliseconds(500))
        #expect(configuration.maxRetryDelay == .seconds(8))
        #expect(configuration.stream == true)
        #expect(configuration == LLMConfiguration())
    }

    @Test func ollamaKeys() {
        let configuration = Self.configuration([
            "OLLAMA_URL": "http://gpu-box:11434", "OLLAMA_MODEL": "llama3.2:3b", "LLM_TEMPERATURE": "0.3", "LLM_MAX_TOKENS": "8192",
            "LLM_TIMEOUT": "2.5", "LLM_RETRIES": "0", "LLM_STREAM": "false",
        ])
        #expect(configuration.provider == .ollama)
        #expect(configuration.baseURL == "http://gpu-box:11434")
        #expect(configuration.model == "llama3.2:3b")
        #expect(configuration.temperature == 0.3)
        #expect(configuration.maxTokens == 8192)
        #expect(configuration.timeout == .milliseconds(2500))
        #expect(configuration.retries == 0)
        #expect(configuration.stream == false)
    }

    @Test func aStrayAPIKeyDoesNotSwitchProvider() {
        let configuration = Self.configuration(["OPENROUTER_API_KEY": "sk-or-v1-TWOJ_KLUCZ", "LLM_API_KEY": "k"])
        #expect(configuration.provider == .ollama)
        #expect(configuration.apiKey == nil)
        #expect(configuration.baseURL == "http://localhost:11434")
    }

    @Test func openAIKeys() {
        let configuration = Self.configuration([
            "LLM_PROVIDER": "openai", "LLM_API_BASE": "http://127.0.0.1:8080", "LLM_MODEL": "gpt-4o-mini", "LLM_API_KEY": "sk-1",
            "OLLAMA_MODEL": "ignored",
        ])
        #expect(configuration.provider == .openai)
        #expect(configuration.baseURL == "http://127.0.0.1:8080")
        #expect(configuration.model == "gpt-4o-mini")
        #expect(configuration.apiKey == "sk-1")
    }

    @Test func openAIFallbacks() {
        let configuration = Self.configuration([
            "LLM_PROVIDER": "OpenAI-Compatible", "LITELLM_API_BASE": "http://proxy:4000", "OLLAMA_MODEL": "qwen3:8b",
            "OPENROUTER_API_KEY": "sk-or", "LITELLM_TEMPERATURE": "0.7", "LITELLM_MAX_TOKENS": "100",
        ])
        #expect(configuration.provider == .openai)
        #expect(configuration.baseURL == "http://proxy:4000")
        #expect(configuration.model == "qwen3:8b")
        #expect(configuration.apiKey == "sk-or")
        #expect(configuration.temperature == 0.7)
        #expect(configuration.maxTokens == 100)
    }

    @Test func primaryKeysWinOverFallbacks() {
        let configuration = Self.configuration([
            "LLM_PROVIDER": "openai", "LLM_API_BASE": "http://a/v1", "LITELLM_API_BASE": "http://b", "LLM_API_KEY": "primary",
            "OPENROUTER_API_KEY": "fallback", "LLM_TEMPERATURE": "0.1", "LITELLM_TEMPERATURE": "0.9", "LLM_MAX_TOKENS": "5",
            "LITELLM_MAX_TOKENS": "6", "LLM_MODEL": "m1", "OLLAMA_MODEL": "m2",
        ])
        #expect(configuration.baseURL == "http://a/v1")
        #expect(configuration.apiKey == "primary")
        #expect(configuration.temperature == 0.1)
        #expect(configuration.maxTokens == 5)
        #expect(configuration.model == "m1")
    }

    @Test(arguments: [
        ("openrouter", "https://openrouter.ai/api/v1"), ("llamacpp", "http://localhost:8080/v1"), ("vllm", "http://localhost:8000/v1"),
        ("lmstudio", "http://localhost:1234/v1"), ("openai", "http://localhost:8080/v1"), ("openai-compatible", "http://localhost:8080/v1"),
    ])
    func providerAliasesAndTheirBases(name: String, base: String) {
        let configuration = Self.configuration(["LLM_PROVIDER": name])
        #expect(configuration.provider == .openai)
        #expect(configuration.baseURL == base)
        #expect(configuration.model == "qwen2.5-coder:7b")
    }

    @Test func emptyAndInvalidValuesAreIgnored() {
        let configuration = Self.configuration([
            "LLM_PROVIDER": "", "OLLAMA_URL": "  ", "LLM_TIMEOUT": "soon", "LLM_RETRIES": "-1", "LLM_STREAM": "maybe",
            "LLM_TEMPERATURE": "hot", "LLM_MAX_TOKENS": "0",
        ])
        #expect(configuration == LLMConfiguration())
    }

    @Test(arguments: [("1", true), ("0", false), ("true", true), ("FALSE", false), ("yes", true), ("off", false)])
    func streamFlag(value: String, expected: Bool) {
        #expect(Self.configuration(["LLM_STREAM": value]).stream == expected)
    }

    @Test func urls() {
        let ollama = LLMConfiguration(baseURL: "http://h:11434/")
        #expect(ollama.url("api/chat") == "http://h:11434/api/chat")
        for base in ["http://h:8080", "http://h:8080/", "http://h:8080/v1", "http://h:8080/v1/"] {
            let openai = LLMConfiguration(provider: .openai, baseURL: base)
            #expect(openai.url("chat/completions") == "http://h:8080/v1/chat/completions")
        }
        let openRouter = LLMConfiguration(provider: .openai, baseURL: "https://openrouter.ai/api/v1")
        #expect(openRouter.url("models") == "https://openrouter.ai/api/v1/models")
        #expect(LLMConfiguration(provider: .openai).baseURL == "http://localhost:8080/v1")
    }

    @Test func errorDescriptionCountsAttempts() {
        #expect(LLMError(code: .http, message: "m", status: 500, attempts: 4).description == "m (4 attempts)")
        #expect(LLMError(code: .timeout, message: "m").description == "m")
        #expect(LLMError.Code.modelMissing.rawValue == "model_missing")
        #expect(LLMError.Code.badResponse.rawValue == "bad_response")
    }

    @Test func lineSplitterJoinsLinesAndCharactersSplitAcrossChunks() throws {
        let text = "{\"response\":\"zażółć 🙂\"}\r\n{\"done\":true}\n\n{\"tail\":1}"
        let bytes = Array(text.utf8)
        // Every cut point, including inside the emoji's four bytes and between \r and \n.
        for cut in 1..<bytes.count {
            var splitter = LineSplitter(maxLineLength: 1024)
            var lines = try splitter.append(contentsOf: bytes[..<cut])
            lines += try splitter.append(contentsOf: bytes[cut...])
            if let last = splitter.finish() { lines.append(last) }
            let decoded = lines.map { String(decoding: $0, as: UTF8.self) }
            #expect(decoded == ["{\"response\":\"zażółć 🙂\"}", "{\"done\":true}", "", "{\"tail\":1}"], "cut at \(cut)")
        }
    }

    @Test func lineSplitterRefusesEndlessLines() {
        var splitter = LineSplitter(maxLineLength: 8)
        #expect(throws: LineSplitter.LineTooLong.self) { _ = try splitter.append(contentsOf: Array("0123456789".utf8)) }
    }
}
