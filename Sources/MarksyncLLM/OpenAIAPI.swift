/// The OpenAI chat-completions request and reply bodies, as OpenAI-compatible servers speak them.
enum OpenAIAPI {
    /// `POST /v1/chat/completions`.
    struct ChatRequest: Encodable, Sendable {
        var model: String
        var messages: [LLMMessage]
        var stream: Bool
        var temperature: Double?
        var max_tokens: Int?
    }

    /// A reply, or the JSON of one `data:` event of a streamed one.
    struct Reply: Decodable {
        struct Content: Decodable {
            var content: String?
        }

        struct Choice: Decodable {
            /// Non-streamed replies.
            var message: Content?
            /// Streamed chunks.
            var delta: Content?
            var finish_reason: String?
        }

        var choices: [Choice]?
        var error: APIErrorPayload?
    }

    /// `GET /v1/models`.
    struct Models: Decodable {
        struct Model: Decodable {
            var id: String?
        }

        var data: [Model]?
    }
}

/// An error body: `{"error": "text"}` (Ollama, some proxies), `{"error": {"message", "code", "type"}}`
/// (OpenAI), `{"detail": …}` or `{"message": …}` (FastAPI-style servers).
struct APIErrorPayload: Decodable {
    var message: String
    var code: String?

    private enum CodingKeys: String, CodingKey { case message, code, type, detail }

    init(message: String, code: String? = nil) {
        self.message = message
        self.code = code
    }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            self.init(message: text)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let message = (try? container.decode(String.self, forKey: .message)) ?? (try? container.decode(String.self, forKey: .detail))
        var code = try? container.decode(String.self, forKey: .code)
        if code == nil, let number = try? container.decode(Int.self, forKey: .code) { code = String(number) }
        if code == nil { code = try? container.decode(String.self, forKey: .type) }
        self.init(message: message ?? code ?? "unknown error", code: code)
    }
}

/// The envelope of an HTTP error body.
struct APIErrorEnvelope: Decodable {
    var error: APIErrorPayload?
    var detail: APIErrorPayload?
    var message: String?

    var payload: APIErrorPayload? {
        error ?? detail ?? message.map { APIErrorPayload(message: $0) }
    }
}
