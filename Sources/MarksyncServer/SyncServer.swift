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
    /// Who may connect (Host, Origin, tokens), from the configuration.
    let access: AccessPolicy
    let metrics = ServerMetrics()
    /// Open WebSockets and event streams, closed at graceful shutdown.
    let openConnections = ConnectionRegistry()
    /// SSE clients per document (Connections/EventStreamSlots.swift).
    let eventStreams = EventStreamSlots()
    let logger: Logger
    private let hubs = Mutex<[String: DocumentHub]>([:])
    private let projections = Mutex<[String: ReadmeProjection]>([:])
    /// How README projections are written and timed (tests inject a failing writer or a clock).
    public let projectionHooks = Mutex(ProjectionHooks())
    private let order = Mutex<[String]>([])

    public init(log: EventLog, configuration: ServerConfiguration, logger: Logger = Logger(label: "marksync-log")) {
        self.log = log
        self.configuration = configuration
        self.access = AccessPolicy(
            tokens: configuration.tokens, allowedOrigins: configuration.allowedOrigins, allowedHosts: configuration.allowedHosts)
        self.logger = logger
    }

    /// The documents served, in the order they were added (the first is the default).
    public var documents: [String] { order.withLock { $0 } }

    /// Serves a document; with a README path, the server takes the README (its lock: one projector per
    /// path), imports it when the document is new, merges edits made to it (on disk while the server was
    /// down, or while it runs) onto the head as events by author `file`, and rewrites it from the log after
    /// every change (docs/operations.md). Throws ``OwnershipError`` when another server projects the README.
    public func addDocument(_ name: String, readme: String? = nil) async throws {
        if let readme {
            try await openProjection(name, readme: readme)
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

    func registerProjection(_ projection: ReadmeProjection) { projections.withLock { $0[projection.document] = projection } }
    func projectionList() -> [ReadmeProjection] { projections.withLock { Array($0.values) } }

    /// Lets go of the README locks (when the server stops).
    func releaseProjections() { for projection in projectionList() { projection.lock.release() } }

    // MARK: - Running

    /// Builds the Hummingbird application (tests run it with `.live`).
    public func application(onReady: (@Sendable (Int) -> Void)? = nil) -> some ApplicationProtocol {
        let router = Router(context: MarksyncRequestContext.self)
        router.add(middleware: AccessMiddleware(policy: access, logger: logger))
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
            server: .guardedHTTP1WebSocketUpgrade(gate: gate, limits: configuration.connections, ws: wsConfiguration) { request, channel, logger in
                let path = request.path ?? "/"
                let components = URLComponents(string: path)
                let route = components?.path ?? "/"
                let query = components?.queryItems ?? []
                // Host, Origin and token, as for every request: a refusal is answered with its status and reason
                // (403 bad_origin / bad_host, 401 unknown token) and logged.
                let identity: Identity?
                do throws(AccessRefusal) {
                    identity = try server.access.admit(request, queryToken: query.first { $0.name == "token" }?.value)
                } catch {
                    error.refuseUpgrade(on: channel, path: request.path, logger: server.logger)
                    return .dontUpgrade
                }
                if route.hasPrefix("/yjs/") {
                    // The read-only y-websocket endpoint of the Yjs projection (YjsConnection).
                    guard let document = String(route.dropFirst("/yjs/".count)).removingPercentEncoding,
                        server.documents.contains(document)
                    else { return .dontUpgrade }
                    return .upgrade([:]) { inbound, outbound, _ in
                        await YjsConnection.run(
                            server: server, document: document, allowed: identity != nil, inbound: inbound, outbound: outbound, logger: logger)
                    }
                }
                guard route == "/" || route == "/sync" || route.hasPrefix("/sync/") else { return .dontUpgrade }
                var document = query.first { $0.name == "doc" }?.value
                if route.hasPrefix("/sync/") { document = String(route.dropFirst("/sync/".count)).removingPercentEncoding }
                let name = query.first { $0.name == "name" }?.value ?? "client"
                guard let document = document ?? server.documents.first else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in
                    let connection = SyncConnection(
                        server: server, document: document, name: name, identity: identity, outbound: outbound, logger: logger)
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

    /// Fans out what the log has beyond each hub (events committed while nothing listened); the hubs skip
    /// what they already have.
    func fanOutMissed() async {
        for name in documents {
            guard let hub = await hub(for: name) else { continue }
            var after = await hub.seq
            while let page = try? await log.events(name, after: after, limit: 256), let last = page.last {
                await fanOut(page)
                after = last.seq
            }
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
        // Events committed before that subscription (the HTTP server may take a write first: the services
        // start together) are fanned out from the log, so no write waits for a later one to be projected.
        await server.fanOutMissed()
        let logger = server.logger
        await server.log.setYjsWarmUpErrorHandler { document, error in
            logger.warning("Yjs checkpoints of \(document) not written ahead (exports replay what is missing): \(error)")
        }
        // Stopped when a previous run of this server shut down.
        await server.log.resumeYjsWarmUp()
        await withGracefulShutdownHandler {
            await run(stream: stream, logger: logger)
        } onGracefulShutdown: { [server] in
            // WebSockets get a close frame (1001 going away) and event streams end, so the HTTP server is not
            // left waiting for clients that would never leave (an idle socket, the web UI's SSE stream).
            Task { await server.openConnections.closeAll() }
        }
        await server.flushProjections()
        server.releaseProjections()
        // A warm-up started by a late commit must not outlive the server (it stops at its next page).
        await server.log.stopYjsWarmUp()
    }

    private func run(stream: AsyncStream<[Event]>, logger: Logger) async {
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
    }
}
