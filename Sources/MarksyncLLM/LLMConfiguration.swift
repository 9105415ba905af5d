/// Where the LLM server is, which model to use, and how patient to be with it.
public struct LLMConfiguration: Sendable, Equatable {
    /// The HTTP API spoken to the server.
    public enum Provider: String, Sendable, Equatable {
        /// Ollama's own API (`/api/generate`, `/api/chat`, `/api/tags`).
        case ollama
        /// The OpenAI chat-completions API (OpenRouter, llama.cpp, vLLM, LM Studio, LiteLLM, OpenAI).
        case openai
    }

    /// The Ollama server used when none is given.
    public static let defaultOllamaURL = "http://localhost:11434"
    /// The OpenAI-compatible server used when none is given (llama.cpp's `llama-server` default).
    public static let defaultOpenAIURL = "http://localhost:8080/v1"
    /// OpenRouter's API, the base for `LLM_PROVIDER=openrouter`.
    public static let openRouterURL = "https://openrouter.ai/api/v1"
    /// The model used when none is given.
    public static let defaultModel = "qwen2.5-coder:7b"

    public var provider: Provider
    /// The server: for Ollama e.g. `http://localhost:11434`; for OpenAI-compatible servers either the root
    /// (`http://127.0.0.1:8080`) or the API base (`…/v1`): `/v1` is added unless the base ends with it.
    public var baseURL: String
    public var model: String
    /// Sent as `Authorization: Bearer …` to OpenAI-compatible servers; never logged.
    public var apiKey: String?
    /// The sampling temperature; nil leaves the server's default.
    public var temperature: Double?
    /// The most tokens to generate (Ollama `num_predict`, OpenAI `max_tokens`); nil leaves the server's default.
    public var maxTokens: Int?
    /// The longest one HTTP request may take, reply included (each attempt has its own).
    public var timeout: Duration
    /// The longest gap allowed between two chunks of a streamed reply.
    public var idleTimeout: Duration
    /// Extra attempts after connection errors, timeouts, broken streams, 5xx and 429 answers.
    public var retries: Int
    /// The wait before the first retry; doubled for each further one.
    public var retryDelay: Duration
    /// The longest wait between two attempts.
    public var maxRetryDelay: Duration
    /// Use the streaming API (NDJSON for Ollama, server-sent events for OpenAI).
    public var stream: Bool

    /// A configuration; `baseURL` nil means ``defaultOllamaURL`` or ``defaultOpenAIURL`` by provider.
    public init(
        provider: Provider = .ollama,
        baseURL: String? = nil,
        model: String = LLMConfiguration.defaultModel,
        apiKey: String? = nil,
        temperature: Double? = nil,
        maxTokens: Int? = nil,
        timeout: Duration = .seconds(120),
        idleTimeout: Duration = .seconds(60),
        retries: Int = 3,
        retryDelay: Duration = .milliseconds(500),
        maxRetryDelay: Duration = .seconds(8),
        stream: Bool = true
    ) {
        self.provider = provider
        self.baseURL = baseURL ?? (provider == .ollama ? Self.defaultOllamaURL : Self.defaultOpenAIURL)
        self.model = model
        self.apiKey = apiKey
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.retries = max(0, retries)
        self.retryDelay = retryDelay
        self.maxRetryDelay = maxRetryDelay
        self.stream = stream
    }

