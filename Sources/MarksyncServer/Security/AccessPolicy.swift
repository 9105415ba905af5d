import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MarksyncCore
import NIOCore

/// Why a request or a message was refused: a stable reason code (the `code` of the JSON error, the
/// `reason` of a `nack`).
public struct AccessReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// No token, or a token this server does not know.
    public static let unauthorized = AccessReason(rawValue: "unauthorized")
    /// The token's scope is too small for what was asked.
    public static let forbidden = AccessReason(rawValue: "forbidden")
    /// A browser page of another site (the `Origin` header is neither this server nor allowed).
    public static let badOrigin = AccessReason(rawValue: "bad_origin")
    /// A `Host` header naming neither a loopback name, an IP address nor an allowed host (DNS rebinding).
    public static let badHost = AccessReason(rawValue: "bad_host")
    /// A state-changing request whose body is not `application/json` where JSON is required.
    public static let badContentType = AccessReason(rawValue: "bad_content_type")
}

/// A refusal by the access checks, answered as `{"error": {"code", "message"}}` with its status.
public struct AccessRefusal: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var reason: AccessReason
    public var message: String

    public init(_ status: HTTPResponse.Status, _ reason: AccessReason, _ message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response { response }

    /// The JSON response.
    public var response: Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: jsonBody)))
    }

    /// `{"error": {"code", "message"}}` and a newline.
    public var jsonBody: String {
        JSONValue.object(["error": ["code": .string(reason.rawValue), "message": .string(message)]]).text + "\n"
    }

    /// Answers a WebSocket upgrade with this refusal (hummingbird-websocket would say a bare 400) and logs it;
    /// the caller returns `.dontUpgrade`. The server's channels need a ``RefusedUpgradeResponder``.
    public func refuseUpgrade(on channel: any Channel, path: String?, logger: Logger) {
        logger.warning("refused WebSocket upgrade of \(path ?? "/"): \(reason) (\(message))")
        UpgradeRefusals.shared.record(self, for: channel)
    }
}

/// Who is asking: the scope of the token presented (or `admin` on a server without tokens) and the
/// identity writes are scoped to (the token's fingerprint; nil without tokens).
public struct Identity: Sendable, Hashable {
    public var scope: TokenScope
    /// ``TokenSet/fingerprint(of:)`` of the token presented; nil on a server without tokens.
    public var principal: String?

    public init(scope: TokenScope, principal: String?) {
        self.scope = scope
        self.principal = principal
    }

    /// Throws `forbidden` unless the scope is at least `needed`.
    public func require(_ needed: TokenScope) throws(AccessRefusal) {
        guard scope >= needed else {
            throw AccessRefusal(.forbidden, .forbidden, "this token has \(scope) scope; this needs \(needed)")
        }
    }
}

/// Who may talk to a server, checked once per HTTP request and per WebSocket upgrade (Jupyter's model):
///
/// * `Host` must be a loopback name (`localhost`, `*.localhost`), an IP address, or a host allowed with
///   `--allow-host`: a page that rebinds its own DNS name to 127.0.0.1 is refused.
/// * `Origin`, when present (browsers send it; the CLI, the agents and the Python clients do not), must be
///   this server's own (the same host and port as `Host`) or allowed with `--allow-origin`, on every
///   WebSocket upgrade and every state-changing request: another site's page can neither write nor run
///   anything.
/// * The token (`Authorization: Bearer`, or `?token=`) gives the scope; a server without tokens gives
///   `admin` to everyone who passed the checks above, unless ``requiresToken`` is set (the control API).
public struct AccessPolicy: Sendable {
    public var tokens: TokenSet
    /// Origins allowed besides the server's own (`https://app.example:8443`; `*` allows any).
    public var allowedOrigins: [String]
    /// Host names allowed besides loopback names and IP addresses (`*` allows any).
    public var allowedHosts: [String]
    /// A request without a valid token gets no identity even when no tokens are configured.
    public var requiresToken: Bool

    public init(tokens: TokenSet = TokenSet(), allowedOrigins: [String] = [], allowedHosts: [String] = [], requiresToken: Bool = false) {
        self.tokens = tokens
        self.allowedOrigins = allowedOrigins.map(Self.normalisedOrigin)
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
        self.requiresToken = requiresToken
    }

