import ArgumentParser
import AsyncHTTPClient
import Foundation
import MarksyncAgents
import MarksyncCore
import MarksyncDSL
import MarksyncLLM
import NIOCore
import NIOHTTP1
import UnixSignals

/// `marksync-log shell [--script FILE] [--api URL]`: the DSL shell.
struct ShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "The DSL shell: run AGENT, KILL, LIST, PIPE, ROUTE, SET, STATUS, SYNC, … interactively or from a script.",
        discussion: """
            Without --api the agents run in this process (an orchestrator with an empty plan, configured by the \
            flags below and the environment); with --api http://host:port every line goes to that control API \
            (POST /api/v1/execute, bearer token from --token or $MARKSYNC_TOKEN).

            On a terminal: line editing, history (Up/Down, kept in ~/.marksync-log_history), Tab completion of \
            commands, roles, agent names and options. `exit`, `quit`, `q` or Ctrl-D leave; Ctrl-C clears the line. \
            When standard input is not a terminal, lines are read plainly and the exit code is 1 if a command failed.

            --script FILE runs the file line by line, printing each command and its reply; a syntax error anywhere \
            stops it before anything runs (naming line and column); the exit code is 1 if any command failed. \
            --json prints each reply as one line of JSON instead of a table.

            Examples:
              marksync-log shell  # interactive; HELP lists the commands
              marksync-log shell --script plan.msdsl  # see orchestrate --export-dsl
              echo 'AGENT monitor-1 monitor' | marksync-log shell --server ws://hub:8765
              marksync-log shell --api http://127.0.0.1:8080 --token "$TOKEN" --json
            """
    )

    @Option(help: "Run this .msdsl script line by line, print each command and its reply, then exit (1 when a command failed).")
    var script: String?

    @Option(help: "Send each line to the control API at this URL (http://host:port) instead of running agents here.")
    var api: String?

    @Flag(help: "Print each reply as raw JSON, one line per command.")
    var json = false

    @OptionGroup var runtime: AgentRuntimeOptions

    func run() async throws {
        let scriptText = try script.map { path in
            let text = try readTextFile(path, what: "script")
            do { _ = try DSLParser.parseScript(text) } catch { throw CLIError.failure("\(path): \(error)") }
            return text
        }
        let backend: any ShellBackend
        if let api {
            // The token given, else the one the control API made for this user at start (its 0600 file).
            backend = try RemoteShellBackend(url: api, token: runtime.token ?? Settings().value("MARKSYNC_TOKEN") ?? ControlTokenFile.read(url: api))
        } else {
            let defaults = try runtime.defaults()
            backend = try await LocalShellBackend.start(defaults: defaults)
        }
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let session = ShellSession(backend: backend, json: json)
        // SIGINT, SIGTERM and SIGHUP (the terminal closed): restore the terminal, stop the orchestrator, exit.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup)
        let work = Task { () -> ShellSession.Outcome in
            if let scriptText { return await session.runScript(scriptText) }
            let reader = LineReader(
                configuration: .init(historyPath: URL(fileURLWithPath: home).appendingPathComponent(".marksync-log_history").path))
            defer { reader.close() }
            return await session.runLines(from: reader)
        }
        let watcher = Task {
            for await _ in signals {
                TerminalMode.restore()
                work.cancel()
                return
            }
        }
        let outcome = await work.value
        watcher.cancel()
        TerminalMode.restore()
        await backend.close()
        if outcome.interrupted, script != nil { throw CLIError.failure("interrupted") }
        if outcome.failed > 0 {
            throw CLIError.failure("\(outcome.failed) of \(outcome.commands) command\(outcome.commands == 1 ? "" : "s") failed")
        }
    }
}

// MARK: - Where lines go

/// What runs the DSL lines: an executor in this process, or a control API.
protocol ShellBackend: Sendable {
    /// Runs one line; answers `{ok: true, result}` or `{ok: false, error: {code, message}}`.
    func execute(_ line: String) async -> JSONValue
    /// The names of the agents (for Tab completion).
    func agentNames() async -> [String]
    /// A line about where commands run (shown when the shell starts on a terminal).
    var banner: String { get }
    /// Stops what runs (the orchestrator cleanly: cursors stored, connections closed).
    func close() async
}

/// An orchestrator with an empty plan and a ``DSLExecutor`` over it, in this process.
struct LocalShellBackend: ShellBackend {
    let orchestrator: Orchestrator
    let executor: DSLExecutor
    let banner: String

