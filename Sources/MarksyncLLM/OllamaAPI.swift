/// Ollama's request and reply bodies (https://github.com/ollama/ollama/blob/main/docs/api.md).
enum OllamaAPI {
    struct Options: Encodable, Sendable {
        var temperature: Double?
        var num_predict: Int?

        var isEmpty: Bool { temperature == nil && num_predict == nil }
    }

    /// `POST /api/generate`.
    struct GenerateRequest: Encodable, Sendable {
        var model: String
        var prompt: String
        var system: String?
        var stream: Bool
        var options: Options?
    }

    /// `POST /api/chat`.
    struct ChatRequest: Encodable, Sendable {
        var model: String
        var messages: [LLMMessage]
        var stream: Bool
        var options: Options?
    }

    /// A reply of either endpoint, or one NDJSON line of a streamed one.
    struct Reply: Decodable {
        struct Message: Decodable {
            var content: String?
        }

        /// `/api/generate`'s text.
        var response: String?
        /// `/api/chat`'s message.
        var message: Message?
        var done: Bool?
        var error: APIErrorPayload?

        var text: String { response ?? message?.content ?? "" }
    }

    /// `GET /api/tags`.
    struct Tags: Decodable {
        struct Model: Decodable {
            var name: String?
            var model: String?
        }

        var models: [Model]?
    }
}
