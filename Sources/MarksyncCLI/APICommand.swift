import ArgumentParser
import Foundation
import Logging
import MarksyncAgents
import MarksyncControl
import MarksyncCore
import MarksyncDSL
import MarksyncLLM
import MarksyncServer
import ServiceLifecycle
import UnixSignals

/// `marksync-log api [--host 127.0.0.1] [--port 8080] [--tokens T]`: the control API on its own, over a fresh
/// runtime (no agents yet; `AGENT …` through the API starts them).
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serve the control API: DSL commands over HTTP and the /ws/dsl WebSocket, agents, pipelines, routes, status.",
        discussion: """
            Starts an empty agents runtime and serves POST /api/v1/execute {command}, POST /api/v1/script {script}, \
            GET /api/v1/agents, /pipelines, /routes, /config, /status, the WebSocket /ws/dsl, GET /openapi.json and \
            the HTML reference at GET /docs. The agent options (--server, --ollama-url, --model, --deploy, …) are the \
            runtime's initial settings (SET changes them). Tokens: --tokens or MARKSYNC_TOKENS, `token:scope,…`: \
            reading needs read, commands write, and commands touching the host's files, commands or secrets (LOAD, \
            SAVE, SET token/server_uri/deploy/deploy_command/work_dir/audit_file/readme, CONNECT <uri>, AGENT with \
            --command/--work-dir/--audit-file/--enabled) need admin. Prints `listening <port>` on standard output once bound. Stops \
            cleanly on SIGINT/SIGTERM.

            Examples:
              marksync-log api  # http://127.0.0.1:8080, prints a token
              marksync-log api --port 9090 --tokens "$ADMIN:admin,$READER:read"
              curl -H "Authorization: Bearer $ADMIN" -d '{"command":"STATUS"}' \\
                http://127.0.0.1:8080/api/v1/execute
            """
    )

    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default: $MARKSYNC_API_PORT or 8080; 0 picks a free one).") var port: Int?
    @Option(help: "Tokens as token:scope,… (default: $MARKSYNC_TOKENS).") var tokens: String?
    @Option(help: "A file of tokens (token:scope, one per line; mode 0600), instead of --tokens.") var tokensFile: String?
    @Flag(help: "Allow binding a non-loopback address without configured tokens (the generated token is then sent in clear).")
    var allowUnauthenticated = false
    @OptionGroup var browser: BrowserAccessOptions
    @OptionGroup var runtime: AgentRuntimeOptions

    func run() async throws {
        let settings = Settings()
        let host = host ?? "127.0.0.1"
        let port = port ?? settings.int("MARKSYNC_API_PORT", default: 8080)
        let tokenSet = try Self.tokenSet(tokens ?? settings.value("MARKSYNC_TOKENS"), file: tokensFile ?? settings.value("MARKSYNC_TOKENS_FILE"))
        try Self.checkBind(host: host, tokens: tokenSet, allowUnauthenticated: allowUnauthenticated)
        let defaults: Orchestrator.Defaults
        do { defaults = try runtime.defaults(settings: settings) } catch let error as AgentError { throw CLIError.usage(error.message) }
        // The same runtime as `shell`: agents started by AGENT get what the flags, the environment and .env said.
        let backend = try await LocalShellBackend.start(defaults: defaults)
        let orchestrator = backend.orchestrator
        let executor = backend.executor
        printError("control API runtime: agents connect to \(defaults.server.url), LLM \(defaults.llm.provider) \(defaults.llm.model)")
        do {
            try await Self.serveControlAPI(
                executor: executor, host: host, port: port, tokens: tokenSet, allowUnauthenticated: allowUnauthenticated,
                allowedOrigins: browser.allowOrigin, allowedHosts: browser.allowHost)
        } catch {
            await orchestrator.stop()
            throw error
        }
        await orchestrator.stop()
    }

    static func isLoopback(_ host: String) -> Bool { ["127.0.0.1", "localhost", "::1"].contains(host) }

    /// A usage error for a non-loopback host without tokens (unless allowed), like `serve`.
    static func checkBind(host: String, tokens: TokenSet, allowUnauthenticated: Bool) throws {
        guard tokens.isEmpty, !isLoopback(host), !allowUnauthenticated else { return }
        throw CLIError.usage(
            "serving the control API on \(host) without tokens would let anyone on the network run agents; "
                + "set --tokens/MARKSYNC_TOKENS or pass --allow-unauthenticated")
    }

    /// Parses `token:scope,…` (nil or empty: no tokens) as a usage error when it is wrong.
    static func tokenSet(_ text: String?, file: String? = nil) throws -> TokenSet {
        if let file, !file.isEmpty {
            guard text == nil || text?.isEmpty == true else { throw CLIError.usage("give tokens with --tokens or --tokens-file, not both") }
            do { return try TokenSet(contentsOfFile: file) } catch { throw CLIError.usage(error.message) }
        }
        guard let text, !text.isEmpty else { return TokenSet() }
        do { return try TokenSet(parsing: text) } catch { throw CLIError.usage(error.message) }
    }

    /// Serves the control API for `executor` on `host:port` until SIGINT or SIGTERM, printing
    /// `listening <port>` on standard output once bound. Refuses a non-loopback host without tokens unless
    /// `allowUnauthenticated` (a usage error). For `orchestrate`, next to its agents.
    static func serveControlAPI(
        executor: DSLExecutor, host: String, port: Int, tokens: TokenSet, allowUnauthenticated: Bool = false,
        allowedOrigins: [String] = [], allowedHosts: [String] = []
    ) async throws {
        let service = try controlAPIService(
            executor: executor, host: host, port: port, tokens: tokens, allowUnauthenticated: allowUnauthenticated,
            allowedOrigins: allowedOrigins, allowedHosts: allowedHosts)
        var logger = Logger(label: "marksync-log-control")
        logger.logLevel = .warning
        try await StopOnSignal.run([service], logger: logger)
    }

    /// The same as a service, to run in a `ServiceGroup` next to others (one signal handler for all):
    /// `ServiceGroup(configuration: .init(services: [.init(service: agents), .init(service: api)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))`.
    static func controlAPIService(
        executor: DSLExecutor, host: String, port: Int, tokens: TokenSet, allowUnauthenticated: Bool = false,
        allowedOrigins: [String] = [], allowedHosts: [String] = []
    ) throws -> some Service {
        try checkBind(host: host, tokens: tokens, allowUnauthenticated: allowUnauthenticated)
        // The control API runs commands on this host: it always needs a token. Without one configured, a random
        // one is made now, printed in the URL and kept in a file only this user can read (shell --api reads it).
        let generated: String? = tokens.isEmpty ? TokenSet.generate() : nil
        let tokens = generated.map { TokenSet([$0: .admin]) } ?? tokens
        var logger = Logger(label: "marksync-log-control")
        logger.logLevel = Logger.Level(rawValue: (Settings().value("LOG_LEVEL") ?? "info").lowercased()) ?? .info
        let api = ControlAPI(executor: executor, tokens: tokens, allowedOrigins: allowedOrigins, allowedHosts: allowedHosts)
        let server = ControlServer(api: api, host: host, port: port, logger: logger)
        return server.application { bound in
            printError("marksync-log \(MarksyncVersion.tool) control API on http://\(host):\(bound)/api/v1 (reference: /docs, /openapi.json; WebSocket /ws/dsl)")
            if let generated {
                do {
                    try ControlTokenFile.write(generated, port: bound)
                    printError("no tokens configured: a token was made for this run, kept in \(ControlTokenFile.path(port: bound)) (mode 0600)")
                } catch {
                    printError("warning: \(error)")
                }
                printError("  http://\(host):\(bound)/docs?token=\(generated)")
            }
            // A line on standard output for scripts that start the API on port 0.
            Console.write("listening \(bound)\n")
        }
    }
}
