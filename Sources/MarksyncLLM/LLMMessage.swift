/// One message of a chat: a role (`system`, `user` or `assistant`) and its text.
public struct LLMMessage: Sendable, Equatable, Codable {
    /// `system`, `user` or `assistant`.
    public var role: String
    /// The text of the message.
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// A system message: instructions for the model.
    public static func system(_ content: String) -> LLMMessage { LLMMessage(role: "system", content: content) }
    /// A user message.
    public static func user(_ content: String) -> LLMMessage { LLMMessage(role: "user", content: content) }
    /// An assistant message: an earlier answer of the model.
    public static func assistant(_ content: String) -> LLMMessage { LLMMessage(role: "assistant", content: content) }
}
