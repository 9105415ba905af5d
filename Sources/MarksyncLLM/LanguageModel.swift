/// A text model: what agents code against, so tests can put a stub in place of ``LLMClient``.
public protocol LanguageModel: Sendable {
    /// One completion: a system prompt and a user prompt (Ollama `/api/generate`; OpenAI: a chat with a
    /// system and a user message).
    func generate(prompt: String, system: String?) async throws -> String
    /// A chat completion (Ollama `/api/chat`; OpenAI `/v1/chat/completions`). `onToken` gets the streamed
    /// pieces as they arrive (without streaming: the whole reply, once); when a broken stream is retried,
    /// the pieces start again from the beginning.
    func chat(_ messages: [LLMMessage], onToken: (@Sendable (String) -> Void)?) async throws -> String
    /// The models the server has (Ollama `GET /api/tags` → `models[].name`; OpenAI `GET /v1/models` → `data[].id`).
    func models() async throws -> [String]
}

extension LanguageModel {
    /// One completion without a system prompt.
    public func generate(prompt: String) async throws -> String {
        try await generate(prompt: prompt, system: nil)
    }

    /// A chat completion without streamed pieces.
    public func chat(_ messages: [LLMMessage]) async throws -> String {
        try await chat(messages, onToken: nil)
    }
}
