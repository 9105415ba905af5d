import ArgumentParser
import Foundation
import Logging
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncDSL
import MarksyncLLM
import ServiceLifecycle
import UnixSignals

/// Options shared by `agent` and `orchestrate`: the server, the LLM, deploys and the audit file.
struct AgentRuntimeOptions: ParsableArguments {
    init() {}

    @Option(
        name: [.customLong("server"), .customLong("server-uri")],
        help: "The sync server; --server-uri is the seed's name for it (default: $MARKSYNC_SERVER or ws://127.0.0.1:8765).")
    var server: String?
    @Option(help: "A token with write scope (default: $MARKSYNC_TOKEN).") var token: String?
    @Option(help: "The document on a server that serves several (default: $MARKSYNC_DOC or the server's first).") var doc: String?
    @Option(help: "LLM provider: ollama or openai (OpenAI-compatible: llama.cpp, vLLM, LM Studio) (default: $LLM_PROVIDER or ollama).")
    var llmProvider: String?
    @Option(help: "Ollama's URL (default: $OLLAMA_URL or http://localhost:11434).") var ollamaUrl: String?
    @Option(help: "Base URL of an OpenAI-compatible server (default: $LLM_API_BASE).") var llmApiBase: String?
    @Option(help: "The model (default: $OLLAMA_MODEL or qwen2.5-coder:7b; agents.yml may set one per agent).") var model: String?
    @Flag(help: "Let deployers run their command (default: $MARKSYNC_DEPLOY; off: a deploy runs code from the document).")
    var deploy = false
    @Option(help: "Deploy command, run with /bin/sh -c in the work folder (default: $MARKSYNC_DEPLOY_COMMAND or `markpact README.md --run`).")
    var deployCommand: String?
    @Option(help: "Folder the project is materialised into for deploys (default: $MARKSYNC_DEPLOY_DIR or .marksync/deploy).")
    var workDir: String?
    @Option(help: "Seconds of quiet after a change before a deploy (default: $MARKSYNC_DEPLOY_DEBOUNCE or 2).") var debounce: Double?
    @Option(help: "Monitor audit lines as JSON lines in this file (default: $MARKSYNC_AUDIT_FILE, else standard output).")
    var auditFile: String?
    @Option(help: "Seconds an editor leaves a block alone after editing it (default: $MARKSYNC_EDIT_COOLDOWN or 60).")
    var cooldown: Double?
    @Flag(help: "A new agent handles the whole history, not only changes from now on (default: $MARKSYNC_AGENT_START=beginning).")
    var fromBeginning = false

    /// The defaults for agents: flags, then the environment and `.env`, then built-in values.
    func defaults(settings: Settings = Settings()) throws -> Orchestrator.Defaults {
        var defaults = Orchestrator.Defaults()
        defaults.server = ServerEndpoint(
            url: server ?? settings.value("MARKSYNC_SERVER") ?? defaultServerURI, token: token ?? settings.value("MARKSYNC_TOKEN"),
            document: doc ?? settings.value("MARKSYNC_DOC"))
        var values = [String: String]()
        values["LLM_PROVIDER"] = llmProvider
        values["OLLAMA_URL"] = ollamaUrl
        values["LLM_API_BASE"] = llmApiBase
        if let model {
            values["OLLAMA_MODEL"] = model
            values["LLM_MODEL"] = model
        }
        let overrides = values
        defaults.llm = LLMConfiguration.from(settings: { key in overrides[key] ?? settings.value(key) })
        var deploySettings = DeploySettings()
        deploySettings.enabled = deploy || Orchestrator.flag(settings.value("MARKSYNC_DEPLOY")) == true
        deploySettings.command = deployCommand ?? settings.value("MARKSYNC_DEPLOY_COMMAND") ?? deploySettings.command
        deploySettings.workFolder = workDir ?? settings.value("MARKSYNC_DEPLOY_DIR") ?? deploySettings.workFolder
        if let seconds = try debounce ?? Self.seconds(settings, "MARKSYNC_DEPLOY_DEBOUNCE") {
            deploySettings.debounce = .milliseconds(Int64(seconds * 1000))
        }
        defaults.deploy = deploySettings
        defaults.auditFile = auditFile ?? settings.value("MARKSYNC_AUDIT_FILE")
        if let seconds = try cooldown ?? Self.seconds(settings, "MARKSYNC_EDIT_COOLDOWN") {
            defaults.editCooldown = .milliseconds(Int64(seconds * 1000))
        }
        defaults.start = fromBeginning || settings.value("MARKSYNC_AGENT_START") == "beginning" ? .beginning : .head
        return defaults
    }

    private static func seconds(_ settings: Settings, _ key: String) throws -> Double? {
        guard let text = settings.value(key) else { return nil }
        guard let value = Double(text), value >= 0 else { throw CLIError.usage("\(key)=\(text) is not a number of seconds") }
        return value
    }
}