    /// Starts an orchestrator configured by `defaults` and an executor whose settings say the same.
    static func start(defaults: Orchestrator.Defaults) async throws -> LocalShellBackend {
        let orchestrator: Orchestrator
        do { orchestrator = try Orchestrator(plan: OrchestrationPlan(), defaults: defaults) } catch let error as AgentError {
            throw CLIError.usage(error.message)
        }
        await orchestrator.start()
        let environment = Settings()
        let executor = DSLExecutor(
            orchestrator: orchestrator, settings: settings(from: defaults), environment: { environment.value($0) }, sync: dslSyncAction())
        return LocalShellBackend(
            orchestrator: orchestrator, executor: executor,
            banner: "agents run here, on \(defaults.server.url); LLM \(defaults.llm.provider) \(defaults.llm.model) at \(defaults.llm.baseURL)")
    }

    /// The executor's settings (``DSLExecutor/settingKeys``) from the runtime defaults, so that agents
    /// started by `AGENT` get what the flags, the environment and `.env` said.
    static func settings(from defaults: Orchestrator.Defaults) -> [String: String] {
        var settings = [String: String]()
        settings["server_uri"] = defaults.server.url
        settings["token"] = defaults.server.token
        settings["doc"] = defaults.server.document
        settings["llm_provider"] = defaults.llm.provider.rawValue
        switch defaults.llm.provider {
        case .ollama:
            settings["ollama_url"] = defaults.llm.baseURL
            settings["ollama_model"] = defaults.llm.model
        case .openai:
            settings["llm_api_base"] = defaults.llm.baseURL
            settings["llm_model"] = defaults.llm.model
        }
        settings["deploy"] = defaults.deploy.enabled ? "true" : "false"
        settings["deploy_command"] = defaults.deploy.command
        settings["work_dir"] = defaults.deploy.workFolder
        settings["debounce"] = seconds(defaults.deploy.debounce)
        settings["cooldown"] = seconds(defaults.editCooldown)
        settings["audit_file"] = defaults.auditFile
        if defaults.start == .beginning { settings["agent_start"] = "beginning" }
        if let readme = Settings().value("PROJECT_README") { settings["readme"] = readme }
        return settings
    }

    private static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int(value)) : String(value)
    }

    func execute(_ line: String) async -> JSONValue { await executor.execute(line) }

    func agentNames() async -> [String] { await orchestrator.plan.agents.map(\.name) }

    /// Stops the orchestrator (cursors stored, connections closed) and says where each agent stopped.
    func close() async {
        let statuses = await orchestrator.status()
        await orchestrator.stop()
        for status in statuses {
            printError(
                "stopped \(status.name) (\(status.role)): cursor \(status.cursor), \(status.handled) handled"
                    + (status.lastError.map { ", last error: \($0)" } ?? ""))
        }
    }
}

/// A control API: `POST /api/v1/execute {"command": line}` with a bearer token.
struct RemoteShellBackend: ShellBackend {
    /// `http://host:port` without a trailing slash.
    let base: String
    let token: String?
    var banner: String { "commands go to the control API at \(base)" }