    /// From settings: `lookup` returns a value for a key (flags/env/.env resolved by the caller) or nil.
    /// Empty values count as unset; values that do not parse are ignored.
    ///
    /// | key | meaning | default |
    /// | --- | --- | --- |
    /// | `LLM_PROVIDER` | `ollama`, or `openai`; `openrouter`, `openai-compatible`, `llamacpp`, `vllm`, `lmstudio` mean `openai` | `ollama` (an API key alone does not switch it) |
    /// | `OLLAMA_URL` | the Ollama server | `http://localhost:11434` |
    /// | `OLLAMA_MODEL` | the Ollama model | `qwen2.5-coder:7b` |
    /// | `LLM_API_BASE`, else `LITELLM_API_BASE` | the OpenAI-compatible base | by name: openrouter `https://openrouter.ai/api/v1`, vllm `http://localhost:8000/v1`, lmstudio `http://localhost:1234/v1`, else `http://localhost:8080/v1` |
    /// | `LLM_MODEL`, else `OLLAMA_MODEL` | the model for the openai provider | `qwen2.5-coder:7b` |
    /// | `LLM_API_KEY`, else `OPENROUTER_API_KEY` | bearer token (openai provider) | none |
    /// | `LLM_TEMPERATURE`, else `LITELLM_TEMPERATURE` | temperature | the server's |
    /// | `LLM_MAX_TOKENS`, else `LITELLM_MAX_TOKENS` | most tokens to generate | the server's |
    /// | `LLM_TIMEOUT` | seconds per request (decimals allowed) | 120 |
    /// | `LLM_RETRIES` | extra attempts | 3 |
    /// | `LLM_STREAM` | `true`/`false`/`1`/`0`/`yes`/`no`/`on`/`off` | true |
    public static func from(settings lookup: (String) -> String?) -> LLMConfiguration {
        func value(_ keys: String...) -> String? {
            for key in keys {
                if let raw = lookup(key)?.trimmingWhitespace(), !raw.isEmpty { return raw }
            }
            return nil
        }

        var configuration = LLMConfiguration()
        let providerName = value("LLM_PROVIDER")?.lowercased() ?? "ollama"
        switch providerName {
        case "openai", "openrouter", "openai-compatible", "openai_compatible", "llamacpp", "llama.cpp", "llama-cpp", "vllm",
            "lmstudio", "lm-studio", "litellm":
            configuration.provider = .openai
            let fallbackBase: String
            switch providerName {
            case "openrouter": fallbackBase = openRouterURL
            case "vllm": fallbackBase = "http://localhost:8000/v1"
            case "lmstudio", "lm-studio": fallbackBase = "http://localhost:1234/v1"
            default: fallbackBase = defaultOpenAIURL
            }
            configuration.baseURL = value("LLM_API_BASE", "LITELLM_API_BASE") ?? fallbackBase
            configuration.model = value("LLM_MODEL", "OLLAMA_MODEL") ?? defaultModel
            configuration.apiKey = value("LLM_API_KEY", "OPENROUTER_API_KEY")
        default:
            // "ollama" and anything unknown.
            configuration.provider = .ollama
            configuration.baseURL = value("OLLAMA_URL") ?? defaultOllamaURL
            configuration.model = value("OLLAMA_MODEL") ?? defaultModel
        }
        configuration.temperature = value("LLM_TEMPERATURE", "LITELLM_TEMPERATURE").flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil }
        configuration.maxTokens = value("LLM_MAX_TOKENS", "LITELLM_MAX_TOKENS").flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        if let seconds = value("LLM_TIMEOUT").flatMap(Double.init), seconds.isFinite, seconds > 0 {
            configuration.timeout = .milliseconds(Int64((seconds * 1000).rounded()))
        }
        if let retries = value("LLM_RETRIES").flatMap({ Int($0) }), retries >= 0 {
            configuration.retries = retries
        }
        switch value("LLM_STREAM")?.lowercased() {
        case "true", "1", "yes", "on": configuration.stream = true
        case "false", "0", "no", "off": configuration.stream = false
        default: break
        }
        return configuration
    }

    /// The base without trailing slashes.
    var trimmedBase: String {
        var base = baseURL.trimmingWhitespace()
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// The URL of an API path: `api/chat` for Ollama; `chat/completions` for OpenAI (under `/v1`).
    func url(_ path: String) -> String {
        switch provider {
        case .ollama:
            return trimmedBase + "/" + path
        case .openai:
            let base = trimmedBase
            return base.hasSuffix("/v1") ? base + "/" + path : base + "/v1/" + path
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
