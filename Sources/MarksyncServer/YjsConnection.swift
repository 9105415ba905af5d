import Foundation
import HummingbirdWebSocket
import Logging
import MarksyncCore
import MarksyncStore
import NIOCore
import NIOWebSocket

/// One viewer's WebSocket on the read-only y-websocket endpoint `/yjs/{doc}` (binary frames of the
/// y-protocols sync, awareness and auth messages; see ``YjsRoom``).
enum YjsConnection {
    /// Frames a viewer may have queued before it is disconnected as too slow.
    static let queueLimit = 4096

    /// Runs the connection until the viewer leaves. `allowed` is false when the server needs a token and
    /// none (or a wrong one) came with the request: the viewer is told why, then the socket closes.
    static func run(
        server: SyncServer, document: String, allowed: Bool, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        logger: Logger
    ) async {
        guard allowed else {
            let reason = "unauthorized: this server needs a token (?token=… or Authorization: Bearer …)"
            try? await outbound.write(.binary(ByteBuffer(bytes: YjsSyncMessage.permissionDenied(reason).encoded)))
            try? await outbound.close(.policyViolation, reason: "unauthorized")
            return
        }
        server.metrics.connectionOpened()
        defer { server.metrics.connectionClosed() }
        let peer = YjsPeer(limit: queueLimit)
        let closer: ConnectionRegistry.Closer = { try? await outbound.close(.goingAway, reason: "the server is shutting down") }
        let open = server.openConnections.register("yjs-\(peer.id)", closer: closer)
        defer { server.openConnections.remove("yjs-\(peer.id)") }
        guard open else {
            try? await outbound.close(.goingAway, reason: "the server is shutting down")
            return
        }
        var room: YjsRoom?
        do {
            for _ in 0..<3 {
                let candidate = YjsRooms.shared.room(for: server, document: document)
                if try await candidate.join(peer) {
                    room = candidate
                    break
                }
            }
        } catch {
            logger.error("Yjs room of \(document): \(error)")
        }
        guard let room else {
            try? await outbound.close(.unexpectedServerError, reason: "the Yjs projection is not available")
            return
        }
        let writer = Task {
            for await frame in peer.frames {
                do { try await outbound.write(.binary(ByteBuffer(bytes: frame))) } catch { break }
                peer.written(frame.count)
            }
            // The queue ends when the viewer left, fell behind or the room failed: close the socket.
            if let refused = peer.refused {
                try? await outbound.close(.policyViolation, reason: refused)
            } else {
                try? await outbound.close(peer.fellBehind ? .goingAway : .normalClosure, reason: peer.fellBehind ? "too slow: reconnect" : nil)
            }
        }
        await ConnectionRegistry.endingAtShutdown(closer) {
            do {
                for try await message in inbound.messages(maxSize: max(server.configuration.maxMessageBytes * 4, 1 << 20)) {
                    guard case .binary(let buffer) = message else { continue }
                    await room.receive(Array(buffer.readableBytesView), from: peer.id)
                    // Refused for breaking a limit: read no more of what it sends (the socket is being closed).
                    if peer.refused != nil { break }
                }
            } catch {
                logger.debug("Yjs viewer of \(document) left: \(error)")
            }
        }
        await room.leave(peer.id)
        peer.finish()
        _ = await writer.value
    }
}