/// Runs an orchestrator until SIGINT or SIGTERM, then stops it cleanly and prints each agent's counts.
enum AgentHost {
    struct OrchestratorService: Service {
        let orchestrator: Orchestrator
        func run() async throws {
            await withGracefulShutdownHandler {
                await orchestrator.run()
            } onGracefulShutdown: {
                Task { await orchestrator.stop() }
            }
        }
    }

    /// Runs the orchestrator and `others` (the control API) until a signal stops them all.
    static func run(_ orchestrator: Orchestrator, with others: [any Service] = []) async throws {
        var logger = Logger(label: "marksync-agents")
        logger.logLevel = .warning
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [.init(service: OrchestratorService(orchestrator: orchestrator))] + others.map { .init(service: $0) }
        try await StopOnSignal.run(services.map(\.service), logger: logger)
        for status in await orchestrator.status() {
            printError(
                "\(status.name) (\(status.role)): cursor \(status.cursor), \(status.handled) handled, \(status.llmCalls) LLM calls, "
                    + "\(status.writes) writes, \(status.reviews) reviews, \(status.deploys) deploys"
                    + (status.lastError.map { ", last error: \($0)" } ?? ""))
        }
    }
}

/// Agents are durable consumers (`subscribe` with a consumer name and a cursor): a server that speaks only
/// the seed's protocol has neither, so `agent` and `orchestrate` check the server once before starting and
/// refuse at once, instead of retrying a subscription the server silently ignores.
enum SeedServerProbe {
    /// Throws when the server at `endpoint` speaks only the seed's protocol. A server that cannot be reached
    /// is left to the agents, which retry with backoff for as long as they run.
    static func refuse(_ endpoint: ServerEndpoint, what: String) async throws {
        var options = SyncClient.Options()
        options.name = "marksync-probe"
        options.token = endpoint.token
        options.document = endpoint.document
        options.reconnect = false
        options.connectTimeout = .seconds(5)
        guard let client = try? await SyncClient.connect(to: endpoint.url, options: options) else { return }
        let seedOnly = await client.isSeedServer
        await client.close()
        if seedOnly {
            throw CLIError.failure(
                "\(endpoint.url) speaks only the seed's protocol (Python marksync 0.2.x: no seqs, no subscriptions): \(what) needs a "
                    + "durable consumer with a cursor, which that server does not have. Serve the README with `marksync-log serve` "
                    + "(it speaks the seed's protocol too), or run the seed's own `marksync agent` against it.")
        }
    }
}

/// `marksync-log agent --role R --name N …`: one agent.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run one agent (editor, reviewer, deployer or monitor) as a durable consumer of the log.",
        discussion: """
            The agent subscribes under its name and resumes from the cursor the server keeps for it: after a restart \
            it neither misses nor repeats an event. It reconnects with backoff for as long as it runs. Stops cleanly \
            on SIGINT/SIGTERM. A server that speaks only the seed's protocol (Python `marksync server`) has no \
            durable consumers: the agent refuses to start against it, saying so.

            Examples:
              marksync-log agent --role monitor --name monitor-1
              marksync-log agent --role editor --name e1 --auto-edit --watch 'markpact:file=*'
              marksync-log agent --role reviewer --name r1 --server-uri ws://127.0.0.1:8765
              marksync-log agent --role deployer --name d1 --deploy --work-dir /tmp/deploy
            """
    )

    @Option(help: "editor, reviewer, deployer or monitor.") var role: String
    @Option(help: "The agent's name: its consumer name and the author of its writes.") var name: String
    @Flag(help: "Editor: write improvements back to the document.") var autoEdit = false
    @Option(help: "Block ids or glob patterns to handle, comma-separated (default: every block).") var watch: [String] = []
    @OptionGroup var runtime: AgentRuntimeOptions

    func run() async throws {
        guard ["editor", "reviewer", "deployer", "monitor"].contains(role.lowercased()) else {
            throw CLIError.usage("unknown role \(role.debugDescription): use editor, reviewer, deployer or monitor")
        }
        let patterns = watch.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        let plan = OrchestrationPlan(agents: [.init(name: name, role: role.lowercased(), autoEdit: autoEdit, watch: patterns)])
        try await SeedServerProbe.refuse(try runtime.defaults().server, what: "an agent")
        let orchestrator: Orchestrator
        do { orchestrator = try Orchestrator(plan: plan, defaults: try runtime.defaults()) } catch let error as AgentError {
            throw CLIError.usage(error.message)
        }
        let defaults = try runtime.defaults()
        printError("agent \(name) (\(role)) on \(defaults.server.url), LLM \(defaults.llm.provider) \(defaults.llm.model) at \(defaults.llm.baseURL)")
        try await AgentHost.run(orchestrator)
    }
}

