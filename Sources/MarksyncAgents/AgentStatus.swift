/// What an agent is doing and has done: for `orchestrate`, the control API and tests.
public struct AgentStatus: Sendable, Equatable, Codable {
    public var name: String
    public var role: String
    /// `starting`, `connecting`, `catching_up`, `live`, `waiting_for_server`, `stopped`.
    public var state: String
    /// The seq of the last event handled and stored as the consumer's cursor.
    public var cursor: Int
    /// The newest seq the agent knows of.
    public var head: Int
    /// Events not handled yet (`head - cursor`).
    public var lag: Int { max(0, head - cursor) }
    /// The last error (LLM down, a nack, a failed deploy), with its time (Unix seconds).
    public var lastError: String?
    public var lastErrorAt: Double?
    /// Counters.
    public var events = 0
    public var handled = 0
    public var skipped = 0
    public var llmCalls = 0
    public var llmFailures = 0
    public var writes = 0
    public var conflicts = 0
    public var reviews = 0
    public var deploys = 0
    /// The pipelines the agent runs in (empty: it runs on its own).
    public var pipelines: [String] = []

    public init(name: String, role: String) {
        self.name = name
        self.role = role
        state = "starting"
        cursor = 0
        head = 0
    }

    enum CodingKeys: String, CodingKey {
        case name, role, state, cursor, head, lag, lastError = "last_error", lastErrorAt = "last_error_at", events, handled, skipped
        case llmCalls = "llm_calls", llmFailures = "llm_failures", writes, conflicts, reviews, deploys, pipelines
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(state, forKey: .state)
        try container.encode(cursor, forKey: .cursor)
        try container.encode(head, forKey: .head)
        try container.encode(lag, forKey: .lag)
        try container.encodeIfPresent(lastError, forKey: .lastError)
        try container.encodeIfPresent(lastErrorAt, forKey: .lastErrorAt)
        try container.encode(events, forKey: .events)
        try container.encode(handled, forKey: .handled)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(llmCalls, forKey: .llmCalls)
        try container.encode(llmFailures, forKey: .llmFailures)
        try container.encode(writes, forKey: .writes)
        try container.encode(conflicts, forKey: .conflicts)
        try container.encode(reviews, forKey: .reviews)
        try container.encode(deploys, forKey: .deploys)
        try container.encode(pipelines, forKey: .pipelines)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        role = try container.decode(String.self, forKey: .role)
        state = try container.decode(String.self, forKey: .state)
        cursor = try container.decode(Int.self, forKey: .cursor)
        head = try container.decode(Int.self, forKey: .head)
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        lastErrorAt = try container.decodeIfPresent(Double.self, forKey: .lastErrorAt)
        events = try container.decodeIfPresent(Int.self, forKey: .events) ?? 0
        handled = try container.decodeIfPresent(Int.self, forKey: .handled) ?? 0
        skipped = try container.decodeIfPresent(Int.self, forKey: .skipped) ?? 0
        llmCalls = try container.decodeIfPresent(Int.self, forKey: .llmCalls) ?? 0
        llmFailures = try container.decodeIfPresent(Int.self, forKey: .llmFailures) ?? 0
        writes = try container.decodeIfPresent(Int.self, forKey: .writes) ?? 0
        conflicts = try container.decodeIfPresent(Int.self, forKey: .conflicts) ?? 0
        reviews = try container.decodeIfPresent(Int.self, forKey: .reviews) ?? 0
        deploys = try container.decodeIfPresent(Int.self, forKey: .deploys) ?? 0
        pipelines = try container.decodeIfPresent([String].self, forKey: .pipelines) ?? []
    }
}

/// Why an agent or the orchestrator cannot do something.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code: `bad_plan`, `bad_option`, `unsafe_path`, `connection`, `io`.
    public var code: String
    public var message: String
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
