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
            scopes read, write, admin (or --tokens-file). Browser pages of other sites are refused (Origin), and so \
            are Host names other than localhost and IP addresses (DNS rebinding): see docs/security.md.

            A README that does not exist is refused (a typo would otherwise start an empty project), unless --init \
            creates it, or the log already holds its document (the file is then written from the log).

            Examples:
              marksync-log serve examples/task-manager-api/README.md
              marksync-log serve new/README.md --init  # a new, empty project
              marksync-log serve README.md --port 0 --tokens-file ~/.marksync/tokens
              marksync-log serve README.md --allow-origin https://dashboard.example --allow-host hub.internal
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
    @Option(help: "A file of tokens (token:scope, one per line; mode 0600), so tokens do not show in ps (default: $MARKSYNC_TOKENS_FILE).")
    var tokensFile: String?
    @Option(help: "Messages per second per connection.") var rateLimit: Double?
    @Flag(help: "Allow binding a non-loopback address without tokens (anyone on the network can write).")
    var allowUnauthenticated = false
    @OptionGroup var browser: BrowserAccessOptions
    @Flag(help: "Serve a log whose tail fails the start-up check (hash chain from the last checkpoint to the head) anyway.")
    var allowDamaged = false
    @OptionGroup var connectionOptions: ConnectionOptions
    @Flag(name: .customLong("init"), help: "Create the README files that do not exist yet (a title line), instead of refusing them.")
    var initialize = false

    func run() async throws {
        let settings = Settings()
        var configuration = ServerConfiguration()
        configuration.host = host ?? "127.0.0.1"
        configuration.port = port ?? settings.int("MARKSYNC_PORT", default: 8765)
        configuration.tokens = try APICommand.tokenSet(tokens ?? settings.value("MARKSYNC_TOKENS"), file: tokensFile ?? settings.value("MARKSYNC_TOKENS_FILE"))
        configuration.allowedOrigins = browser.allowOrigin
        configuration.allowedHosts = browser.allowHost
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
        let missing = try createOrCheckMissing(files, logPath: options.logPath(nextTo: files.first))
        let log = try await options.open(nextTo: files.first)
        for file in missing {
            let name = files.count == 1 ? (doc ?? IngestCommand.defaultDocumentName(for: file)) : IngestCommand.defaultDocumentName(for: file)
            if !(try await log.hasDocument(name)) {
                await log.close()
                throw Self.missingReadme(file)
            }
        }
        let path = log.path
        // One owner per log: a second `serve` on this SQLite file exits here, naming the first one's pid.
        var logLock: OwnershipLock?
        if !log.isShared {
            do { logLock = try OwnershipLock.acquire(path + ".lock", what: "the log \(path)") } catch {
                await log.close()
                throw CLIError.failure(error.message)
            }
        }
        defer { logLock?.release() }
        try await checkTails(log, allowDamaged: allowDamaged)
        var logger = Logger(label: "marksync-log")
        logger.logLevel = Logger.Level(rawValue: (settings.value("LOG_LEVEL") ?? "info").lowercased()) ?? .info
        let server = SyncServer(log: log, configuration: configuration, logger: logger)
        for file in files {
            let name = files.count == 1 ? (doc ?? IngestCommand.defaultDocumentName(for: file)) : IngestCommand.defaultDocumentName(for: file)
            do { try await server.addDocument(name, readme: file) } catch let error as OwnershipError {
                throw CLIError.failure(error.message)
            }
            let seq = try await log.headSeq(name)
            printError("serving \(name) (\(file), head seq \(seq)) from \(path)")
        }
        let host = configuration.host
        let application = server.application { port in
            printError("marksync-log \(MarksyncVersion.tool) listening on ws://\(host):\(port)/ and http://\(host):\(port)/api/v1/docs")
            // A line on standard output for scripts that start the server on port 0.
            Console.write("listening \(port)\n")
        }
        try await StopOnSignal.run([application], logger: logger)
    }

    /// Creates the missing README files with `--init`; without it, a missing file is accepted only when the
    /// log already exists (it may hold the document, whose README is then written from the log — checked
    /// once the log is open). Returns the files still missing.
    func createOrCheckMissing(_ files: [String], logPath: String) throws -> [String] {
        let manager = FileManager.default
        let missing = files.filter { !manager.fileExists(atPath: $0) }
        if missing.isEmpty { return [] }
        if initialize {
            for file in missing {
                let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
                var isFolder: ObjCBool = false
                guard manager.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                    throw CLIError.usage("cannot create \(file): the folder \(folder) does not exist")
                }
                let title = IngestCommand.defaultDocumentName(for: file)
                do { try AtomicFile.write(file, "# \(title)\n") } catch { throw CLIError.failure("cannot create \(file): \(error)") }
                printError("created \(file) (--init)")
            }
            return []
        }
        let logExists = logPath.hasPrefix("postgres") || manager.fileExists(atPath: logPath)
        guard logExists else { throw Self.missingReadme(missing[0]) }
        return missing
    }

    static func missingReadme(_ file: String) -> CLIError {
        CLIError.usage(
            "\(file) does not exist (a typo?): nothing to serve. Give the path of a Markpact README, or create a new project with "
                + "`marksync-log serve \(file) --init`")
    }

    /// Checks each document's tail (hash chain and replay from its last checkpoint to the head) before
    /// serving: a damaged log is refused, naming the first bad seq, unless `--allow-damaged`.
    func checkTails(_ log: EventLog, allowDamaged: Bool) async throws {
        for document in try await log.documents() {
            guard let problem = try await log.verifyTail(document.name) else { continue }
            let where_ = problem.seq.map { "at seq \($0)" } ?? ""
            if allowDamaged {
                printError("warning: the log is damaged: \(document.name) \(where_): \(problem.message); serving anyway (--allow-damaged)")
                continue
            }
            await log.close()
            throw CLIError(
                message: "the log \(log.path) is damaged: document \(document.name), first bad seq \(problem.seq.map(String.init) ?? "?"): "
                    + "\(problem.message). Run `marksync-log verify`; restore a backup, or pass --allow-damaged to serve it anyway",
                exitCode: 3)
        }
    }
}
