import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import MarksyncCore
import MarksyncStore
import NIOCore
import ServiceLifecycle
import Synchronization

/// The marksync-log server: the sync WebSocket (at `/` and `/sync`), the HTTP API on the same port, and
/// README.md files kept as projections of the log.
///
/// ```swift
/// let log = try await EventLog.open(path: ".marksync/log.db")
/// let server = SyncServer(log: log, configuration: ServerConfiguration())
/// try await server.addDocument("demo", readme: "README.md")
/// try await server.run()
/// ```
public final class SyncServer: Sendable {
    public let log: EventLog
    public let configuration: ServerConfiguration
    let metrics = ServerMetrics()
    /// SSE clients per document (Connections/EventStreamSlots.swift).
    let eventStreams = EventStreamSlots()
    let logger: Logger
    private let hubs = Mutex<[String: DocumentHub]>([:])
    private let projections = Mutex<[String: ReadmeProjection]>([:])
    private let order = Mutex<[String]>([])

    public init(log: EventLog, configuration: ServerConfiguration, logger: Logger = Logger(label: "marksync-log")) {
        self.log = log
        self.configuration = configuration
        self.logger = logger
    }

    /// The documents served, in the order they were added (the first is the default).
    public var documents: [String] { order.withLock { $0 } }

    /// Serves a document; with a README path, the file is imported when the document is new, edits made
    /// to it later become events by author `file`, and it is rewritten from the log after every change.
    public func addDocument(_ name: String, readme: String? = nil) async throws {
        if let readme {
            if FileManager.default.fileExists(atPath: readme) {
                let text = try String(contentsOfFile: readme, encoding: .utf8)
                if !(try await log.hasDocument(name)) {
                    _ = try await log.ingest(document: name, markdown: text, author: "file")
                } else if try await log.head(name).render() != text, !(try await isEarlierProjection(name, text)) {
                    // Edited while the server was down: the file's edits become events.
                    _ = try await log.ingest(document: name, markdown: text, author: "file")
                }
            } else if !(try await log.hasDocument(name)) {
                try await log.createDocument(name)
            }
            let projection = ReadmeProjection(path: readme, document: name)
            projections.withLock { $0[name] = projection }
            try await projection.write(try await log.head(name).render())
        } else if !(try await log.hasDocument(name)) {
            try await log.createDocument(name)
        }
        let hub = DocumentHub(document: name, head: try await log.head(name))
        hubs.withLock { $0[name] = hub }
        order.withLock { if !$0.contains(name) { $0.append(name) } }
    }

    func hub(for document: String) async -> DocumentHub? { hubs.withLock { $0[document] } }

    /// The README file a document is kept in, when it has one.
    public func readmePath(of document: String) -> String? { projections.withLock { $0[document] }?.path }

    /// True when the text is the document as it was at one of its last `window` seqs: README.md as the
    /// server last wrote it before it stopped (a kill can come between an ack and the projection's write).
    /// Such a file is rewritten from the log, not taken for an edit: that would revert acked writes.
    private func isEarlierProjection(_ document: String, _ text: String, window: Int = 4096) async throws -> Bool {
        let head = try await log.headSeq(document)
        var state = try await log.state(document, at: max(0, head - window))
        if state.render() == text { return true }
        var after = state.seq
        while after < head {
            let page = try await log.events(document, after: after, limit: 512)
            if page.isEmpty { break }
            for event in page {
                try state.apply(event.body, seq: event.seq)
                after = event.seq
                if event.seq < head, event.body.changesDocument, state.render() == text { return true }
            }
        }
        return false
    }

    // MARK: - Running

