import Hummingbird
import Logging
import NIOCore

/// A request context that carries who is asking (set by ``AccessMiddleware``).
public protocol IdentifiedRequestContext: RequestContext {
    /// The identity of the request's token; nil when none was presented on a server that needs one.
    var identity: Identity? { get set }
}

extension IdentifiedRequestContext {
    /// The identity, when it has at least `needed`; `unauthorized` (401) without one, `forbidden` (403) below.
    public func require(_ needed: TokenScope) throws(AccessRefusal) -> Identity {
        guard let identity else {
            throw AccessRefusal(.unauthorized, .unauthorized, "present a token: Authorization: Bearer … or ?token=…")
        }
        try identity.require(needed)
        return identity
    }
}

/// The request context of every marksync-log router (the sync server's HTTP API and web UI, the control API).
public struct MarksyncRequestContext: IdentifiedRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }
}

/// The one place requests are admitted: `Host`, `Origin` and the token (``AccessPolicy/admit(method:headers:queryToken:)``)
/// for every route, WebSocket upgrades refused by their handler included (they fall through to the router).
/// A refusal is answered with its status and reason code, and logged.
/// The channel handlers every HTTP channel of a marksync-log server needs (a refused upgrade's answer).
public func accessChannelHandlers() -> [any RemovableChannelHandler] { [RefusedUpgradeResponder()] }

public struct AccessMiddleware<Context: IdentifiedRequestContext>: RouterMiddleware {
    public let policy: AccessPolicy
    public let logger: Logger

    public init(policy: AccessPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        do {
            context.identity = try policy.admit(request.head, queryToken: request.uri.queryParameters.get("token").map { String($0) })
        } catch {
            logger.warning(
                "refused \(request.method) \(request.uri.path): \(error.reason) (\(error.message))",
                metadata: ["origin": "\(request.headers[.origin] ?? "-")", "host": "\(request.head.authority ?? "-")"])
            return error.response
        }
        return try await next(request, context)
    }
}
