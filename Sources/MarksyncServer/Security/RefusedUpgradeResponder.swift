import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Refusals of WebSocket upgrades, by channel, decided by the upgrade handler. hummingbird-websocket answers
/// every refused upgrade with a bare `400`; ``RefusedUpgradeResponder`` turns that answer into the refusal's
/// own (403 `bad_origin`, 401 `unauthorized`, …) with its JSON body, as for any other request.
final class UpgradeRefusals: Sendable {
    static let shared = UpgradeRefusals()
    private let refusals = Mutex<[ObjectIdentifier: AccessRefusal]>([:])

    func record(_ refusal: AccessRefusal, for channel: any Channel) {
        let key = ObjectIdentifier(channel)
        refusals.withLock { $0[key] = refusal }
        channel.closeFuture.whenComplete { [self] _ in _ = refusals.withLock { $0.removeValue(forKey: key) } }
    }

    func take(for channel: any Channel) -> AccessRefusal? {
        refusals.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Rewrites the response of a refused upgrade (see ``UpgradeRefusals``); other responses pass unchanged. Also
/// answers a request that cannot be read as HTTP (a target with bytes HTTP does not allow, such as non-ASCII
/// in the query) with `400 bad_request` and closes the connection: Hummingbird would otherwise leave it open
/// with no answer.
final class RefusedUpgradeResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A response has started on this connection (an error after it only closes the connection).
    private var responding = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // I/O failures end the connection anyway; a request that could not be decoded gets an answer first.
        if !(error is IOError), !(error is ChannelError), !responding {
            responding = true
            let refusal = AccessRefusal(.badRequest, AccessReason(rawValue: "bad_request"), "the request cannot be read as HTTP: \(error)")
            let body = ByteBuffer(string: refusal.jsonBody)
            var fields = HTTPFields()
            fields[.connection] = "close"
            fields[.contentType] = "application/json; charset=utf-8"
            fields[.contentLength] = "\(body.readableBytes)"
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .badRequest, headerFields: fields))), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) { responding = true }
        guard case .head(let head) = unwrapOutboundIn(data), head.status == .badRequest,
            let refusal = UpgradeRefusals.shared.take(for: context.channel)
        else {
            context.write(data, promise: promise)
            return
        }
        let body = ByteBuffer(string: refusal.jsonBody)
        var fields = HTTPFields()
        fields[.connection] = "close"
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = "\(body.readableBytes)"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: refusal.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: promise)
    }
}