    /// Builds the Hummingbird application (tests run it with `.live`).
    public func application(onReady: (@Sendable (Int) -> Void)? = nil) -> some ApplicationProtocol {
        let router = Router()
        HTTPAPI(server: self).register(on: router)
        WebUI.register(on: router, server: self)
        var wsConfiguration = WebSocketServerConfiguration(maxFrameSize: max(configuration.maxMessageBytes * 4, 1 << 16))
        wsConfiguration.autoPing = .enabled(timePeriod: configuration.connections.pingInterval)
        let server = self
        // Connection limits and timeouts (Connections/GuardedChannel.swift).
        let gate = ConnectionGate(limits: configuration.connections, counters: metrics.connectionLimits, logger: logger)
        metrics.connectionLimits.follow { gate.held }
        return Application(
            router: router,
            server: .guardedHTTP1WebSocketUpgrade(gate: gate, limits: configuration.connections, ws: wsConfiguration) { request, _, logger in
                let path = request.path ?? "/"
                let components = URLComponents(string: path)
                let route = components?.path ?? "/"
                if route.hasPrefix("/yjs/") {
                    // The read-only y-websocket endpoint of the Yjs projection (YjsConnection).
                    let query = components?.queryItems ?? []
                    let token = HTTPAPI.bearer(request.headerFields[.authorization]) ?? query.first { $0.name == "token" }?.value
                    let allowed = server.configuration.tokens.isEmpty || server.configuration.tokens.scope(of: token) != nil
                    guard let document = String(route.dropFirst("/yjs/".count)).removingPercentEncoding,
                        server.documents.contains(document)
                    else { return .dontUpgrade }
                    return .upgrade([:]) { inbound, outbound, _ in
                        await YjsConnection.run(
                            server: server, document: document, allowed: allowed, inbound: inbound, outbound: outbound, logger: logger)
                    }
                }
                guard route == "/" || route == "/sync" || route.hasPrefix("/sync/") else { return .dontUpgrade }
                let query = components?.queryItems ?? []
                var document = query.first { $0.name == "doc" }?.value
                if route.hasPrefix("/sync/") { document = String(route.dropFirst("/sync/".count)).removingPercentEncoding }
                let token = HTTPAPI.bearer(request.headerFields[.authorization]) ?? query.first { $0.name == "token" }?.value
                let scope = server.configuration.tokens.isEmpty ? TokenScope.admin : server.configuration.tokens.scope(of: token)
                let name = query.first { $0.name == "name" }?.value ?? "client"
                guard let document = document ?? server.documents.first else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in
                    let connection = SyncConnection(
                        server: server, document: document, name: name, scope: scope, outbound: outbound, logger: logger)
                    await connection.run(inbound: inbound)
                }
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "marksync-log"),
            services: [BackgroundService(server: self)],
            onServerRunning: { channel in onReady?(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Runs until SIGINT or SIGTERM; then finishes in-flight work and flushes the README projections.
    public func run(onReady: (@Sendable (Int) -> Void)? = nil) async throws {
        try await application(onReady: onReady).runService()
    }

    /// Fans committed events out to the hubs and schedules README writes.
    func fanOut(_ events: [Event]) async {
        var byDocument = [String: [Event]]()
        for event in events { byDocument[event.document, default: []].append(event) }
        for (document, batch) in byDocument {
            guard let hub = await hub(for: document) else { continue }
            if let first = batch.first, first.seq > (await hub.seq) + 1, let head = try? await log.state(document, at: first.seq - 1) {
                await hub.resynchronise(head)
            }
            await hub.deliver(batch)
            projections.withLock { $0[document] }?.markDirty()
        }
    }

    /// Writes dirty projections and picks up edits made to the files.
    func maintainProjections() async {
        for (document, projection) in projections.withLock({ $0 }) {
            do {
                if let edited = projection.externalEdit() {
                    logger.info("\(projection.path) was edited on disk: ingesting it as events by author file")
                    _ = try await log.ingest(document: document, markdown: edited, author: "file")
                    projection.markDirty()
                }
                if projection.takeDirty() {
                    try await projection.write(try await log.head(document).render())
                }
            } catch {
                logger.error("projection of \(document) to \(projection.path): \(error)")
            }
        }
    }

    /// Writes every projection now (at shutdown).
    func flushProjections() async {
        for (document, projection) in projections.withLock({ $0 }) {
            try? await projection.write(try await log.head(document).render())
        }
    }

    /// Figures for /health and /metrics.
    func documentFigures() async -> [(name: String, seq: Int, lag: Int, blocks: Int)] {
        var out = [(name: String, seq: Int, lag: Int, blocks: Int)]()
        for name in documents {
            guard let head = try? await log.head(name) else { continue }
            let hubSeq = await hub(for: name)?.seq ?? head.seq
            out.append((name, head.seq, head.seq - hubSeq, head.blocks.count))
        }
        return out
    }
}

/// The server's background work, run by the application's service group.
struct BackgroundService: Service {
    let server: SyncServer

    func run() async throws {
        let stream = await server.log.committedEvents()
        let logger = server.logger
        await server.log.setYjsWarmUpErrorHandler { document, error in
            logger.warning("Yjs checkpoints of \(document) not written ahead (exports replay what is missing): \(error)")
        }
        // Stopped when a previous run of this server shut down.
        await server.log.resumeYjsWarmUp()
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await events in stream.cancelOnGracefulShutdown() { await server.fanOut(events) }
            }
            group.addTask {
                // Yjs checkpoints missing for the log's (a log from an older binary, an import, a rebuild): written
                // in the background, so the first Yjs export of a document replays only the events since the
                // nearest checkpoint. Commits keep them up to date from here on.
                let log = server.log
                await withGracefulShutdownHandler {
                    await withTaskCancellationHandler {
                        let status = await log.warmYjsCheckpoints()
                        if status.checkpointsWritten > 0 {
                            logger.info("Yjs checkpoints written ahead: \(status.checkpointsWritten) (\(status.eventsReplayed) events replayed)")
                        }
                    } onCancel: {
                        Task { await log.stopYjsWarmUp() }
                    }
                } onGracefulShutdown: {
                    Task { await log.stopYjsWarmUp() }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    await server.maintainProjections()
                    try? await Task.sleep(for: .milliseconds(min(server.configuration.filePollMilliseconds, server.configuration.projectionDelayMilliseconds * 4)))
                }
            }
        }
        await server.flushProjections()
        // A warm-up started by a late commit must not outlive the server (it stops at its next page).
        await server.log.stopYjsWarmUp()
    }
}

/// README.md on disk as a projection of a document: written atomically, never truncated, and watched
/// for edits made by people while the server runs.
final class ReadmeProjection: Sendable {
    let path: String
    let document: String
    private struct State {
        var lastWritten: String?
        var lastModified: Date?
        var lastSize: Int?
        var dirty = false
    }
    private let state = Mutex(State())

