import ServiceLifecycle
import Synchronization

/// The server's open long-lived connections (sync and Yjs WebSockets, SSE event streams), each with a way to
/// close it, so that a graceful shutdown ends them all instead of waiting for their clients to leave.
final class ConnectionRegistry: Sendable {
    typealias Closer = @Sendable () async -> Void
    private struct State {
        var closers: [String: Closer] = [:]
        var shuttingDown = false
    }
    private let state = Mutex(State())

    /// Registers a connection; false when the server is already shutting down (the caller closes it now).
    func register(_ id: String, closer: @escaping Closer) -> Bool {
        state.withLock { state in
            guard !state.shuttingDown else { return false }
            state.closers[id] = closer
            return true
        }
    }

    func remove(_ id: String) { _ = state.withLock { $0.closers.removeValue(forKey: id) } }

    /// Connections open now.
    var count: Int { state.withLock { $0.closers.count } }

    /// Closes every connection (concurrently) and refuses new ones.
    func closeAll() async {
        let closers = state.withLock { state -> [Closer] in
            state.shuttingDown = true
            return Array(state.closers.values)
        }
        await withDiscardingTaskGroup { group in
            for closer in closers { group.addTask { await closer() } }
        }
    }

    /// Runs `body` (a long-lived connection's wait for its client), calling `closer` as soon as the server
    /// begins a graceful shutdown. The connection's task gets that signal itself, at once: the HTTP server
    /// is stopped before the server's background service (which calls ``closeAll()``), and it waits for its
    /// connections, so an SSE stream or a WebSocket whose client never leaves would hold it until the grace
    /// period ran out.
    static func endingAtShutdown<T>(_ closer: @escaping Closer, _ body: () async throws -> T) async rethrows -> T {
        try await withGracefulShutdownHandler(operation: body, onGracefulShutdown: { Task { await closer() } })
    }
}
