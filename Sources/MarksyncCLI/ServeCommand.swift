import ArgumentParser
import Foundation
import Logging
import MarksyncCore
import MarksyncServer
import MarksyncStore

/// `marksync-log serve [README.md …]`: the sync server, the HTTP API and the README projections.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the sync WebSocket and the HTTP API, keeping README.md files as projections of the log.",
        discussion: """
            Each README becomes a document (named after its folder, or --doc for a single file): imported when the \
            log is new, rewritten atomically after every change, and watched for edits made on disk (they become \
            events by author `file`). Clients connect to ws://HOST:PORT/ (the Python marksync clients work as they \
            are). Stops cleanly on SIGINT/SIGTERM. Tokens: --tokens or MARKSYNC_TOKENS, `token:scope,…` with \
            scopes read, write, admin.
            """
    )

    @Argument(help: "Markpact README files to serve (default: $PROJECT_README or README.md).")
    var readmes: [String] = []

    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default: $MARKSYNC_PORT or 8765; 0 picks a free one).") var port: Int?
    @Option(
        help: ArgumentHelp(
            "The log: a SQLite file or postgres://user@host:port/db (default: $MARKSYNC_DB, else .marksync/log.db next to the first README).",
            valueName: "path-or-url"))
    var db: String?
    @Option(help: "Document name, when serving one README.") var doc: String?
    @Option(help: "Tokens as token:scope,… (default: $MARKSYNC_TOKENS).") var tokens: String?
    @Option(help: "Messages per second per connection.") var rateLimit: Double?
    @Flag(help: "Allow binding a non-loopback address without tokens (anyone on the network can write).")
    var allowUnauthenticated = false
    @OptionGroup var connectionOptions: ConnectionOptions

    func run() async throws {
        let settings = Settings()
        var configuration = ServerConfiguration()
        configuration.host = host ?? "127.0.0.1"
        configuration.port = port ?? settings.int("MARKSYNC_PORT", default: 8765)
        if let text = tokens ?? settings.value("MARKSYNC_TOKENS") { configuration.tokens = try TokenSet(parsing: text) }
        if let rateLimit {
            configuration.rateLimit = rateLimit
            configuration.rateBurst = max(rateLimit * 2, 10)
        }
        configuration.connections = try connectionOptions.limits()
        let perAddress = configuration.connections.maxConnectionsPerAddress
        printError(
            "connections: at most \(configuration.connections.effectiveMaxConnections), \(perAddress > 0 ? "\(perAddress) per address" : "no per-address limit")")
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(configuration.host)
        if configuration.tokens.isEmpty {
            guard loopback || allowUnauthenticated else {
                throw CLIError.usage(
                    "serving \(configuration.host) without tokens would let anyone on the network write; "
                        + "set --tokens/MARKSYNC_TOKENS or pass --allow-unauthenticated")
            }
            printError(loopback ? "no tokens configured: serving on \(configuration.host) only" : "warning: serving \(configuration.host) WITHOUT tokens")
        }
        let files = readmes.isEmpty ? [settings.value("PROJECT_README") ?? "README.md"] : readmes
        var options = LogOptions()
        options.db = db
        let log = try await options.open(nextTo: files.first)
        let path = log.path
        var logger = Logger(label: "marksync-log")
        logger.logLevel = Logger.Level(rawValue: (settings.value("LOG_LEVEL") ?? "info").lowercased()) ?? .info
        let server = SyncServer(log: log, configuration: configuration, logger: logger)
        for file in files {
            let name = files.count == 1 ? (doc ?? IngestCommand.defaultDocumentName(for: file)) : IngestCommand.defaultDocumentName(for: file)
            try await server.addDocument(name, readme: file)
            let seq = try await log.headSeq(name)
            printError("serving \(name) (\(file), head seq \(seq)) from \(path)")
        }
        let host = configuration.host
        try await server.run { port in
            printError("marksync-log \(MarksyncVersion.tool) listening on ws://\(host):\(port)/ and http://\(host):\(port)/api/v1/docs")
            // A line on standard output for scripts that start the server on port 0.
            Console.write("listening \(port)\n")
        }
    }
}
