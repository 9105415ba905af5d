import Hummingbird
import HummingbirdWebSocket
import Logging
import MarksyncDSL
import MarksyncServer
import NIOCore

/// The control API on its own HTTP server (`marksync-log api`, and `orchestrate`'s control port): the
/// routes of ``ControlAPI`` and its WebSocket `/ws/dsl` on one port.
///
/// ```swift
/// let server = ControlServer(api: ControlAPI(executor: executor, tokens: TokenSet()), host: "127.0.0.1", port: 0, logger: logger)
/// try await server.run { port in print("listening \(port)") }
/// ```
public struct ControlServer: Sendable {
    /// The routes served.
    public let api: ControlAPI
    /// The address bound (127.0.0.1 unless told).
    public let host: String
    /// The port (0: one the OS picks).
    public let port: Int
    /// Hummingbird's logger.
    public let logger: Logger

    /// A server for `api` on `host:port` (port 0: the OS picks one, reported by `onReady`).
    public init(api: ControlAPI, host: String, port: Int, logger: Logger) {
        self.api = api
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// The Hummingbird application (HTTP/1.1 with the `/ws/dsl` WebSocket upgrade), for embedding or for
    /// running with `.run()` / `.runService()`; `onReady` gets the bound port.
    public func application(onReady: (@Sendable (Int) -> Void)? = nil) -> some ApplicationProtocol {
        let router = Router(context: MarksyncRequestContext.self)
        router.add(middleware: AccessMiddleware(policy: api.access, logger: logger))
        api.register(on: router)
        var wsConfiguration = WebSocketServerConfiguration(maxFrameSize: ControlAPI.maxBodyBytes + (1 << 12))
        wsConfiguration.autoPing = .enabled(timePeriod: .seconds(20))
        let api = self.api
        return Application(
            router: router,
            // Behind the same connection limits and timeouts as the sync server (docs/operations.md).
            server: .marksyncHTTP1WebSocketUpgrade(ws: wsConfiguration, logger: logger) { request, channel, _ in
                api.shouldUpgrade(request, channel: channel, logger: logger)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "marksync-log-control"),
            onServerRunning: { channel in onReady?(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Serves until SIGINT or SIGTERM (or the task is cancelled).
    public func run(onReady: (@Sendable (Int) -> Void)? = nil) async throws {
        try await application(onReady: onReady).runService()
    }
}
