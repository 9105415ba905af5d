/// Counters of an ``LLMClient`` since it was made.
public struct LLMClientStats: Sendable, Equatable {
    /// HTTP requests sent, retries included (completions, model lists, health checks).
    public var requests: Int
    /// Extra attempts after a failed one.
    public var retries: Int
    /// Calls that ended in an error (after their retries).
    public var failures: Int

    public init(requests: Int = 0, retries: Int = 0, failures: Int = 0) {
        self.requests = requests
        self.retries = retries
        self.failures = failures
    }
}
