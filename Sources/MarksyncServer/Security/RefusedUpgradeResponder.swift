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

/// Rewrites the response of a refused upgrade (see ``UpgradeRefusals``); other responses pass unchanged.
final class RefusedUpgradeResponder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
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