    init(url: String, token: String?) throws {
        var base = url.contains("://") ? url : "http://" + url
        while base.hasSuffix("/") { base.removeLast() }
        guard let parsed = URL(string: base), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw CLIError.usage("--api \(url.debugDescription) is not an http:// URL")
        }
        self.base = base
        self.token = token
    }

    func execute(_ line: String) async -> JSONValue {
        var request = HTTPClientRequest(url: base + "/api/v1/execute")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: JSONValue.object(["command": .string(line)]).text))
        do {
            let (status, body) = try await send(request, timeout: .minutes(10))
            guard let reply = JSONValue.parse(body) else {
                return Self.failure("bad_reply", "the control API answered HTTP \(status) without JSON: \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
            return Self.normalized(reply, status: status)
        } catch {
            return Self.failure("unreachable", "cannot reach the control API at \(base): \(error)")
        }
    }

    /// The reply in the executor's shape: as it is when it has `ok`; an error body `{error: {code, message}}`
    /// (or `{error: "text"}`) as a failure; any other 2xx body as the result.
    static func normalized(_ reply: JSONValue, status: UInt) -> JSONValue {
        if reply["ok"]?.boolValue != nil { return reply }
        if let error = reply["error"] {
            return failure(
                error["code"]?.stringValue ?? "http_\(status)", error["message"]?.stringValue ?? error.stringValue ?? error.text)
        }
        if (200..<300).contains(status) { return .object(["ok": .bool(true), "result": reply]) }
        return failure("http_\(status)", reply.text)
    }

    static func failure(_ code: String, _ message: String) -> JSONValue {
        .object(["ok": .bool(false), "error": .object(["code": .string(code), "message": .string(message)])])
    }

    func agentNames() async -> [String] {
        let request = HTTPClientRequest(url: base + "/api/v1/agents")
        guard let answer = try? await send(request, timeout: .seconds(2)), let reply = JSONValue.parse(answer.body) else { return [] }
        let list = reply["agents"] ?? reply["result"]?["agents"] ?? reply
        guard case .array(let agents) = list else { return [] }
        return agents.compactMap { $0["name"]?.stringValue }
    }

    private func send(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> (status: UInt, body: Data) {
        var request = request
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        return (response.status.code, Data(body.readableBytesView))
    }

    func close() async {}
}

// MARK: - The loop

/// Reads lines (a script, a terminal or a pipe), runs them and prints the replies.
struct ShellSession: Sendable {
    /// How a session ended.
    struct Outcome: Sendable {
        var commands = 0
        var failed = 0
        /// Ended by SIGINT/SIGTERM.
        var interrupted = false
    }

    static let prompt = "marksync> "

    let backend: any ShellBackend
    /// Print raw reply JSON instead of tables.
    let json: Bool

    /// Runs every command of a script (already checked for syntax), printing each with its reply.
    func runScript(_ text: String) async -> Outcome {
        var outcome = Outcome()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard !Task.isCancelled else {
                outcome.interrupted = true
                break
            }
            let command = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !command.isEmpty, !command.hasPrefix("#") else { continue }
            if !json { Console.out(Self.prompt + command) }
            await run(command, into: &outcome, caret: false)
        }
        return outcome
    }

    /// Reads lines until the end of input, `exit`/`quit`/`q`, or a signal. On a terminal the lines are
    /// edited with history and completion and failures do not count; from a pipe each command is printed
    /// with its reply and failures do count.
    func runLines(from reader: LineReader) async -> Outcome {
        var outcome = Outcome()
        let interactive = reader.interactive
        if interactive, !json { printError("marksync-log shell: \(backend.banner). HELP lists the commands; exit or Ctrl-D leaves.") }
        // Agent names for completion, asked again only after commands that may change them (a control API
        // records every request in its LOG).
        var agentNames: [String]?
        while true {
            if interactive, agentNames == nil { agentNames = await backend.agentNames() }
            let completions = interactive ? Self.completions(agentNames: agentNames ?? []) : LineEditor.Completions()
            guard let line = await reader.readLine(prompt: Self.prompt, completions: completions) else {
                outcome.interrupted = Task.isCancelled
                break
            }
            let command = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !command.isEmpty, !command.hasPrefix("#") else { continue }
            if ["exit", "quit", "q"].contains(command.lowercased()) { break }
            if !interactive, !json { Console.out(Self.prompt + command) }
            let verb = command.split(separator: " ").first.map { $0.uppercased() } ?? ""
            if ["AGENT", "KILL", "LOAD", "CONNECT"].contains(verb) { agentNames = nil }
            await run(command, into: &outcome, caret: interactive)
            if Task.isCancelled {
                outcome.interrupted = true
                break
            }
        }
        if interactive { outcome.failed = 0 }
        return outcome
    }

    private func run(_ command: String, into outcome: inout Outcome, caret: Bool) async {
        let reply = await backend.execute(command)
        outcome.commands += 1
        if reply["ok"]?.boolValue != true { outcome.failed += 1 }
        if json {
            Console.out(reply.text)
            return
        }
        if caret, let column = ShellRendering.syntaxColumn(reply) {
            Console.out(String(repeating: " ", count: Self.prompt.count + column - 1) + "^")
        }
        for line in ShellRendering.lines(reply) { Console.out(line) }
    }

    /// Tab completion: commands first, then roles, agent names, options, LIST/SYNC words and settings.
    static func completions(agentNames: [String]) -> LineEditor.Completions {
        var rest = ["editor", "reviewer", "deployer", "monitor"]
        rest += agentNames
        rest += ["--model", "--auto-edit", "--watch", "--role", "--tail", "--force"]
        rest += ["agents", "pipelines", "routes", "config", "push", "pull", "status", "->"]
        rest += DSLExecutor.settingKeys
        return .init(first: DSLCommand.Verb.allCases.map(\.rawValue) + ["exit", "quit"], rest: rest)
    }
}

// MARK: - Printing replies

/// Replies as text for people: `OK` or `FAIL code: message`, then the result by its shape.
enum ShellRendering {
    /// The lines printed for a reply.
    static func lines(_ reply: JSONValue) -> [String] {
        var out = [String]()
        if reply["ok"]?.boolValue == true {
            out.append("OK")
        } else {
            let error = reply["error"]
            out.append("FAIL \(error?["code"]?.stringValue ?? "failed"): \(error?["message"]?.stringValue ?? error?.stringValue ?? "")")
        }
        if let result = reply["result"] { out += self.result(result) }
        return out
    }

    /// The column of a syntax error (`column N: …`), for a caret under the line typed.
    static func syntaxColumn(_ reply: JSONValue) -> Int? {
        guard reply["error"]?["code"]?.stringValue == "syntax", let message = reply["error"]?["message"]?.stringValue,
            message.hasPrefix("column "), let colon = message.firstIndex(of: ":")
        else { return nil }
        return Int(message[message.index(message.startIndex, offsetBy: 7)..<colon]).flatMap { $0 > 0 ? $0 : nil }
    }

