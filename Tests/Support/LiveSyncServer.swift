import Foundation
import Logging
import MarksyncServer
import MarksyncStore

/// A real SyncServer in-process on 127.0.0.1 with an OS-chosen port, over a log in a temporary folder.
public struct LiveSyncServer: Sendable {
    public let server: SyncServer
    public let log: EventLog
    public let task: Task<Void, any Error>
    public let port: Int
    public let folder: URL
    public let document: String
    public var url: String { "ws://127.0.0.1:\(port)" }
    public var httpBase: String { "http://127.0.0.1:\(port)" }
    public var logPath: String { folder.appendingPathComponent("log.db").path }

    /// Starts a server whose document `document` is `markdown` (imported when the log at `folder` is new).
    public static func start(
        markdown: String, document: String = "demo", folder given: URL? = nil, tokens: String? = nil,
        configure: @Sendable (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> LiveSyncServer {
        let folder = try given ?? temporaryFolder("marksync-live")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let log = try await EventLog.open(path: folder.appendingPathComponent("log.db").path)
        if !(try await log.hasDocument(document)) {
            _ = try await log.ingest(document: document, markdown: markdown, author: "test")
        }
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        if let tokens { configuration.tokens = try TokenSet(parsing: tokens) }
        configure(&configuration)
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        let server = SyncServer(log: log, configuration: configuration, logger: logger)
        try await server.addDocument(document)
        let (ports, portFeed) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run(onReady: { port in portFeed.yield(port) }) }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        return LiveSyncServer(server: server, log: log, task: task, port: port, folder: folder, document: document)
    }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
