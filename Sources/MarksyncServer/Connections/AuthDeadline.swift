import HummingbirdWebSocket
import Logging
import NIOWebSocket

extension SyncConnection {
    /// Closes the connection (`1008`, reason `auth_timeout`) unless it has presented a valid token (a
    /// `hello`) within `timeout`: an unauthenticated WebSocket must not hold a connection slot for ever.
    func closeUnlessAuthenticated(after timeout: Duration) {
        Task { [self] in
            try? await Task.sleep(for: timeout)
            guard identity == nil else { return }
            server.metrics.connectionLimits.count(.authTimeout)
            logger.debug("sync connection closed: no valid token within \(timeout)")
            try? await outbound.close(.policyViolation, reason: ConnectionLimitReason.authTimeout.rawValue)
        }
    }
}
