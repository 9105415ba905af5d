import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncLLM

/// What a stage does with a block version: hand it (or the version it wrote) to the next stage, or stop
/// the pipeline for this event (a newer version will come through on its own).
public enum StageOutcome: Sendable, Equatable {
    case pass(BlockVersion)
    case stop
}

/// One agent: an editor, reviewer, deployer or monitor. It handles block versions given by a
/// ``ConsumerLoop`` (alone, or as a stage of a pipeline) and writes through its own connection, as author
/// `name`.
///
/// A version is handled once per process even when several pipelines pass it (the outcome is remembered
/// by seq), and every write carries a client message id made of the agent's name, a random key kept for
/// that name (``AgentIDKey``: nobody can predict it) and the seq it reacts to (`reviewer-1:3f9c…:review:42`),
/// so that handling an event again after a restart stores nothing twice.
public actor Agent {
    public nonisolated let name: String
    public nonisolated let role: AgentRole
    /// `name:key`, the start of every message id this agent writes.
    nonisolated let idPrefix: String
    /// The configuration in force (routes and peers change when the orchestrator's plan changes).
    public private(set) var configuration: AgentConfiguration
    let llm: any LanguageModel
    let output: AgentOutput
    let connection: AgentConnection
    var status: AgentStatus

    private var outcomes: [Int: StageOutcome] = [:]
    private var outcomeOrder: [Int] = []
    private var running: [Int: Task<StageOutcome, Never>] = [:]

    // Editor state.
    var lastEdit: [String: ContinuousClock.Instant] = [:]
    var produced: [String] = []

    // Deployer state.
    var pendingTriggers: [Int] = []
    var debounceTask: Task<Void, Never>?
    var deploying = false
    var deployAgain = false
    var lastDeployed: Int?
    var lastDeployedSHA: String?

    // Monitor state.
    var audited: Set<Int> = []
    var auditFile: FileHandle?
    var auditFileFailed = false

    /// An agent; `llm` defaults to an ``LLMClient`` for `configuration.llm`.
    public init(configuration: AgentConfiguration, llm: (any LanguageModel)? = nil, output: AgentOutput = .standard) {
        self.configuration = configuration
        self.name = configuration.name
        self.role = configuration.role
        self.idPrefix = "\(configuration.name):\(AgentIDKey.key(for: configuration.name))"
        self.llm = llm ?? LLMClient(configuration: configuration.llm)
        self.output = output
        self.connection = AgentConnection(endpoint: configuration.server, name: configuration.name)
        self.status = AgentStatus(name: configuration.name, role: "\(configuration.role)")
    }

    /// New routes and peer editors (the plan changed while the agent runs).
    func reconfigure(routes: [String], peerEditors: Set<String>) {
        configuration.routes = routes
        configuration.peerEditors = peerEditors
    }

    /// The agent's counters and state.
    public func currentStatus() -> AgentStatus { status }

    func update(_ change: (inout AgentStatus) -> Void) { change(&status) }

    /// Records an error in the status and says it.
    func fail(_ message: String) {
        status.lastError = message
        status.lastErrorAt = Date().timeIntervalSince1970
        say(message)
    }

    func say(_ message: String) { output.log("[\(name):\(configuration.role)] \(message)") }

    // MARK: - Handling

    /// Handles one block version (once per seq, whoever asks).
    public func process(_ version: BlockVersion) async -> StageOutcome {
        if let outcome = outcomes[version.seq] { return outcome }
        if let task = running[version.seq] { return await task.value }
        let task = Task { await self.handle(version) }
        running[version.seq] = task
        let outcome = await task.value
        running[version.seq] = nil
        remember(version.seq, outcome)
        return outcome
    }

    private func remember(_ seq: Int, _ outcome: StageOutcome) {
        outcomes[seq] = outcome
        outcomeOrder.append(seq)
        if outcomeOrder.count > 4096 {
            for old in outcomeOrder.prefix(1024) { outcomes[old] = nil }
            outcomeOrder.removeFirst(1024)
        }
    }

    private func handle(_ version: BlockVersion) async -> StageOutcome {
        status.events += 1
        guard configuration.handles(version.blockID) else {
            status.skipped += 1
            return .pass(version)
        }
        switch configuration.role {
        case .editor: return await edit(version)
        case .reviewer: return await review(version)
        case .deployer: return trigger(version)
        case .monitor:
            audit(seq: version.seq, type: version.change, blockID: version.blockID, content: version.deleted ? nil : version.content,
                author: version.author)
            return .pass(version)
        case .other:
            status.handled += 1
            return .pass(version)
        }
    }

    /// An event that is not a block version (review notes, deploy results, prose): only a monitor records it.
    public func observe(_ event: ObservedEvent) {
        guard case .monitor = configuration.role else { return }
        if let blockID = event.blockID, !configuration.handles(blockID) { return }
        status.events += 1
        audit(seq: event.seq, type: event.type, blockID: event.blockID, content: nil, author: event.author)
    }

    /// The smallest seq whose work is not finished (a debounced deploy): the consumer's stored cursor stays
    /// below it, so that a restart does that work again.
    func unfinishedSince() -> Int? { pendingTriggers.first }

    /// Stops timers, closes files and the connection.
    public func shutdown() async {
        debounceTask?.cancel()
        debounceTask = nil
        try? auditFile?.close()
        auditFile = nil
        await connection.close()
    }
}