    /// The checks for one request: `Host` (HTTP/1's Host header is the request's `authority`) always, `Origin`
    /// for upgrades and state-changing methods, then the token. Returns the identity (nil: no token presented,
    /// on a server that needs one).
    public func admit(_ request: HTTPRequest, queryToken: String?) throws(AccessRefusal) -> Identity? {
        let host = request.authority
        let headers = request.headerFields
        let method = request.method
        try checkHost(host)
        let upgrade = headers[.upgrade]?.lowercased().contains("websocket") == true
        let stateChanging = upgrade || !(method == .get || method == .head || method == .options)
        if stateChanging { try checkOrigin(headers[.origin], host: host) }
        return try identity(authorization: headers[.authorization], queryToken: queryToken)
    }

    /// The identity of a token (`Authorization: Bearer …` wins over `?token=`).
    public func identity(authorization: String?, queryToken: String?) throws(AccessRefusal) -> Identity? {
        let token = Self.bearer(authorization) ?? queryToken.flatMap { $0.isEmpty ? nil : $0 }
        return try identity(token: token)
    }

    /// The identity of a presented token (nil: none presented on a server that needs one).
    public func identity(token: String?) throws(AccessRefusal) -> Identity? {
        if tokens.isEmpty && !requiresToken { return Identity(scope: .admin, principal: nil) }
        guard let token else { return nil }
        guard let scope = tokens.scope(of: token) else {
            throw AccessRefusal(.unauthorized, .unauthorized, "unknown token")
        }
        return Identity(scope: scope, principal: TokenSet.fingerprint(of: token))
    }

    /// `Bearer …` → the token.
    public static func bearer(_ header: String?) -> String? {
        guard let header, header.count > 7, header.lowercased().hasPrefix("bearer ") else { return nil }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Refuses a `Host` that is not a loopback name, an IP address or allowed (DNS rebinding).
    public func checkHost(_ host: String?) throws(AccessRefusal) {
        // HTTP/1.0 clients may send none; a browser always does.
        guard let host else { return }
        let name = Self.hostName(host)
        if allowedHosts.contains("*") || Self.isLoopbackOrAddress(name) || allowedHosts.contains(name) { return }
        throw AccessRefusal(
            .forbidden, .badHost,
            "Host \(host.debugDescription) is not a name of this server; start it with --allow-host \(name) to serve that name")
    }

    /// Refuses an `Origin` that is neither this server's own nor allowed.
    public func checkOrigin(_ origin: String?, host: String?) throws(AccessRefusal) {
        guard let origin else { return }
        let normalised = Self.normalisedOrigin(origin)
        if allowedOrigins.contains("*") || allowedOrigins.contains(normalised) { return }
        // WebSocket client libraries (Swift's WSClient among them) send their own URL as `ws://host`; a browser
        // page's origin is always http(s) (or `null`), so these are not pages.
        if normalised.hasPrefix("ws://") || normalised.hasPrefix("wss://") { return }
        // The server's own pages: the origin's host and port are the request's Host.
        if let host, normalised != "null", let separator = normalised.range(of: "://") {
            let authority = normalised[separator.upperBound...]
            let scheme = normalised[..<separator.lowerBound]
            if scheme == "http" || scheme == "https", Self.sameAuthority(String(authority), host.lowercased(), scheme: String(scheme)) { return }
        }
        throw AccessRefusal(
            .forbidden, .badOrigin,
            "a page of \(origin.debugDescription) may not use this server; start it with --allow-origin \(normalised) to allow it")
    }

    // MARK: - Names

    static func normalisedOrigin(_ origin: String) -> String {
        var text = origin.trimmingCharacters(in: .whitespaces).lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// `host:port` and `host` are the same authority when the port is the scheme's default.
    static func sameAuthority(_ origin: String, _ host: String, scheme: String) -> Bool {
        if origin == host { return true }
        let port = scheme == "https" ? ":443" : ":80"
        return origin + port == host || origin == host + port
    }

    /// The name in a `Host` header, without port, brackets or a final dot, lower-cased.
    static func hostName(_ host: String) -> String {
        var text = host.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasPrefix("[") {
            if let close = text.firstIndex(of: "]") { text = String(text[text.index(after: text.startIndex)..<close]) }
            return text
        }
        if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon,
            text[text.index(after: colon)...].allSatisfy(\.isNumber)
        {
            text = String(text[..<colon])
        }
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `localhost`, `*.localhost`, or an IPv4/IPv6 address literal (a rebinding page needs a DNS name).
    static func isLoopbackOrAddress(_ name: String) -> Bool {
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        if name.contains(":") { return name.allSatisfy { $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") } }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in part.count <= 3 && !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } && (Int(part) ?? 256) <= 255 }
    }
}
