import Foundation
import Logging
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Synchronization

#if os(Linux)
import Glibc

/// Helpers of the connection-limit tests: a server with chosen limits, and plain TCP sockets to 127.0.0.1
/// (blocking calls, always run off the concurrency pool with `offPool`, each bounded by a timeout).
enum ConnectionLimitKit {
    /// A server in-process on 127.0.0.1, port chosen by the OS, with `limits`.
    static func start(_ limits: ConnectionLimits, tokens: String? = nil, markdown: String = "# Limits\n") async throws -> LiveSyncServer {
        try await LiveSyncServer.start(markdown: markdown, document: "demo", tokens: tokens) { $0.connections = limits }
    }

    /// Limits for a test: generous defaults, timeouts long enough not to interfere unless set.
    static func limits(_ change: (inout ConnectionLimits) -> Void = { _ in }) -> ConnectionLimits {
        var limits = ConnectionLimits()
        limits.maxConnections = 64
        limits.maxConnectionsPerAddress = 0
        limits.headerTimeout = .seconds(30)
        limits.idleTimeout = .seconds(30)
        change(&limits)
        return limits
    }
}

#endif
