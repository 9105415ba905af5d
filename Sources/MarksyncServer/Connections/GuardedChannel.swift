import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The server's child channel: Hummingbird's HTTP/1 channel with the WebSocket upgrade, behind the
/// connection limits (``ConnectionGate``) and the request-head timeout (``HeaderTimeoutHandler``).
///
/// A connection over a limit is closed in `setup`, before any HTTP handler is added: the accept loop keeps
/// taking connections off the kernel's backlog, so the ones under the limit (and `/health` from other
/// addresses) still get in. The keep-alive idle timeout is Hummingbird's own (`HTTP1Channel.Configuration
/// .idleTimeout`), the WebSocket one its auto-ping (a peer that misses a pong is closed). Accept errors
/// (`EMFILE`, `ENFILE`) are handled by the `AcceptBackoffHandler` that NIO's `ServerBootstrap` puts on
/// every server channel bound with the async `bind` Hummingbird uses: accepting pauses for a second
/// instead of spinning.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let base: Base.Value
        let head: HeadSeen
        var channel: any Channel { base.channel }
    }

    /// Set (off the event loop too) once the connection's first request head is complete.
    final class HeadSeen: Sendable {
        private let flag = Atomic(false)
        var value: Bool { flag.load(ordering: .acquiring) }
        func set() { flag.store(true, ordering: .releasing) }
    }

    /// Thrown by `setup` for a refused connection (the accept loop drops it; the socket is closed already).
    struct Refused: Error {
        let reason: ConnectionLimitReason
    }

    let base: Base
    let gate: ConnectionGate
    let headerTimeout: Duration
    let writeTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress
        if let reason = gate.admit(address: address) {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(Refused(reason: reason))
        }
        let gate = self.gate
        channel.closeFuture.whenComplete { _ in gate.release(address: address) }
        let head = HeadSeen()
        do {
            try channel.pipeline.syncOperations.addHandler(
                HeaderTimeoutHandler(
                    timeout: TimeAmount(headerTimeout), writeTimeout: TimeAmount(writeTimeout), counters: gate.counters, onHead: head.set),
                position: .first)
        } catch {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).map { Value(base: $0, head: head) }
    }

    /// Hummingbird's handling of the connection, which must end within seconds of a stop: at a graceful
    /// shutdown a connection that has not sent a whole request head is closed (nothing of it is in flight;
    /// Hummingbird closes idle keep-alive connections itself but waits for a head sent halfway), and when
    /// the server's task is cancelled (after the grace period) every connection still open is closed (a
    /// client that never answers a WebSocket close, a second head sent halfway).
    func handle(value: Value, logger: Logger) async {
        let channel = value.channel
        let head = value.head
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await base.handle(value: value.base, logger: logger)
            } onGracefulShutdown: {
                if !head.value { channel.close(promise: nil) }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Closes a connection that has not sent a complete request head (up to the empty line) within the
/// timeout of its accept: idle sockets and slowly sent headers (slowloris) are let go before any
/// authentication. It looks at raw bytes only, in front of the HTTP decoder; once the first head is in,
/// it passes everything through (then Hummingbird's idle timeout or the WebSocket pings take over).
///
/// It also closes a connection whose output stays blocked for `writeTimeout`: a peer that stops reading
/// (the WebSocket pings and their timeout would wait for ever behind the blocked write). The channel is
/// unwritable above 64 KiB unsent and writable again below 32 KiB, so a reader that takes 32 KiB within
/// the timeout, however slowly, is never cut.
final class HeaderTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let writeTimeout: TimeAmount
    private let counters: ConnectionLimitCounters
    /// Line feeds seen in a row (carriage returns between them ignored); two end the head.
    private var newlines = 0
    /// True once a byte other than CR/LF came (leading empty lines do not end a head).
    private var started = false
    private var complete = false
    private var deadline: Scheduled<Void>?
    private var stalled: Scheduled<Void>?

    private let onHead: @Sendable () -> Void

    init(timeout: TimeAmount, writeTimeout: TimeAmount, counters: ConnectionLimitCounters, onHead: @escaping @Sendable () -> Void = {}) {
        self.timeout = timeout
        self.writeTimeout = writeTimeout
        self.counters = counters
        self.onHead = onHead
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stalled?.cancel()
            stalled = nil
        } else if stalled == nil {
            let counters = self.counters
            stalled = context.eventLoop.assumeIsolated().scheduleTask(in: writeTimeout) { [self] in
                stalled = nil
                guard !context.channel.isWritable else { return }
                counters.count(.writeTimeout)
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        disarmStall()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        disarmStall()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !complete {
            let buffer = unwrapInboundIn(data)
            complete = buffer.withUnsafeReadableBytes { scan($0) }
            if complete {
                disarm()
                onHead()
            }
        }
        context.fireChannelRead(data)
    }

    /// Follows the bytes; true at the end of the head.
    private func scan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                guard started else { continue }
                newlines += 1
                if newlines >= 2 { return true }
            case UInt8(ascii: "\r"):
                continue
            default:
                started = true
                newlines = 0
            }
        }
        return false
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil, !complete else { return }
        let counters = self.counters
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            deadline = nil
            guard !complete else { return }
            counters.count(.headerTimeout)
            // As if the peer had stopped sending: NIO's upgrade handler then closes quietly (Hummingbird logs
            // a plain close before the request head as an error, one line per connection in a storm).
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    private func disarmStall() {
        stalled?.cancel()
        stalled = nil
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with the WebSocket upgrade (as `http1WebSocketUpgrade`), behind the
    /// connection limits and timeouts: `gate` counts and refuses connections, `limits` gives the request-head
    /// and keep-alive idle timeouts.
    static func guardedHTTP1WebSocketUpgrade(
        gate: ConnectionGate,
        limits: ConnectionLimits,
        ws: WebSocketServerConfiguration,
        shouldUpgrade:
            @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
                WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
            >
    ) -> HTTPServerBuilder {
        .init { responder in
            GuardedChildChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    configuration: .init(
                        http1: .init(additionalChannelHandlers: accessChannelHandlers(), idleTimeout: TimeAmount(limits.idleTimeout)), ws: ws),
                    shouldUpgrade: shouldUpgrade),
                gate: gate,
                headerTimeout: limits.headerTimeout,
                writeTimeout: limits.writeTimeout)
        }
    }
}

extension HTTPServerBuilder {
    /// The same guarded server for another marksync-log HTTP server (the control API): its own connection
    /// gate with `limits` (maximum connections, per address, header, idle and write timeouts) and the access
    /// responder, so that its WebSocket refusals and malformed requests are answered as the sync server's.
    public static func marksyncHTTP1WebSocketUpgrade(
        limits: ConnectionLimits = ConnectionLimits(),
        ws: WebSocketServerConfiguration,
        logger: Logger,
        shouldUpgrade:
            @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
                WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
            >
    ) -> HTTPServerBuilder {
        let gate = ConnectionGate(limits: limits, counters: ConnectionLimitCounters(), logger: logger)
        return guardedHTTP1WebSocketUpgrade(gate: gate, limits: limits, ws: ws, shouldUpgrade: shouldUpgrade)
    }
}