    /// A result by its shape: help, the status summary, agents, pipelines, routes, config; else JSON.
    static func result(_ result: JSONValue) -> [String] {
        guard case .object(let object) = result else { return result == .null ? [] : indentedJSON(result) }
        if case .object(let help)? = object["help"], object.count == 1 { return helpTable(help) }
        if object["running"] != nil, case .array(let agents)? = object["agents"] { return status(object, agents: agents) }
        if object.count == 1 {
            switch (object.keys.first, object.values.first) {
            case ("agents", .array(let agents)?): return agentTable(agents)
            case ("pipelines", .array(let pipelines)?): return pipelineLines(pipelines)
            case ("routes", .array(let routes)?): return routeLines(routes)
            case ("config", .object(let config)?): return configLines(config)
            default: break
            }
        }
        return indentedJSON(result)
    }

    /// HELP: usage and meaning side by side, in the order of the commands.
    static func helpTable(_ help: [String: JSONValue]) -> [String] {
        let rows = ordered(help.keys, by: DSLCommand.Verb.allCases.map(\.rawValue)).map { [help[$0]?["usage"]?.stringValue ?? $0, help[$0]?["text"]?.stringValue ?? ""] }
        return table(rows, header: nil)
    }

    /// Agents: name, role, state, cursor, lag, model (from `LIST` entries or `STATUS` statuses).
    static func agentTable(_ agents: [JSONValue]) -> [String] {
        guard !agents.isEmpty else { return ["  (no agents)"] }
        func field(_ agent: JSONValue, _ key: String) -> String {
            guard let value = agent[key] ?? agent["status"]?[key] else { return "-" }
            switch value {
            case .string(let text): return text
            case .null: return "-"
            default: return value.text
            }
        }
        let columns = ["name", "role", "state", "cursor", "lag", "model"]
        return table(agents.map { agent in columns.map { field(agent, $0) } }, header: columns.map { $0.uppercased() })
    }

    static func pipelineLines(_ pipelines: [JSONValue]) -> [String] {
        guard !pipelines.isEmpty else { return ["  (no pipelines)"] }
        return pipelines.map { pipeline in
            let stages: [String]
            if case .array(let list)? = pipeline["stages"] { stages = list.compactMap(\.stringValue) } else { stages = [] }
            return "  \(pipeline["name"]?.stringValue ?? "?"): \(stages.joined(separator: " → "))"
        }
    }

    static func routeLines(_ routes: [JSONValue]) -> [String] {
        guard !routes.isEmpty else { return ["  (no routes)"] }
        return routes.map { "  \($0["pattern"]?.stringValue ?? "?") → \($0["agent"]?.stringValue ?? "?")" }
    }

    /// Settings as `key = value`, in the order of ``DSLExecutor/settingKeys`` (others after, sorted).
    static func configLines(_ config: [String: JSONValue]) -> [String] {
        guard !config.isEmpty else { return ["  (no settings)"] }
        return ordered(config.keys, by: DSLExecutor.settingKeys).map { key in "  \(key) = \(config[key]?.stringValue ?? config[key]?.text ?? "")" }
    }

    /// STATUS: counts, the running agents, the agent table and the settings.
    static func status(_ object: [String: JSONValue], agents: [JSONValue]) -> [String] {
        var running = [String]()
        if case .array(let names)? = object["running"] { running = names.compactMap(\.stringValue) }
        func count(_ key: String) -> String { object[key]?.intValue.map(String.init) ?? "0" }
        var out = [
            "  agents: \(agents.count), running: \(running.isEmpty ? "none" : running.joined(separator: ", "))",
            "  pipelines: \(count("pipelines")), routes: \(count("routes"))",
        ]
        if !agents.isEmpty { out += agentTable(agents) }
        if case .object(let config)? = object["config"], !config.isEmpty {
            out.append("  settings:")
            out += configLines(config).map { "  " + $0 }
        }
        return out
    }

    /// Keys in the order of `order`, the others after them, sorted.
    static func ordered(_ keys: some Sequence<String>, by order: [String]) -> [String] {
        keys.sorted { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
    }

    /// Rows as columns padded to their widest cell, indented by two spaces.
    static func table(_ rows: [[String]], header: [String]?) -> [String] {
        let all = (header.map { [$0] } ?? []) + rows
        guard let count = all.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: count)
        for row in all { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return all.map { row in
            var line = "  "
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : padded(cell, widths[index]) + "  "
            }
            return line
        }
    }

    /// Pretty JSON with sorted keys, indented by two spaces.
    static func indentedJSON(_ value: JSONValue) -> [String] {
        let text = (try? jsonText(value)) ?? value.text
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
    }
}