    init(path: String, document: String) {
        self.path = path
        self.document = document
    }

    func markDirty() { state.withLock { $0.dirty = true } }
    func takeDirty() -> Bool { state.withLock { state in defer { state.dirty = false }; return state.dirty } }

    /// Writes the text (temp file, fsync, rename) unless the file already holds it.
    func write(_ text: String) async throws {
        if state.withLock({ $0.lastWritten }) == text { return }
        try AtomicFile.write(path, text)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        state.withLock { state in
            state.lastWritten = text
            state.lastModified = attributes?[.modificationDate] as? Date
            state.lastSize = (attributes?[.size] as? NSNumber)?.intValue
        }
    }

    /// The file's content when someone changed it since the last write (nil otherwise).
    func externalEdit() -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let modified = attributes[.modificationDate] as? Date
        let size = (attributes[.size] as? NSNumber)?.intValue
        let unchanged = state.withLock { $0.lastModified == modified && $0.lastSize == size }
        if unchanged { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return nil }
        return state.withLock { state in
            state.lastModified = modified
            state.lastSize = size
            if text == state.lastWritten { return nil }
            // An empty file is never taken as "delete everything" (a truncated write by an editor).
            if text.isEmpty { return nil }
            state.lastWritten = text
            return text
        }
    }
}

/// Atomic file writes: temporary file in the same folder, fsync, rename, fsync of the folder.
public enum AtomicFile {
    public static func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(RandomID.make()).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ServerError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 {
                close(fd)
                unlink(temporary)
                throw ServerError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ServerError(.io, "cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        let directory = open(folder.path, O_RDONLY)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
