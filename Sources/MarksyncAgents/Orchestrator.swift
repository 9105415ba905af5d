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

    /// The plan in force (it changes with ``addAgent(_:)``, ``setPipeline(_:)``, ``addRoute(_:)``, …).
    public private(set) var plan: OrchestrationPlan
    /// The defaults for agents added from now on.
    public private(set) var defaults: Defaults
    let output: AgentOutput
    let languageModel: (@Sendable (AgentConfiguration) -> any LanguageModel)?
    private var agents: [String: Agent] = [:]
    private var loops: [String: Running] = [:]
    private var started = false

    /// A consumer and its task.
    private struct Running {
        var loop: ConsumerLoop
        var stages: [String]
        var task: Task<Void, Never>?
    }

    /// Builds the agents and consumers of `plan`. Throws `bad_plan` when stages or routes name unknown
    /// agents, `bad_option` when an agent's option has a wrong value.
    /// - Parameter languageModel: the LLM of each agent (default: an ``LLMClient`` for its configuration).
    public init(
        plan: OrchestrationPlan, defaults: Defaults, output: AgentOutput = .standard,
        languageModel: (@Sendable (AgentConfiguration) -> any LanguageModel)? = nil
    ) throws {
        if let problem = plan.problems.first { throw AgentError("bad_plan", "agents.yml: \(problem)") }
        self.plan = plan
        self.defaults = defaults
        self.output = output
        self.languageModel = languageModel
        for entry in plan.agents {
            let configuration = try Self.configuration(for: entry, in: plan, defaults: defaults)
            agents[entry.name] = Agent(configuration: configuration, llm: languageModel?(configuration), output: output)
        }
    }

    /// What consumer runs which stages: one per pipeline, one per agent in no pipeline.
    private static func desiredLoops(_ plan: OrchestrationPlan) -> [String: (consumer: String, stages: [String])] {
        let names = Set(plan.agents.map(\.name))
        var out = [String: (consumer: String, stages: [String])]()
        var staged = Set<String>()
        for pipeline in plan.pipelines {
            let stages = pipeline.stages.filter(names.contains)
            guard !stages.isEmpty else { continue }
            staged.formUnion(stages)
            out["pipeline:\(pipeline.name)"] = ("pipeline:\(pipeline.name)", stages)
        }
        for agent in plan.agents where !staged.contains(agent.name) { out[agent.name] = (agent.name, [agent.name]) }
        return out
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

    // MARK: - Running

    /// Starts every consumer; consumers added later start at once.
    public func start() async {
        started = true
        await reconcile()
    }

    /// Starts every consumer and returns when ``stop()`` has stopped them all.
    public func run() async {
        await start()
        while started, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(200)) }
        if started { await stop() }
    }

    /// Finishes the events being handled, stores cursors, stops timers and closes connections.
    public func stop() async {
        started = false
        for running in loops.values {
            await running.loop.stop()
            await running.task?.value
        }
        // A later start makes new consumers; they resume from their stored cursors.
        loops.removeAll()
        for agent in agents.values { await agent.shutdown() }
    }

    /// Makes the running consumers match the plan: consumers whose stages changed are stopped and started
    /// again (they resume from their stored cursors), new ones start, removed ones stop; every agent gets
    /// its routes and peer editors.
    private func reconcile() async {
        let editors = Set(plan.agents.filter { AgentRole($0.role) == .editor }.map(\.name))
        for (name, agent) in agents {
            await agent.reconfigure(
                routes: plan.routes.filter { $0.agent == name }.map(\.pattern),
                peerEditors: AgentRole(plan.agents.first { $0.name == name }?.role ?? "") == .editor ? editors.subtracting([name]) : [])
        }
        let desired = Self.desiredLoops(plan)
        for (consumer, running) in loops where desired[consumer]?.stages != running.stages {
            await running.loop.stop()
            await running.task?.value
            loops[consumer] = nil
        }
        for (consumer, spec) in desired where loops[consumer] == nil {
            let stages = spec.stages.compactMap { agents[$0] }
            let loop = ConsumerLoop(
                consumer: consumer, stages: stages, endpoint: defaults.server,
                skipAuthors: consumer.hasPrefix("pipeline:") ? Set(spec.stages) : [], start: defaults.start, output: output)
            loops[consumer] = Running(loop: loop, stages: spec.stages, task: nil)
        }
        guard started else { return }
        for (consumer, running) in loops where running.task == nil {
            let loop = running.loop
            loops[consumer]?.task = Task { await loop.run() }
        }
    }

    // MARK: - Changing the plan while it runs

    /// Adds an agent (and starts it when the orchestrator runs). Throws `exists` when the name is taken,
    /// `bad_option` for a wrong option value.
    public func addAgent(_ entry: OrchestrationPlan.Agent) async throws {
        guard agents[entry.name] == nil else {
            throw AgentError("exists", "an agent named \(entry.name) exists; KILL it first")
        }
        var next = plan
        next.agents.append(entry)
        let configuration = try Self.configuration(for: entry, in: next, defaults: defaults)
        agents[entry.name] = Agent(configuration: configuration, llm: languageModel?(configuration), output: output)
        plan = next
        await reconcile()
    }

    /// Stops an agent and forgets it (its pipelines and routes stay, and apply again to an agent of that
    /// name). Throws `not_found`.
    public func removeAgent(_ name: String) async throws {
        guard let agent = agents[name] else { throw AgentError("not_found", "no agent named \(name)") }
        plan.agents.removeAll { $0.name == name }
        agents[name] = nil
        await reconcile()
        await agent.shutdown()
    }

    /// Adds or replaces a pipeline. Stages may name agents that do not exist yet.
    public func setPipeline(_ pipeline: OrchestrationPlan.Pipeline) async {
        if let index = plan.pipelines.firstIndex(where: { $0.name == pipeline.name }) {
            plan.pipelines[index] = pipeline
        } else {
            plan.pipelines.append(pipeline)
        }
        await reconcile()
    }

    /// Removes a pipeline; its agents run on their own again. Throws `not_found`.
    public func removePipeline(_ name: String) async throws {
        guard plan.pipelines.contains(where: { $0.name == name }) else { throw AgentError("not_found", "no pipeline named \(name)") }
        plan.pipelines.removeAll { $0.name == name }
        await reconcile()
    }

    /// Adds a route (in force at once).
    public func addRoute(_ route: OrchestrationPlan.Route) async {
        plan.routes.append(route)
        await reconcile()
    }

    /// Removes the routes with this pattern (and agent, when given); returns how many.
    @discardableResult
    public func removeRoutes(pattern: String, agent: String? = nil) async -> Int {
        let before = plan.routes.count
        plan.routes.removeAll { $0.pattern == pattern && (agent == nil || $0.agent == agent) }
        await reconcile()
        return before - plan.routes.count
    }

    /// New defaults for agents added from now on (the DSL's `SET`).
    public func setDefaults(_ defaults: Defaults) { self.defaults = defaults }

    // MARK: - Looking

    /// The agent with this name.
    public func agent(_ name: String) -> Agent? { agents[name] }

    /// The consumers and the agents they pass events through, by consumer name.
    public func consumers() -> [String: [String]] { loops.mapValues(\.stages) }

    /// Each agent's status, with the cursor and lag of the consumer(s) it runs in, in plan order.
    public func status() async -> [AgentStatus] {
        var out = [AgentStatus]()
        for entry in plan.agents {
            guard let agent = agents[entry.name] else { continue }
            var status = await agent.currentStatus()
            var cursor: Int?
            var head = 0
            var states = [String]()
            for (consumer, running) in loops where running.stages.contains(entry.name) {
                let progress = await running.loop.progress()
                cursor = min(cursor ?? progress.cursor, progress.cursor)
                head = max(head, progress.head)
                states.append(running.task == nil ? "stopped" : progress.state)
                if status.lastError == nil, let error = progress.lastError { status.lastError = error }
                if consumer.hasPrefix("pipeline:") { status.pipelines.append(String(consumer.dropFirst("pipeline:".count))) }
            }
            status.pipelines.sort()
            status.cursor = cursor ?? 0
            status.head = head
            status.state = started ? (states.first { $0 != "live" } ?? states.first ?? "stopped") : "stopped"
            out.append(status)
        }
        return out
    }

    /// The status of one agent by name.
    public func status(of name: String) async -> AgentStatus? { await status().first { $0.name == name } }
}
