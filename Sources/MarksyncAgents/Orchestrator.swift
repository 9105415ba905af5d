import Foundation
import MarksyncCore
import MarksyncLLM

/// Runs every agent of an ``OrchestrationPlan`` in one process, with its routes and pipelines in force.
///
/// - Routes: an agent named by routes handles the blocks matching them (or its `watch` patterns); an agent
///   with neither handles every block.
/// - Pipelines: each pipeline is one durable consumer (`pipeline:<name>`) that passes every event through
///   its stages in order; a stage that does not handle the block passes it on unchanged, an editor passes
///   the version it wrote. An agent that is a stage of a pipeline runs only inside its pipelines; the
///   others each run as their own consumer. An agent in two pipelines handles a version once.
///
/// ```swift
/// let plan = try AgentsFile.load("agents.yml")
/// let orchestrator = try Orchestrator(plan: plan, defaults: .init(server: ServerEndpoint(url: "ws://127.0.0.1:8765")))
/// await orchestrator.start()
/// …
/// await orchestrator.stop()
/// ```
public actor Orchestrator {
    /// Settings that agents.yml does not give (from flags, the environment and `.env`).
    public struct Defaults: Sendable {
        public var server: ServerEndpoint
        public var llm: LLMConfiguration
        public var deploy: DeploySettings
        public var auditFile: String?
        public var editCooldown: Duration
        public var start: ConsumerLoop.Start

        public init(
            server: ServerEndpoint = ServerEndpoint(), llm: LLMConfiguration = LLMConfiguration(), deploy: DeploySettings = DeploySettings(),
            auditFile: String? = nil, editCooldown: Duration = .seconds(60), start: ConsumerLoop.Start = .head
        ) {
            self.server = server
            self.llm = llm
            self.deploy = deploy
            self.auditFile = auditFile
            self.editCooldown = editCooldown
            self.start = start
        }
    }

    public nonisolated let plan: OrchestrationPlan
    public nonisolated let agents: [Agent]
    public nonisolated let loops: [ConsumerLoop]
    private var tasks: [Task<Void, Never>] = []

    /// Builds the agents and consumers of `plan`. Throws `bad_plan` when stages or routes name unknown
    /// agents, `bad_option` when an agent's option has a wrong value.
    /// - Parameter languageModel: the LLM of each agent (default: an ``LLMClient`` for its configuration).
    public init(
        plan: OrchestrationPlan, defaults: Defaults, output: AgentOutput = .standard,
        languageModel: (@Sendable (AgentConfiguration) -> any LanguageModel)? = nil
    ) throws {
        if let problem = plan.problems.first { throw AgentError("bad_plan", "agents.yml: \(problem)") }
        self.plan = plan
        let editors = Set(plan.agents.filter { AgentRole($0.role) == .editor }.map(\.name))
        var agents = [Agent]()
        for entry in plan.agents {
            var configuration = try Self.configuration(for: entry, in: plan, defaults: defaults)
            if configuration.role == .editor { configuration.peerEditors = editors.subtracting([entry.name]) }
            agents.append(Agent(configuration: configuration, llm: languageModel?(configuration), output: output))
        }
        self.agents = agents
        let byName = Dictionary(uniqueKeysWithValues: agents.map { ($0.name, $0) })
        var loops = [ConsumerLoop]()
        var staged = Set<String>()
        for pipeline in plan.pipelines where !pipeline.stages.isEmpty {
            let stages = pipeline.stages.compactMap { byName[$0] }
            guard !stages.isEmpty else { continue }
            staged.formUnion(pipeline.stages)
            loops.append(
                ConsumerLoop(
                    consumer: "pipeline:\(pipeline.name)", stages: stages, endpoint: defaults.server, skipAuthors: Set(pipeline.stages),
                    start: defaults.start, output: output))
        }
        for agent in agents where !staged.contains(agent.name) {
            loops.append(ConsumerLoop(consumer: agent.name, stages: [agent], endpoint: defaults.server, start: defaults.start, output: output))
        }
        self.loops = loops
    }

    /// The configuration of one agent of the plan: its entry, the routes naming it, its options.
    public static func configuration(
        for entry: OrchestrationPlan.Agent, in plan: OrchestrationPlan, defaults: Defaults
    ) throws -> AgentConfiguration {
        var llm = defaults.llm
        if let model = entry.model { llm.model = model }
        var configuration = AgentConfiguration(name: entry.name, role: AgentRole(entry.role), server: defaults.server, llm: llm)
        configuration.watch = entry.watch
        configuration.routes = plan.routes.filter { $0.agent == entry.name }.map(\.pattern)
        configuration.autoEdit = entry.autoEdit
        configuration.editCooldown = defaults.editCooldown
        configuration.auditFile = defaults.auditFile
        configuration.deploy = defaults.deploy
        let options = entry.options
        func seconds(_ key: String) throws -> Duration? {
            guard let text = options[key] else { return nil }
            guard let value = Double(text), value >= 0 else {
                throw AgentError("bad_option", "agents.yml: \(entry.name).\(key) must be a number of seconds, not \(text.debugDescription)")
            }
            return .milliseconds(Int64(value * 1000))
        }
        if let cooldown = try seconds("cooldown") { configuration.editCooldown = cooldown }
        if let debounce = try seconds("debounce") { configuration.deploy.debounce = debounce }
        if let timeout = try seconds("timeout") { configuration.deploy.timeout = timeout }
        if let command = options["command"] { configuration.deploy.command = command }
        if let folder = options["work_dir"] ?? options["work_folder"] { configuration.deploy.workFolder = folder }
        if let enabled = options["enabled"] ?? options["deploy"] {
            guard let flag = Self.bool(enabled) else {
                throw AgentError("bad_option", "agents.yml: \(entry.name).enabled must be true or false, not \(enabled.debugDescription)")
            }
            // agents.yml may turn deploys on only when the operator allowed them (--deploy / MARKSYNC_DEPLOY).
            configuration.deploy.enabled = flag && defaults.deploy.enabled
        }
        if let file = options["audit_file"] ?? options["output"] { configuration.auditFile = file }
        if configuration.role == .deployer, configuration.deploy.enabled,
            defaults.deploy.workFolder == configuration.deploy.workFolder, plan.agents.filter({ AgentRole($0.role) == .deployer }).count > 1
        {
            // Two deployers never share a folder.
            configuration.deploy.workFolder += "/\(entry.name)"
        }
        return configuration
    }

    /// A yes/no setting (`true`, `yes`, `on`, `1` / `false`, `no`, `off`, `0`), nil when missing or other.
    public static func flag(_ text: String?) -> Bool? { text.flatMap(bool) }

    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    /// Starts every consumer.
    public func start() {
        guard tasks.isEmpty else { return }
        tasks = loops.map { loop in Task { await loop.run() } }
    }

    /// Starts every consumer and returns when all have stopped (after ``stop()``).
    public func run() async {
        start()
        for task in tasks { await task.value }
    }

    /// Finishes the events being handled, stores cursors, stops timers and closes connections.
    public func stop() async {
        for loop in loops { await loop.stop() }
        for task in tasks { await task.value }
        for agent in agents { await agent.shutdown() }
    }

    /// Each agent's status, with the cursor and lag of the consumer(s) it runs in.
    public func status() async -> [AgentStatus] {
        var out = [AgentStatus]()
        for agent in agents {
            var status = await agent.currentStatus()
            var cursor: Int?
            var head = 0
            var states = [String]()
            for loop in loops where loop.stages.contains(where: { $0 === agent }) {
                let progress = await loop.progress()
                cursor = min(cursor ?? progress.cursor, progress.cursor)
                head = max(head, progress.head)
                states.append(progress.state)
                if status.lastError == nil, let error = progress.lastError { status.lastError = error }
                if loop.consumer.hasPrefix("pipeline:") { status.pipelines.append(String(loop.consumer.dropFirst("pipeline:".count))) }
            }
            status.cursor = cursor ?? 0
            status.head = head
            status.state = states.first { $0 != "live" } ?? states.first ?? "stopped"
            out.append(status)
        }
        return out
    }

    /// The status of one agent by name.
    public func status(of name: String) async -> AgentStatus? { await status().first { $0.name == name } }
}
