/// The one error type of MarksyncLLM: what failed, and in `message` what to do about it.
public struct LLMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable {
        /// No server answers at the configured address (refused, reset, DNS, closed before replying).
        case unreachable
        /// The whole request took longer than `timeout`, or a stream stalled longer than `idleTimeout`.
        case timeout
        /// The server does not have the model.
        case modelMissing = "model_missing"
        /// Any other HTTP error status.
        case http
        /// A reply that cannot be read: not the expected JSON, too large, a stream that broke off, or an
        /// error reported inside a stream.
        case badResponse = "bad_response"
        /// The calling task was cancelled.
        case cancelled
        /// HTTP 401 or 403: a missing or wrong API key.
        case unauthorized
    }

    public var code: Code
    /// What went wrong and what to do about it, for a person.
    public var message: String
    /// The HTTP status, when the server answered with one.
    public var status: Int?
    /// How many attempts were made (1 + retries).
    public var attempts: Int

    public init(code: Code, message: String, status: Int? = nil, attempts: Int = 1) {
        self.code = code
        self.message = message
        self.status = status
        self.attempts = attempts
    }

    public var description: String {
        attempts > 1 ? "\(message) (\(attempts) attempts)" : message
    }
}