/// `marksync-log orchestrate -c agents.yml`: every agent of the file in one process.
struct OrchestrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orchestrate",
        abstract: "Run all agents of agents.yml in one process, with its pipelines and routes in force.",
        discussion: """
            Prints the plan, then runs it until SIGINT/SIGTERM. --dry-run prints the equivalent DSL and exits; \
            --export-dsl writes it as a .msdsl script. --role runs only the agents of one role.

            Examples:
              marksync-log orchestrate  # agents.yml in this folder
              marksync-log orchestrate -c examples/task-manager-api/agents.yml --dry-run
              marksync-log orchestrate -c agents.yml --role reviewer --server ws://hub:8765
              marksync-log orchestrate --export-dsl plan.msdsl
            """
    )

    @Option(name: [.short, .customLong("config")], help: "The agents file.") var config = "agents.yml"
    @Option(help: "Run only the agents of this role.") var role: String?
    @Flag(help: "Print the plan and the equivalent DSL, then exit.") var dryRun = false
    @Option(help: "Write the plan as a DSL script (.msdsl) to this file, then exit.") var exportDsl: String?
    @Option(help: "Address of the control API (default 127.0.0.1).") var apiHost: String?
    @Option(help: "Port of the control API (default: $MARKSYNC_API_PORT or 8080; 0 picks a free one).") var apiPort: Int?
    @Flag(help: "Do not serve the control API.") var noApi = false
    @Option(help: "Tokens of the control API as token:scope,… (default: $MARKSYNC_TOKENS; none: a token is made at start).") var tokens: String?
    @Option(help: "A file of control API tokens (token:scope per line, mode 0600).") var tokensFile: String?
    @OptionGroup var browser: BrowserAccessOptions
    @OptionGroup var runtime: AgentRuntimeOptions

    func run() async throws {
        let plan: OrchestrationPlan
        do { plan = try AgentsFile.load(config) } catch let failure as AgentsFile.Failure { throw CLIError.failure(failure.message) }
        let defaults = try runtime.defaults()
        Console.out(plan.summary(defaultModel: defaults.llm.model))
        if let exportDsl {
            let script = Self.script(plan, defaults: defaults)
            do { try script.write(toFile: exportDsl, atomically: true, encoding: .utf8) } catch {
                throw CLIError.failure("cannot write \(exportDsl): \(error.localizedDescription)")
            }
            Console.out("DSL script written to \(exportDsl)")
            return
        }
        if dryRun {
            Console.out("Equivalent DSL commands:")
            for line in plan.dslLines(defaultModel: defaults.llm.model) { Console.out("  \(line)") }
            return
        }
        let running = role.map { plan.filtered(role: $0) } ?? plan
        guard !running.agents.isEmpty else { throw CLIError.failure("no agent with role \(role ?? "?") in \(config)") }
        try await SeedServerProbe.refuse(defaults.server, what: "orchestrate (its agents)")
        let orchestrator: Orchestrator
        do { orchestrator = try Orchestrator(plan: running, defaults: defaults) } catch let error as AgentError {
            throw CLIError.failure(error.message)
        }
        printError("orchestrating \(running.agents.count) agents on \(defaults.server.url)")
        var others = [any Service]()
        if !noApi {
            // The DSL and the control API drive this same orchestrator (AGENT, KILL, PIPE, ROUTE, STATUS, …).
            let settings = Settings()
            let executor = DSLExecutor(
                orchestrator: orchestrator, settings: LocalShellBackend.settings(from: defaults), environment: { settings.value($0) },
                sync: dslSyncAction())
            others.append(
                try APICommand.controlAPIService(
                    executor: executor, host: apiHost ?? "127.0.0.1", port: apiPort ?? settings.int("MARKSYNC_API_PORT", default: 8080),
                    tokens: try APICommand.tokenSet(tokens ?? settings.value("MARKSYNC_TOKENS"), file: tokensFile ?? settings.value("MARKSYNC_TOKENS_FILE")),
                    allowedOrigins: browser.allowOrigin, allowedHosts: browser.allowHost))
        }
        try await AgentHost.run(orchestrator, with: others)
    }

    /// The seed's `to_msdsl`: a header, the connection settings, then the plan's DSL lines.
    static func script(_ plan: OrchestrationPlan, defaults: Orchestrator.Defaults) -> String {
        var lines = [
            "# marksync orchestration script", "# Generated from agents.yml at \(Date())", "",
            "SET server_uri \(defaults.server.url)", "SET ollama_url \(defaults.llm.baseURL)", "SET ollama_model \(defaults.llm.model)", "",
        ]
        lines += plan.dslLines(defaultModel: defaults.llm.model)
        return lines.joined(separator: "\n") + "\n"
    }
}
