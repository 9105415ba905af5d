import Foundation
import HummingbirdWSClient
import Logging
import MarksyncCore
import Synchronization

/// A client of the marksync-log sync protocol over one WebSocket.
///
/// ```swift
/// let client = try await SyncClient.connect(to: "ws://127.0.0.1:8765", name: "me")
/// let block = try await client.block("markpact:file=app.py")
/// let ack = try await client.write(.full(blockID: block.blockID, content: "print(1)", baseSeq: block.seq))
/// for try await update in try await client.subscribe(since: ack.seq) { … }
/// ```
///
/// Requests are answered in the order they were sent; ``send(_:)`` waits for the reply to its own request
/// and throws ``SyncClientError/nack(_:)`` when the server refuses it (never a silent drop). Writes carry a
/// client message `id` (generated when missing) so that, after a dropped connection, the client reconnects
/// (with backoff), sends again every request still waiting for its reply (the server stores a write once
/// and answers the original `ack`), and resumes the subscription from the last seq it delivered: no event
/// lost, none repeated.
public actor SyncClient {
    /// How the client connects, waits and reconnects.
    public struct Options: Sendable {
        /// The token presented to the server (`?token=`), when it has tokens configured.
        public var token: String?
        /// The client's name: the author of its writes.
        public var name: String = "swift-client"
        /// The document (`?doc=`); the server's first document when nil.
        public var document: String?
        /// The largest WebSocket frame or message accepted from the server.
        public var maxFrameSize: Int = 1 << 28
        /// How long to wait for the manifest when connecting.
        public var connectTimeout: Duration = .seconds(10)
        /// How long to wait for a reply (including time spent reconnecting).
        public var requestTimeout: Duration = .seconds(60)
        /// Reconnect after the connection drops (requests waiting for a reply are sent again).
        public var reconnect: Bool = true
        /// Reconnection attempts before giving up (nil: forever).
        public var maxReconnectAttempts: Int? = 20
        /// First delay between attempts; doubled after each failure up to ``maxReconnectDelay``.
        public var reconnectDelay: Duration = .milliseconds(100)
        public var maxReconnectDelay: Duration = .seconds(5)
        /// Logger for connection events.
        public var logger: Logger = {
            var logger = Logger(label: "marksync-client")
            logger.logLevel = .warning
            return logger
        }()
        public init() {}
    }

    /// The server URL as given (`ws://host:port` or `ws://host:port/sync/doc`).
    public nonisolated let url: String
    /// The options in force.
    public nonisolated let options: Options
    /// The manifest of the current connection (the last one after a reconnect).
    public private(set) var manifest = SyncManifest()
    /// Counters of the subscription (duplicates dropped, gaps, reconnects).
    public private(set) var stats = SubscriptionStats()

    // MARK: - State

    private struct Pending {
        var key: Int
        var type: String
        var text: String
        var writeID: String?
        var isWrite: Bool
        /// nil once the caller stopped waiting (timeout), or for the client's own resubscribe.
        var continuation: ReplyFuture?
        /// The connection generation the request was written on.
        var writtenOn: Int?
        var timer: Task<Void, Never>?
        var isSubscribe: Bool { type == "subscribe" }
    }

    private struct Subscriber {
        var continuation: AsyncThrowingStream<SyncUpdate, any Error>.Continuation
        /// The seq of the last event delivered (nil until `subscribed` tells where it starts).
        var cursor: Int?
        /// Events after `subscribed` belong to the subscription; before it they are the old feed.
        var active = false
        var consumer: String?
        /// Broadcasts of a seed-only server: every one delivered, never resubscribed (``followBroadcasts()``).
        var passthrough = false
    }

    private var generation = 0
    private var connectionTask: Task<Void, Never>?
    private var writer: AsyncStream<String>.Continuation?
    private var ready = false
    private var manifestWaiter: (generation: Int, continuation: CheckedContinuation<SyncManifest, any Error>)?
    private var pending: [Pending] = []
    private var nextKey = 0
    private var subscriber: Subscriber?
    private var closed = false
    private var reconnecting: Task<Void, Never>?

    private init(url: String, options: Options) {
        self.url = url
        self.options = options
    }

    /// Opens a connection and reads the first `manifest`.
    ///
    /// Throws ``SyncClientError/rejected(_:)`` when the server answers with an `error` instead (a missing
    /// or unknown token, an unknown document) and ``SyncClientError/connectionFailed(_:)`` when nothing
    /// listens there.
    public static func connect(to url: String, options: Options = Options()) async throws -> SyncClient {
        let client = SyncClient(url: url, options: options)
        do {
            _ = try await client.openConnection()
        } catch {
            await client.close()
            throw error
        }
        return client
    }

    /// Opens a connection with a token and a name (see ``connect(to:options:)``).
    public static func connect(to url: String, token: String? = nil, name: String = "swift-client") async throws -> SyncClient {
        var options = Options()
        options.token = token
        options.name = name
        return try await connect(to: url, options: options)
    }

    // MARK: - Requests

    /// Sends a request and waits for its reply.
    ///
    /// Writes get a client message `id` when they have none. Returns the reply (`ack`, `snapshot`, `full`,
    /// `log`, `subscribed`, `cursor`, …); throws ``SyncClientError/nack(_:)`` for a `nack` or `error` reply.
    public func send(_ request: SyncRequest) async throws -> SyncReply {
        var request = request
        if request.isWrite, request.id == nil { request.id = Self.newMessageID(options.name) }
        let reply = try await enqueue(request)
        switch reply["type"]?.stringValue {
        case "nack", "error": throw SyncClientError.nack(SyncNack(reply))
        default: return SyncReply(message: reply)
        }
    }

    /// Sends a write (`patch`, `full`, `create`, `delete`, `merge`) and returns its `ack`.
    public func write(_ request: SyncRequest) async throws -> SyncAck {
        let reply = try await send(request)
        guard let ack = SyncAck(reply.message) else {
            throw SyncClientError.protocolViolation("expected ack, got \(reply.type)")
        }
        return ack
    }

    /// The README at seq `at` (or the head).
    public func snapshot(at: Int? = nil) async throws -> SyncSnapshot {
        let reply = try await send(.getSnapshot(at: at))
        guard reply.type == "snapshot", let markdown = reply["markdown"]?.stringValue else {
            throw SyncClientError.protocolViolation("expected snapshot, got \(reply.type)")
        }
        return SyncSnapshot(markdown: markdown, seq: reply.seq ?? 0, document: reply["doc"]?.stringValue)
    }

    /// One block at seq `at` (or the head).
    public func block(_ blockID: String, at: Int? = nil) async throws -> SyncBlock {
        let reply = try await send(.getBlock(blockID, at: at))
        guard reply.type == "full" else { throw SyncClientError.protocolViolation("expected full, got \(reply.type)") }
        return SyncBlock(
            blockID: blockID, content: reply["content"]?.stringValue ?? "", sha: reply["sha"]?.stringValue, seq: reply.seq ?? 0,
            exists: reply["exists"]?.boolValue ?? true)
    }

    /// A page of the event history (the `log` reply's `events`) and the head seq.
    public func log(since: Int = 0, limit: Int = 100, blockID: String? = nil) async throws -> (events: [JSONValue], head: Int) {
        let reply = try await send(.getLog(since: since, limit: limit, blockID: blockID))
        guard case .array(let events)? = reply["events"] else { throw SyncClientError.protocolViolation("expected log, got \(reply.type)") }
        return (events, reply["head"]?.intValue ?? 0)
    }

    /// Moves a durable consumer's stored cursor.
    public func setCursor(consumer: String, seq: Int) async throws {
        _ = try await send(SyncRequest(type: "cursor", fields: ["consumer": .string(consumer), "seq": .int(seq)]))
    }

    // MARK: - Subscriptions

    /// Subscribes from a cursor: every event with seq > `since` in order (read from the log), then
    /// `caughtUp`, then live events. With `since` nil, from the head.
    ///
    /// One subscription per client: subscribing again ends the previous stream. After a reconnect the
    /// subscription resumes after the last event delivered.
    public func subscribe(since: Int?) async throws -> AsyncThrowingStream<SyncUpdate, any Error> {
        try await startSubscription(fields: since.map { ["since": .int($0)] } ?? [:], consumer: nil)
    }

    /// Subscribes as a durable consumer: from the cursor the server stores for `consumer` (or `since`, or 0,
    /// for a new consumer). Move the stored cursor with ``setCursor(consumer:seq:)``.
    public func subscribe(consumer: String, since: Int? = nil) async throws -> AsyncThrowingStream<SyncUpdate, any Error> {
        var fields: [String: JSONValue] = ["consumer": .string(consumer)]
        fields["since"] = since.map { .int($0) }
        return try await startSubscription(fields: fields, consumer: consumer)
    }

    /// The seq of the last event the subscription delivered.
    public var cursor: Int? { subscriber?.cursor }

    private func startSubscription(fields: [String: JSONValue], consumer: String?) async throws -> AsyncThrowingStream<SyncUpdate, any Error> {
        let (stream, continuation) = AsyncThrowingStream<SyncUpdate, any Error>.makeStream(bufferingPolicy: .unbounded)
        subscriber?.continuation.finish()
        subscriber = Subscriber(continuation: continuation, cursor: nil, active: false, consumer: consumer)
        do {
            _ = try await send(SyncRequest(type: "subscribe", fields: fields))
        } catch {
            continuation.finish(throwing: error)
            subscriber = nil
            throw error
        }
        return stream
    }

    /// Ends the subscription.
    public func unsubscribe() {
        subscriber?.continuation.finish()
        subscriber = nil
    }

    // MARK: - Connection

    /// Drops the connection (as a network failure would) and reconnects, sending again every request
    /// still waiting and resuming the subscription after its cursor.
    public func reconnect() async throws {
        guard !closed else { throw SyncClientError.closed }
        dropConnection()
        try await reconnectLoop()
    }

    /// Closes the connection; waiting requests fail with ``SyncClientError/closed`` and the subscription ends.
    public func close() {
        guard !closed else { return }
        closed = true
        subscriber?.continuation.finish()
        subscriber = nil
        dropConnection()
        reconnecting?.cancel()
        failAll(SyncClientError.closed)
    }

    private func dropConnection() {
        generation += 1
        ready = false
        writer?.finish()
        writer = nil
        connectionTask?.cancel()
        connectionTask = nil
        if let waiter = manifestWaiter {
            manifestWaiter = nil
            waiter.continuation.resume(throwing: SyncClientError.disconnected("connection dropped"))
        }
        subscriber?.active = false
    }

    private func connectURL() -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        if !items.contains(where: { $0.name == "name" }) { items.append(URLQueryItem(name: "name", value: options.name)) }
        if let token = options.token, !items.contains(where: { $0.name == "token" }) { items.append(URLQueryItem(name: "token", value: token)) }
        if let document = options.document, !items.contains(where: { $0.name == "doc" }) { items.append(URLQueryItem(name: "doc", value: document)) }
        components.queryItems = items
        if components.path.isEmpty { components.path = "/" }
        return components.string ?? url
    }

    /// Opens a new WebSocket and waits for its manifest.
    private func openConnection() async throws -> SyncManifest {
        if closed { throw SyncClientError.closed }
        dropConnection()
        let current = generation
        let (stream, writer) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        self.writer = writer
        let target = connectURL()
        let maxSize = options.maxFrameSize
        let logger = options.logger
        let timeout = options.connectTimeout
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SyncManifest, any Error>) in
            manifestWaiter = (current, continuation)
            let box = WeakClient(self)
            connectionTask = Task { [weak self] in
                var failure: (any Error)?
                var configuration = WebSocketClientConfiguration(maxFrameSize: maxSize)
                configuration.autoPing = .enabled(timePeriod: .seconds(20))
                do {
                    try await WebSocketClient.connect(url: target, configuration: configuration, logger: logger) { inbound, outbound, _ in
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for await text in stream { try await outbound.write(.text(text)) }
                            }
                            for try await message in inbound.messages(maxSize: maxSize) {
                                guard case .text(let text) = message else { continue }
                                await box.client?.receive(text, generation: current)
                            }
                            group.cancelAll()
                        }
                    }
                } catch {
                    failure = error
                }
                await self?.connectionEnded(generation: current, error: failure)
            }
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.connectTimedOut(generation: current)
            }
        }
    }

    private func connectTimedOut(generation current: Int) {
        guard let waiter = manifestWaiter, waiter.generation == current else { return }
        manifestWaiter = nil
        waiter.continuation.resume(throwing: SyncClientError.timeout("no manifest from \(url) within \(options.connectTimeout)"))
        if current == generation { dropConnection() }
    }

    private func connectionEnded(generation current: Int, error: (any Error)?) {
        guard current == generation, !closed else { return }
        let reason = error.map { "\($0)" } ?? "the server closed the connection"
        options.logger.info("connection to \(url) ended: \(reason)")
        if let waiter = manifestWaiter, waiter.generation == current {
            manifestWaiter = nil
            ready = false
            waiter.continuation.resume(throwing: SyncClientError.connectionFailed(error.map(Self.humanReason) ?? reason))
            return
        }
        ready = false
        writer?.finish()
        writer = nil
        subscriber?.active = false
        guard options.reconnect else {
            failAll(SyncClientError.disconnected(reason))
            return
        }
        if reconnecting == nil {
            reconnecting = Task { [weak self] in
                do { try await self?.reconnectLoop() } catch { await self?.failAll(error) }
                await self?.reconnectFinished()
            }
        }
    }

    private func reconnectFinished() { reconnecting = nil }

    /// A connection error in a few words ("connection refused", "host not found", …) instead of the
    /// networking library's internals (`SingleConnectionFailure(target: [IPv4]…`).
    public static func humanReason(_ error: any Error) -> String {
        let text = "\(error)"
        let lower = text.lowercased()
        if lower.contains("refused") { return "connection refused" }
        if lower.contains("unresolved") || lower.contains("nodename nor servname") || lower.contains("name or service not known")
            || lower.contains("no address") || lower.contains("dns") || lower.contains("lookup")
        {
            return "host not found"
        }
        if lower.contains("timeout") || lower.contains("timed out") { return "timed out" }
        if lower.contains("unreachable") { return "network unreachable" }
        if lower.contains("reset") { return "connection reset" }
        if lower.contains("unsupportedurl") || lower.contains("invalidurl") || lower.contains("invalid url") { return "not a ws:// or wss:// URL" }
        if lower.contains("upgrade") || lower.contains("websocket") { return "the server did not accept a WebSocket there (\(text))" }
        return text
    }

    /// Reconnects with backoff; on success every waiting request is sent again and the subscription resumes.
    private func reconnectLoop() async throws {
        var delay = options.reconnectDelay
        var attempt = 0
        while true {
            if closed { throw SyncClientError.closed }
            attempt += 1
            do {
                _ = try await openConnection()
                stats.reconnects += 1
                return
            } catch SyncClientError.rejected(let nack) {
                throw SyncClientError.rejected(nack)
            } catch {
                if let max = options.maxReconnectAttempts, attempt >= max {
                    throw SyncClientError.disconnected("gave up reconnecting to \(url) after \(attempt) attempts: \(error)")
                }
                options.logger.info("reconnecting to \(url) (attempt \(attempt)): \(error)")
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, options.maxReconnectDelay)
        }
    }

    // MARK: - Sending

    private static func newMessageID(_ name: String) -> String { "\(name)-\(UUID().uuidString.lowercased())" }

    private func enqueue(_ request: SyncRequest) async throws -> JSONValue {
        try await register(request).value()
    }

    /// Queues a request (written at once when connected) and returns the future of its reply.
    private func register(_ request: SyncRequest) -> ReplyFuture {
        let future = ReplyFuture()
        if closed {
            future.complete(.failure(SyncClientError.closed))
            return future
        }
        if !manifest.speaksExtensions, let what = Self.unsupportedBySeed(request) {
            future.complete(.failure(SyncClientError.unsupportedBySeed(what)))
            return future
        }
        let key = nextKey
        nextKey += 1
        let text = request.text
        let timeout = options.requestTimeout
        var item = Pending(key: key, type: request.type, text: text, writeID: request.isWrite ? request.id : nil, isWrite: request.isWrite, continuation: future)
        item.timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if Task.isCancelled { return }
            await self?.expire(key, what: request.type)
        }
        if ready, let writer {
            writer.yield(text)
            item.writtenOn = generation
        }
        pending.append(item)
        return future
    }

    /// Whether the server speaks only the seed's protocol (Python marksync 0.2.x): its manifest carries no
    /// `doc` and no `seq`. Such a server answers `patch`, `full`, `get_snapshot` and `get_block` (without
    /// `at`) and ignores everything else, so those requests fail at once with
    /// ``SyncClientError/unsupportedBySeed(_:)`` instead of waiting for a reply that never comes.
    public var isSeedServer: Bool { !manifest.speaksExtensions }

    /// What a seed-only server cannot answer in `request`, or nil when it can.
    static func unsupportedBySeed(_ request: SyncRequest) -> String? {
        switch request.type {
        case "patch", "full": return nil
        case "get_snapshot", "get_block":
            if let at = request.fields["at"], at != .null { return "\(request.type) at a seq (--at)" }
            return nil
        case "subscribe": return request.fields["consumer"] != nil ? "a durable consumer (subscribe with a consumer name)" : "subscribe"
        case "create": return "create (a new block at a position)"
        default: return request.type
        }
    }

    /// Delivers every `patch`/`full` broadcast the server sends from now on, as it comes (no cursor, no
    /// catch-up): how a client follows a seed-only server, which broadcasts every change to every other
    /// connection and has no `subscribe`. Ends the current subscription, if any.
    public func followBroadcasts() -> AsyncThrowingStream<SyncUpdate, any Error> {
        let (stream, continuation) = AsyncThrowingStream<SyncUpdate, any Error>.makeStream(bufferingPolicy: .unbounded)
        subscriber?.continuation.finish()
        subscriber = Subscriber(continuation: continuation, cursor: nil, active: true, consumer: nil, passthrough: true)
        return stream
    }

    /// Sends several requests back to back (pipelined, in this order) and waits for every reply; a `nack` or
    /// `error` reply is a failure ``SyncClientError/nack(_:)`` in its slot.
    public func sendAll(_ requests: [SyncRequest]) async -> [Result<SyncReply, any Error>] {
        var futures = [ReplyFuture]()
        for var request in requests {
            if request.isWrite, request.id == nil { request.id = Self.newMessageID(options.name) }
            futures.append(register(request))
        }
        var results = [Result<SyncReply, any Error>]()
        for future in futures {
            do {
                let reply = try await future.value()
                switch reply["type"]?.stringValue {
                case "nack", "error": results.append(.failure(SyncClientError.nack(SyncNack(reply))))
                default: results.append(.success(SyncReply(message: reply)))
                }
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// The caller stops waiting; the slot stays so that the late reply is matched to it, not to the next one.
    private func expire(_ key: Int, what: String) {
        guard let index = pending.firstIndex(where: { $0.key == key }), let continuation = pending[index].continuation else { return }
        pending[index].continuation = nil
        continuation.complete(.failure(SyncClientError.timeout("no reply to \(what) within \(options.requestTimeout)")))
    }

    /// Sends every request not yet written on this connection, in order.
    private func flushPending() {
        guard ready, let writer else { return }
        pending.removeAll { $0.continuation == nil && $0.writtenOn != generation && !$0.isSubscribe }
        for index in pending.indices where pending[index].writtenOn != generation {
            writer.yield(pending[index].text)
            pending[index].writtenOn = generation
        }
    }

    private func failAll(_ error: any Error) {
        let waiting = pending
        pending.removeAll()
        for item in waiting {
            item.timer?.cancel()
            item.continuation?.complete(.failure(error))
        }
        subscriber?.continuation.finish(throwing: error)
        subscriber = nil
    }

    // MARK: - Receiving

    private static let eventTypes: Set<String> = ["patch", "full", "delete", "prose", "header", "review", "deploy", "line_ending", "create"]

    private func receive(_ text: String, generation current: Int) {
        guard current == generation, let message = JSONValue.parse(Array(text.utf8)), let type = message["type"]?.stringValue else { return }
        switch type {
        case "manifest":
            manifest = SyncManifest(message)
            if let waiter = manifestWaiter, waiter.generation == current {
                manifestWaiter = nil
                ready = true
                resumeAfterConnect()
                waiter.continuation.resume(returning: manifest)
            } else {
                // The reply to a `hello` that gave this connection its scope.
                resolve(message)
            }
        case "error" where manifestWaiter?.generation == current:
            // The connection was refused (no or unknown token, unknown document).
            let waiter = manifestWaiter!
            manifestWaiter = nil
            waiter.continuation.resume(throwing: SyncClientError.rejected(SyncNack(message)))
            dropConnection()
        case "error" where message["reason"]?.stringValue == "subscription_failed":
            // The server's feed failed: resubscribe after the last event delivered.
            resubscribe()
        case "caught_up":
            if let subscriber, subscriber.active {
                subscriber.continuation.yield(.caughtUp(seq: message["seq"]?.intValue ?? subscriber.cursor ?? 0))
            }
        case "subscribed":
            if subscriber != nil {
                subscriber?.active = true
                subscriber?.cursor = message["since"]?.intValue ?? subscriber?.cursor
            }
            resolve(message)
        case "full" where message["exists"] != nil:
            resolve(message)  // reply to get_block
        case _ where Self.eventTypes.contains(type) && message["seq"] != nil && message["reason"] == nil:
            deliver(message)
        case "ack", "nack", "error", "snapshot", "log", "cursor", "hello", "full":
            resolve(message)
        default:
            options.logger.debug("ignored message \(type)")
        }
    }

    /// After a (re)connection: sends the waiting requests again and resumes the subscription.
    private func resumeAfterConnect() {
        flushPending()
        if let subscriber, subscriber.passthrough {
            self.subscriber?.active = true
            return
        }
        if subscriber != nil, !pending.contains(where: { $0.isSubscribe }) { resubscribe() }
    }

    private func resubscribe() {
        guard var subscriber else { return }
        subscriber.active = false
        self.subscriber = subscriber
        var fields: [String: JSONValue] = [:]
        if let cursor = subscriber.cursor {
            fields["since"] = .int(cursor)
        } else if let consumer = subscriber.consumer {
            fields["consumer"] = .string(consumer)
        }
        var request = Pending(key: nextKey, type: "subscribe", text: SyncRequest(type: "subscribe", fields: fields).text, writeID: nil, isWrite: false, continuation: nil)
        nextKey += 1
        if ready, let writer {
            writer.yield(request.text)
            request.writtenOn = generation
        }
        pending.append(request)
    }

    /// Matches a reply to the oldest waiting request (the server answers in order); an ack or nack with an
    /// `id` goes to the write with that id.
    private func resolve(_ message: JSONValue) {
        var index = pending.firstIndex { $0.writtenOn == generation }
        if let id = message["id"]?.stringValue, let byID = pending.firstIndex(where: { $0.writeID == id && $0.writtenOn == generation }) {
            index = byID
        }
        guard let index else {
            options.logger.warning("unexpected \(message["type"]?.stringValue ?? "?") with no request waiting")
            return
        }
        let item = pending.remove(at: index)
        item.timer?.cancel()
        item.continuation?.complete(.success(message))
    }

    /// An event: to the subscription in seq order (after `subscribed`); before it, a broadcast of the old feed.
    private func deliver(_ message: JSONValue) {
        guard let event = SyncEvent(message) else { return }
        if let block = event.blockID {
            switch event.type {
            case "delete": manifest.blocks[block] = nil
            default: if let sha = event.sha { manifest.blocks[block] = sha }
            }
        }
        manifest.seq = max(manifest.seq ?? 0, event.seq)
        guard var subscriber, subscriber.active else { return }
        if subscriber.passthrough {
            subscriber.cursor = event.seq
            self.subscriber = subscriber
            stats.delivered += 1
            subscriber.continuation.yield(.event(event))
            return
        }
        let cursor = subscriber.cursor ?? (event.seq - 1)
        if event.seq <= cursor {
            stats.duplicatesDropped += 1
            return
        }
        if event.seq > cursor + 1 { stats.gaps += 1 }
        subscriber.cursor = event.seq
        self.subscriber = subscriber
        stats.delivered += 1
        subscriber.continuation.yield(.event(event))
    }
}


/// A one-shot reply slot: completed once by the client, awaited by the caller.
final class ReplyFuture: Sendable {
    private struct State {
        var result: Result<JSONValue, any Error>?
        var waiters: [CheckedContinuation<JSONValue, any Error>] = []
    }
    private let state = Mutex(State())

    func complete(_ result: Result<JSONValue, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<JSONValue, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    func value() async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            let result = state.withLock { state -> Result<JSONValue, any Error>? in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }
}

/// A weak reference to the client for the connection's reader (the client owns the connection, not the reverse).
private final class WeakClient: Sendable {
    nonisolated(unsafe) weak var client: SyncClient?
    init(_ client: SyncClient) { self.client = client }
}
