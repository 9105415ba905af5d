import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncLLM

/// Runs DSL commands against a live ``Orchestrator``: `AGENT` starts a real agent, `KILL` stops it,
/// `PIPE` and `ROUTE` change routing at once, `SET` changes the settings of agents started afterwards,
/// `SEND` hands an agent a block to act on, `DEPLOY` runs the deployers, `SYNC` pushes or pulls the
/// README, `LOAD`/`SAVE` read and write `.msdsl` scripts of the whole state.
///
/// Every command answers `{"ok": true, "result": …}` or `{"ok": false, "error": {"code", "message"}}`.
///
/// ```swift
/// let executor = DSLExecutor(orchestrator: orchestrator, settings: ["server_uri": "ws://127.0.0.1:8765"])
/// let reply = await executor.execute("AGENT reviewer-1 reviewer --watch 'markpact:file=app/*'")
/// ```
public actor DSLExecutor {
    /// `SYNC push|pull|status` with the settings in force; provided by the command line (it owns the
    /// README logic of `push` and `pull`).
    public typealias SyncAction = @Sendable (_ action: String, _ settings: [String: String]) async throws -> JSONValue

    /// The settings `SET` changes, with their defaults' names.
    public static let settingKeys: [String] = [
        "server_uri", "token", "doc", "ollama_url", "ollama_model", "llm_provider", "llm_api_base", "llm_model", "auto_edit",
        "deploy", "deploy_command", "work_dir", "debounce", "cooldown", "audit_file", "agent_start", "readme", "log_level",
    ]

    public let orchestrator: Orchestrator
    private var settings: [String: String]
    private let sync: SyncAction?
    /// Settings the DSL has no key for (an API key, a temperature, timeouts): the environment and `.env`.
    private let environment: @Sendable (String) -> String?
    private var history: [JSONValue] = []
    /// Called after every command with the line and its reply (the control API tells its other clients).
    private var listeners: [@Sendable (String, JSONValue) async -> Void] = []

    /// An executor over `orchestrator`; `settings` are the initial `SET` values (see ``settingKeys``);
    /// `environment` gives the LLM settings the DSL has no key for (`LLM_API_KEY`, `LLM_TIMEOUT`, …).
    public init(
        orchestrator: Orchestrator, settings: [String: String] = [:], environment: @escaping @Sendable (String) -> String? = { _ in nil },
        sync: SyncAction? = nil
    ) {
        self.orchestrator = orchestrator
        self.settings = settings
        self.environment = environment
        self.sync = sync
    }

    /// The settings in force (the token is masked).
    public func currentSettings(masked: Bool = true) -> [String: String] {
        var out = settings
        if masked, out["token"] != nil { out["token"] = "***" }
        return out
    }

    /// Registers a function called after each command.
    public func onCommand(_ listener: @escaping @Sendable (String, JSONValue) async -> Void) { listeners.append(listener) }

    // MARK: - Running lines

    /// Parses and runs one line. A blank line or a comment answers `{ok: true, result: null}`.
    /// - Parameter record: keep the line in the history `LOG` shows (off for the control API's own reads).
    public func execute(_ line: String, record: Bool = true) async -> JSONValue {
        let reply: JSONValue
        do {
            if let command = try DSLParser.parse(line) {
                reply = await run(command)
            } else {
                reply = Self.success(.null)
            }
        } catch {
            reply = Self.failure("syntax", error.description)
        }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if record, !trimmed.isEmpty, !trimmed.hasPrefix("#") {
            history.append(
                .object([
                    "time": .double(Date().timeIntervalSince1970), "command": .string(Self.masked(trimmed)),
                    "ok": reply["ok"] ?? .bool(false),
                ]))
            if history.count > 1000 { history.removeFirst(history.count - 1000) }
        }
        for listener in listeners { await listener(line, reply) }
        return reply
    }

    /// Runs a script: every command in order (a syntax error anywhere stops it before anything runs).
    /// Answers `{ok, result: {count, results}}`; `ok` is false when a command failed.
    public func executeScript(_ text: String) async -> JSONValue {
        do {
            _ = try DSLParser.parseScript(text)
        } catch {
            return Self.failure("syntax", error.description)
        }
        var results = [JSONValue]()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            results.append(.object(["command": .string(trimmed), "reply": await execute(trimmed)]))
        }
        let ok = results.allSatisfy { $0["reply"]?["ok"]?.boolValue == true }
        return .object(["ok": .bool(ok), "result": .object(["count": .int(results.count), "results": .array(results)])])
    }

    /// The line with the value of `SET token …` hidden.
    static func masked(_ line: String) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard words.count > 2, words[0].uppercased() == "SET", words[1].lowercased() == "token" else { return line }
        return "\(words[0]) \(words[1]) ***"
    }

    static func success(_ result: JSONValue) -> JSONValue { .object(["ok": .bool(true), "result": result]) }

    static func failure(_ code: String, _ message: String) -> JSONValue {
        .object(["ok": .bool(false), "error": .object(["code": .string(code), "message": .string(message)])])
    }

    private func run(_ command: DSLCommand) async -> JSONValue {
        switch command.verb {
        case .agent: return await agent(command)
        case .kill: return await kill(command)
        case .list: return await list(command.target.lowercased())
        case .pipe:
            await orchestrator.setPipeline(.init(name: command.target, stages: command.stages))
            let unknown = await missingAgents(command.stages)
            var result: [String: JSONValue] = ["name": .string(command.target), "stages": .array(command.stages.map { .string($0) })]
            if !unknown.isEmpty { result["waiting_for"] = .array(unknown.map { .string($0) }) }
            return Self.success(.object(result))
        case .route:
            await orchestrator.addRoute(.init(pattern: command.args[0], agent: command.args[1]))
            return Self.success(.object(["pattern": .string(command.args[0]), "agent": .string(command.args[1])]))
        case .set: return await set(command)
        case .status: return await status(command.target)
        case .send:
            guard let agent = await orchestrator.agent(command.target) else {
                return Self.failure("not_found", "no agent named \(command.target); LIST shows the agents")
            }
            let reply = await agent.request(command.args.dropFirst().joined(separator: " "))
            if reply["ok"]?.boolValue == true { return Self.success(reply) }
            return Self.failure("failed", reply["error"]?.stringValue ?? "the agent could not do it")
        case .deploy: return await deploy(force: command.options["force"]?.isTrue ?? false)
        case .sync: return await syncCommand(command.target.isEmpty ? "status" : command.target.lowercased())
        case .connect: return await connect(command.target)
        case .disconnect:
            let names = await orchestrator.status().filter { $0.state != "stopped" }.map(\.name)
            await orchestrator.stop()
            return Self.success(.object(["stopped": .array(names.map { .string($0) })]))
        case .load: return await load(command.target)
        case .save: return await save(command.target)
        case .log:
            var entries = history
            if !command.target.isEmpty {
                entries = entries.filter { $0["command"]?.stringValue?.contains(command.target) == true }
            }
            if case .int(let tail)? = command.options["tail"] { entries = Array(entries.suffix(tail)) } else { entries = Array(entries.suffix(20)) }
            return Self.success(.object(["entries": .array(entries), "total": .int(history.count)]))
        case .help: return Self.success(DSLHelp.reply(command.target))
        }
    }

    private func missingAgents(_ names: [String]) async -> [String] {
        var missing = [String]()
        for name in names where await orchestrator.agent(name) == nil { missing.append(name) }
        return missing
    }

    // MARK: - Agents

    private func agent(_ command: DSLCommand) async -> JSONValue {
        let role = command.value.isEmpty ? (command.options["role"]?.description ?? "monitor") : command.value
        var entry = OrchestrationPlan.Agent(name: command.target, role: role.lowercased())
        for (key, value) in command.options {
            switch key {
            case "model": entry.model = value.description
            case "auto_edit": entry.autoEdit = value.isTrue
            case "watch": entry.watch = value.description.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case "role": break
            default: entry.options[key] = value.description
            }
        }
        if command.options["auto_edit"] == nil, Self.flag(settings["auto_edit"]) == true { entry.autoEdit = true }
        do {
            await orchestrator.setDefaults(try defaults())
            try await orchestrator.addAgent(entry)
        } catch let error as AgentError {
            return Self.failure(error.code, error.message)
        } catch {
            return Self.failure("failed", "\(error)")
        }
        return Self.success(await agentJSON(entry.name))
    }

    private func kill(_ command: DSLCommand) async -> JSONValue {
        do { try await orchestrator.removeAgent(command.target) } catch let error as AgentError {
            return Self.failure(error.code, error.message)
        } catch {
            return Self.failure("failed", "\(error)")
        }
        return Self.success(.object(["killed": .string(command.target)]))
    }

    /// One agent as JSON: its plan entry and its status.
    func agentJSON(_ name: String) async -> JSONValue {
        let plan = await orchestrator.plan
        guard let entry = plan.agents.first(where: { $0.name == name }) else { return .null }
        var object: [String: JSONValue] = [
            "name": .string(entry.name), "role": .string(entry.role), "auto_edit": .bool(entry.autoEdit),
            "watch": .array(entry.watch.map { .string($0) }), "options": .object(entry.options.mapValues { .string($0) }),
            "routes": .array(plan.routes.filter { $0.agent == name }.map { .string($0.pattern) }),
        ]
        object["model"] = .string(entry.model ?? (settings["ollama_model"] ?? settings["llm_model"] ?? LLMConfiguration.defaultModel))
        if let status = await orchestrator.status(of: name), let data = try? JSONEncoder().encode(status), let json = JSONValue.parse(data) {
            object["status"] = json
        }
        return .object(object)
    }

    private func list(_ what: String) async -> JSONValue {
        let plan = await orchestrator.plan
        switch what {
        case "pipelines":
            return Self.success(
                .object([
                    "pipelines": .array(
                        plan.pipelines.map { .object(["name": .string($0.name), "stages": .array($0.stages.map { .string($0) })]) })
                ]))
        case "routes":
            return Self.success(
                .object(["routes": .array(plan.routes.map { .object(["pattern": .string($0.pattern), "agent": .string($0.agent)]) })]))
        case "config":
            return Self.success(.object(["config": .object(currentSettings().mapValues { .string($0) })]))
        default:
            var agents = [JSONValue]()
            for entry in plan.agents { agents.append(await agentJSON(entry.name)) }
            return Self.success(.object(["agents": .array(agents)]))
        }
    }

    private func status(_ name: String) async -> JSONValue {
        if !name.isEmpty {
            guard await orchestrator.agent(name) != nil else { return Self.failure("not_found", "no agent named \(name)") }
            return Self.success(.object(["agent": await agentJSON(name)]))
        }
        let plan = await orchestrator.plan
        let statuses = await orchestrator.status()
        var agents = [JSONValue]()
        for status in statuses {
            if let data = try? JSONEncoder().encode(status), let json = JSONValue.parse(data) { agents.append(json) }
        }
        return Self.success(
            .object([
                "agents": .array(agents), "pipelines": .int(plan.pipelines.count), "routes": .int(plan.routes.count),
                "running": .array(statuses.filter { $0.state != "stopped" }.map { .string($0.name) }),
                "config": .object(currentSettings().mapValues { .string($0) }),
            ]))
    }

    private func deploy(force: Bool) async -> JSONValue {
        let plan = await orchestrator.plan
        let deployers = plan.agents.filter { AgentRole($0.role) == .deployer }.map(\.name)
        guard !deployers.isEmpty else { return Self.failure("no_deployer", "no deployer agent: AGENT deployer-1 deployer first") }
        var results = [JSONValue]()
        var ok = true
        for name in deployers {
            guard let agent = await orchestrator.agent(name) else { continue }
            let reply = await agent.deployRequest(force: force)
            ok = ok && reply["ok"]?.boolValue == true
            results.append(reply)
        }
        if !ok, results.count == 1, let message = results[0]["error"]?.stringValue { return Self.failure("failed", message) }
        return .object(["ok": .bool(ok), "result": .object(["force": .bool(force), "deploys": .array(results)])])
    }

    // MARK: - Settings and connection

    private func set(_ command: DSLCommand) async -> JSONValue {
        let key = command.target.lowercased().replacingOccurrences(of: "-", with: "_")
        guard Self.settingKeys.contains(key) else {
            return Self.failure("bad_setting", "unknown setting \(command.target); known: \(Self.settingKeys.joined(separator: ", "))")
        }
        let value = command.args.dropFirst().joined(separator: " ")
        var next = settings
        next[key] = value.isEmpty ? nil : value
        let previous = settings[key]
        settings = next
        do {
            await orchestrator.setDefaults(try defaults())
        } catch let error as AgentError {
            settings[key] = previous
            return Self.failure(error.code, error.message)
        } catch {
            settings[key] = previous
            return Self.failure("bad_setting", "\(error)")
        }
        let shown = key == "token" ? (value.isEmpty ? "" : "***") : value
        let old = key == "token" ? (previous == nil ? nil : "***") : previous
        return Self.success(.object(["key": .string(key), "value": .string(shown), "old": old.map { .string($0) } ?? .null]))
    }

    static func flag(_ text: String?) -> Bool? { Orchestrator.flag(text) }

    /// The orchestrator defaults for agents started now, from the settings.
    func defaults() throws -> Orchestrator.Defaults {
        var defaults = Orchestrator.Defaults()
        defaults.server = ServerEndpoint(url: settings["server_uri"] ?? "ws://127.0.0.1:8765", token: settings["token"], document: settings["doc"])
        var llmSettings = [String: String]()
        llmSettings["OLLAMA_URL"] = settings["ollama_url"]
        llmSettings["OLLAMA_MODEL"] = settings["ollama_model"]
        llmSettings["LLM_PROVIDER"] = settings["llm_provider"]
        llmSettings["LLM_API_BASE"] = settings["llm_api_base"]
        llmSettings["LLM_MODEL"] = settings["llm_model"]
        let fixed = llmSettings
        let environment = self.environment
        defaults.llm = LLMConfiguration.from(settings: { fixed[$0] ?? environment($0) })
        defaults.deploy.enabled = Self.flag(settings["deploy"]) ?? false
        if let command = settings["deploy_command"] { defaults.deploy.command = command }
        if let folder = settings["work_dir"] { defaults.deploy.workFolder = folder }
        if let debounce = try seconds("debounce") { defaults.deploy.debounce = debounce }
        if let cooldown = try seconds("cooldown") { defaults.editCooldown = cooldown }
        defaults.auditFile = settings["audit_file"]
        defaults.start = settings["agent_start"] == "beginning" ? .beginning : .head
        return defaults
    }

    private func seconds(_ key: String) throws -> Duration? {
        guard let text = settings[key] else { return nil }
        guard let value = Double(text), value >= 0 else { throw AgentError("bad_setting", "\(key) must be a number of seconds, not \(text)") }
        return .milliseconds(Int64(value * 1000))
    }

    private func connect(_ uri: String) async -> JSONValue {
        let url = uri.isEmpty ? (settings["server_uri"] ?? "ws://127.0.0.1:8765") : uri
        var options = SyncClient.Options()
        options.name = "dsl"
        options.token = settings["token"]
        options.document = settings["doc"]
        options.reconnect = false
        options.connectTimeout = .seconds(5)
        do {
            let client = try await SyncClient.connect(to: url, options: options)
            let manifest = await client.manifest
            await client.close()
            settings["server_uri"] = url
            await orchestrator.setDefaults((try? defaults()) ?? Orchestrator.Defaults())
            await orchestrator.start()
            return Self.success(
                .object([
                    "server_uri": .string(url), "doc": manifest.document.map { .string($0) } ?? .null, "seq": .int(manifest.seq ?? 0),
                    "blocks": .int(manifest.blocks.count),
                ]))
        } catch {
            return Self.failure("unreachable", "cannot connect to \(url): \(error)")
        }
    }

    private func syncCommand(_ action: String) async -> JSONValue {
        guard let sync else { return Self.failure("unavailable", "SYNC is not available in this runtime") }
        do { return Self.success(try await sync(action, settings)) } catch {
            return Self.failure("failed", "SYNC \(action): \(error)")
        }
    }

    // MARK: - Scripts

    private func load(_ path: String) async -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            return Self.failure("not_found", "cannot read \(path)")
        }
        let reply = await executeScript(text)
        guard reply["ok"]?.boolValue == true else { return reply }
        return Self.success(.object(["file": .string(path), "commands": reply["result"]?["count"] ?? .int(0)]))
    }

    private func save(_ path: String) async -> JSONValue {
        let script = await stateScript()
        do { try script.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            return Self.failure("io", "cannot write \(path): \(error.localizedDescription)")
        }
        return Self.success(.object(["file": .string(path), "lines": .int(script.split(separator: "\n").count)]))
    }

    /// The whole state as a script: `SET` lines, then `AGENT`, `PIPE`, `ROUTE`. Run by `LOAD` in a fresh
    /// runtime it gives the same agents, pipelines, routes and settings.
    public func stateScript() async -> String {
        let plan = await orchestrator.plan
        var lines = ["# marksync-log DSL state", "# saved \(ISO8601DateFormatter().string(from: Date()))", ""]
        for key in Self.settingKeys {
            guard let value = settings[key] else { continue }
            lines.append("SET \(key) \(DSLScript.quote(value))")
        }
        if !settings.isEmpty { lines.append("") }
        for entry in plan.agents {
            var line = "AGENT \(DSLScript.quote(entry.name)) \(DSLScript.quote(entry.role))"
            if let model = entry.model { line += " --model \(DSLScript.quote(model))" }
            if entry.autoEdit { line += " --auto-edit" }
            if !entry.watch.isEmpty { line += " --watch \(DSLScript.quote(entry.watch.joined(separator: ",")))" }
            for (key, value) in entry.options.sorted(by: { $0.key < $1.key }) { line += " --\(key) \(DSLScript.quote(value))" }
            lines.append(line)
        }
        for pipeline in plan.pipelines {
            lines.append("PIPE \(DSLScript.quote(pipeline.name)) " + pipeline.stages.map(DSLScript.quote).joined(separator: " -> "))
        }
        for route in plan.routes { lines.append("ROUTE \(DSLScript.quote(route.pattern)) -> \(DSLScript.quote(route.agent))") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Writing DSL words.
public enum DSLScript {
    /// A word as the parser reads it back: quoted when it has spaces, quotes, `#` or backslashes, or is
    /// empty or `->`.
    public static func quote(_ word: String) -> String {
        let special: Set<Character> = [" ", "\t", "'", "\"", "\\", "#"]
        guard word.isEmpty || word == "->" || word.hasPrefix("--") || word.contains(where: special.contains) else { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
