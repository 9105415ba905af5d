import Foundation
import Synchronization
import HummingbirdWebSocket
import Logging
import MarksyncCore
import MarksyncStore
import NIOCore
import NIOWebSocket

/// One WebSocket connection speaking the sync protocol (seed-compatible, with the extensions).
///
/// The reader loop handles one message at a time and writes its reply; a pump task writes the
/// subscription's events (live, or read from the log while catching up). Writes from both go through
/// the WebSocket's own serialised writer.
final class SyncConnection: Sendable {
    let id = RandomID.make()
    let server: SyncServer
    let document: String
    let name: String
    let outbound: WebSocketOutboundWriter
    let logger: Logger
    private let mutable: Mutex<State>

    private struct State {
        var identity: Identity?
        /// Durable consumers this connection subscribed as (it may move their cursors).
        var consumers: Set<String> = []
        var limiter: RateLimiter
        var pump: Task<Void, Never>?
        var sender: String?
    }

    init(server: SyncServer, document: String, name: String, identity: Identity?, outbound: WebSocketOutboundWriter, logger: Logger) {
        self.server = server
        self.document = document
        self.name = name
        self.outbound = outbound
        self.logger = logger
        mutable = Mutex(State(identity: identity, limiter: RateLimiter(rate: server.configuration.rateLimit, burst: server.configuration.rateBurst)))
    }

    var identity: Identity? { mutable.withLock { $0.identity } }

    func send(_ text: String) async {
        do { try await outbound.write(.text(text)) } catch { logger.debug("write failed: \(error)") }
    }

    /// Sends a text frame whose payload is already in a buffer (a broadcast, shared by its subscribers).
    func send(frame payload: ByteBuffer) async {
        do { try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: payload))) } catch {
            logger.debug("write failed: \(error)")
        }
    }

    // MARK: - Lifecycle

    /// Runs the connection until the client leaves.
    func run(inbound: WebSocketInboundStream) async {
        server.metrics.connectionOpened()
        defer { server.metrics.connectionClosed() }
        let outbound = self.outbound
        let closer: ConnectionRegistry.Closer = { try? await outbound.close(.goingAway, reason: "the server is shutting down") }
        let open = server.openConnections.register(id, closer: closer)
        defer { server.openConnections.remove(id) }
        guard open else {
            try? await outbound.close(.goingAway, reason: "the server is shutting down")
            return
        }
        if let hub = await server.hub(for: document) {
            if identity != nil {
                let (subscription, manifest) = await hub.attachLive(
                    connectionID: id, excludeOwn: true, limit: server.configuration.subscriberQueue)
                await send(manifest)
                startPump(subscription, announceCaughtUp: false)
            } else {
                await send(Wire.error("unauthorized", "this server needs a token: connect with ?token=… or send {type: \"hello\", token: …}"))
                closeUnlessAuthenticated(after: server.configuration.connections.headerTimeout)  // Connections/AuthDeadline.swift
            }
        } else {
            await send(Wire.error("unknown_document", "there is no document \(document) on this server"))
            return
        }
        // A reader task queues the frames; this loop takes what has arrived and handles it in order, so the
        // writes a client sent without waiting (pipelined) are stored in one append and acked in order.
        let inbox = Inbox()
        await ConnectionRegistry.endingAtShutdown(closer) { await handle(inbound: inbound, inbox: inbox) }
    }

    /// Reads the client's frames and handles them in order, until the client (or the server) closes.
    private func handle(inbound: WebSocketInboundStream, inbox: Inbox) async {
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                do {
                    // The WebSocket layer allows big frames; oversized messages are refused here, with a reason.
                    for try await message in inbound.messages(maxSize: server.configuration.maxMessageBytes * 4 + 1024) {
                        switch message {
                        case .text(let text): await inbox.push(Array(text.utf8))
                        case .binary(let buffer): await inbox.push(Array(buffer.readableBytesView))  // the seed accepted JSON in binary frames
                        }
                    }
                } catch {
                    logger.debug("connection \(id) ended: \(error)")
                }
                inbox.finish()
            }
            while let batch = await inbox.take() { await handle(batch) }
        }
        mutable.withLock { $0.pump?.cancel() }
        await server.hub(for: document)?.remove(id)
    }

    private func startPump(_ subscription: Subscription, announceCaughtUp: Bool) {
        let task = Task { [self] in await pump(subscription, announceCaughtUp: announceCaughtUp) }
        let old = mutable.withLock { state -> Task<Void, Never>? in
            let old = state.pump
            state.pump = task
            return old
        }
        old?.cancel()
    }

    /// Stops the current feed and waits until it has written its last message.
    private func stopPump() async {
        let old = mutable.withLock { $0.pump.take() }
        old?.cancel()
        await old?.value
    }

    /// Writes live events, and reads the log when the subscription is behind.
    private func pump(_ subscription: Subscription, announceCaughtUp: Bool) async {
        var announce = announceCaughtUp
        while !Task.isCancelled {
            switch await subscription.next() {
            case .closed:
                return
            case .event(_, let frame):
                await send(frame: frame)
                server.metrics.delivered()
            case .catchUp(let after):
                do {
                    var state = try await server.log.state(document, at: after)
                    while !Task.isCancelled {
                        let page = try await server.log.events(document, after: state.seq, limit: 512)
                        if page.isEmpty {
                            if subscription.goLive(at: state.seq) { break }
                            continue
                        }
                        for event in page {
                            if Task.isCancelled { return }
                            await send(try Wire.applyForSubscribers(event, to: &state))
                            server.metrics.delivered()
                        }
                    }
                    if announce, !Task.isCancelled {
                        announce = false
                        await send(Wire.message("caught_up", ["seq": .int(state.seq), "doc": .string(document)]))
                    }
                } catch {
                    if Task.isCancelled { return }
                    await send(Wire.error("subscription_failed", "reading the log failed: \(error); resubscribe"))
                    return
                }
            }
        }
    }

    // MARK: - Messages

    /// What a message is, once parsed and checked.
    enum Parsed {
        /// Answered already (a refusal), or nothing to answer.
        case reply(String?)
        /// A write, ready to be appended.
        case write(PreparedWrite)
        /// Any other message, handled by ``dispatch(_:_:)``.
        case other(type: String, json: JSONValue)
    }

    /// A write request with what its reply needs.
    struct PreparedWrite {
        var type: String
        var blockID: String
        /// The id as the client sent it (the request holds it scoped to the writer).
        var messageID: String?
        var request: WriteRequest
        /// A `full`/`merge` as the seed's clients send it (no `id`, `base_seq` or `base_sha`): its content is
        /// the block's stripped text (``SeedContent``).
        var seedStyle = false
        /// `prose`: the segment's index, and the text the writer based its edit on, when it said.
        var proseIndex: Int?
        var proseOld: String?
    }

    /// Handles messages that arrived together, in order, sending each reply. Consecutive writes are stored with
    /// one append (one transaction, in order: each is checked against the ones before it, as if sent one by
    /// one); any other message waits until the writes before it are acked.
    func handle(_ batch: [[UInt8]]) async {
        var writes = [PreparedWrite]()
        for bytes in batch {
            switch parse(bytes) {
            case .write(let prepared):
                writes.append(prepared)
            case .reply(let reply):
                await flush(&writes)
                if let reply { await send(reply) }
            case .other(let type, let json):
                await flush(&writes)
                if let reply = await dispatchCatching(type, json) { await send(reply) }
            }
        }
        await flush(&writes)
    }

    private func flush(_ writes: inout [PreparedWrite]) async {
        if writes.isEmpty { return }
        for reply in await commit(writes) { await send(reply) }
        writes.removeAll()
    }

    /// Handles one message and returns the reply to send back, if any.
    func handle(_ bytes: [UInt8]) async -> String? {
        switch parse(bytes) {
        case .reply(let reply): return reply
        case .write(let prepared): return await commit([prepared])[0]
        case .other(let type, let json): return await dispatchCatching(type, json)
        }
    }

    /// Parses and checks a message; a write becomes a request.
    func parse(_ bytes: [UInt8]) -> Parsed {
        server.metrics.received()
        let allowed = mutable.withLock { $0.limiter.allow() }
        guard allowed else {
            server.metrics.nack("rate_limited")
            return .reply(Wire.error("rate_limited", "too many messages; slow down (limit \(Int(server.configuration.rateLimit))/s)"))
        }
        guard bytes.count <= server.configuration.maxMessageBytes else {
            server.metrics.nack("too_large")
            return .reply(Wire.error("too_large", "message of \(bytes.count) bytes is over the limit of \(server.configuration.maxMessageBytes)"))
        }
        guard let json = JSONValue.parse(bytes) else {
            server.metrics.nack("bad_json")
            return .reply(Wire.error("bad_json", "the message is not JSON"))
        }
        guard case .object = json else {
            server.metrics.nack("bad_message")
            return .reply(Wire.error("bad_message", "a message must be a JSON object with a type"))
        }
        guard let type = json["type"]?.stringValue else {
            server.metrics.nack("bad_message")
            return .reply(Wire.error("bad_message", "the message has no string field type"))
        }
        switch type {
        case "patch", "full", "merge", "create", "delete", "prose":
            do {
                try require(.write)
                return .write(try prepareWrite(type, json))
            } catch let error as ProtocolFailure {
                server.metrics.nack(error.reason)
                return .reply(Wire.nack(json["block_id"]?.stringValue, error.reason, error.message))
            } catch {
                server.metrics.nack("internal")
                return .reply(Wire.nack(json["block_id"]?.stringValue, "internal", "the server could not handle this message: \(error)"))
            }
        default:
            return .other(type: type, json: json)
        }
    }

    private func dispatchCatching(_ type: String, _ json: JSONValue) async -> String? {
        do {
            return try await dispatch(type, json)
        } catch let error as ProtocolFailure {
            server.metrics.nack(error.reason)
            return Wire.nack(json["block_id"]?.stringValue, error.reason, error.message)
        } catch {
            server.metrics.nack("internal")
            logger.error("message failed: \(error)")
            return Wire.nack(json["block_id"]?.stringValue, "internal", "the server could not handle this message: \(error)")
        }
    }

    struct ProtocolFailure: Error {
        var reason: String
        var message: String
    }

    @discardableResult
    private func require(_ needed: TokenScope) throws -> Identity {
        guard let identity else {
            throw ProtocolFailure(reason: "unauthorized", message: "present a token first (?token=…, Authorization: Bearer, or hello)")
        }
        do { try identity.require(needed) } catch { throw ProtocolFailure(reason: error.reason.rawValue, message: error.message) }
        return identity
    }

    private func string(_ json: JSONValue, _ key: String) throws -> String {
        guard let value = json[key] else { throw ProtocolFailure(reason: "bad_message", message: "field \(key) is missing") }
        guard let text = value.stringValue else { throw ProtocolFailure(reason: "bad_message", message: "field \(key) must be a string") }
        return text
    }

    private func optionalString(_ json: JSONValue, _ key: String) throws -> String? {
        guard let value = json[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw ProtocolFailure(reason: "bad_message", message: "field \(key) must be a string") }
        return text
    }

    /// A non-negative integer field. Capped at 2^53 (JSON's exact integers): seqs, cursors, limits and indexes
    /// are far below it, and no arithmetic on a value from the wire (`since + 1`) can overflow.
    private func optionalInt(_ json: JSONValue, _ key: String) throws -> Int? {
        guard let value = json[key], value != .null else { return nil }
        guard let number = value.intValue, number >= 0 else {
            throw ProtocolFailure(reason: "bad_message", message: "field \(key) must be a non-negative integer")
        }
        guard number <= Wire.maxInteger else {
            throw ProtocolFailure(reason: key.contains("seq") || key == "since" || key == "at" ? "bad_seq" : "bad_message", message: "field \(key) is out of range (at most 2^53)")
        }
        return number
    }

    private func dispatch(_ type: String, _ json: JSONValue) async throws -> String? {
        switch type {
        case "hello":
            let token = try optionalString(json, "token")
            let presented: Identity?
            do { presented = try server.access.identity(token: token) } catch {
                throw ProtocolFailure(reason: error.reason.rawValue, message: error.message)
            }
            // A hello without a token keeps the identity the connection has (from its upgrade request).
            let hadScope = mutable.withLock { state -> Bool in
                let had = state.identity != nil
                if let presented { state.identity = presented }
                state.sender = try? optionalString(json, "name")
                return had
            }
            guard let identity else { throw ProtocolFailure(reason: "unauthorized", message: "present a token: {type: \"hello\", token: …}") }
            if !hadScope, let hub = await server.hub(for: document) {
                let (subscription, manifest) = await hub.attachLive(
                    connectionID: id, excludeOwn: true, limit: server.configuration.subscriberQueue)
                startPump(subscription, announceCaughtUp: false)
                return manifest
            }
            return Wire.message("hello", ["scope": .string("\(identity.scope)")])

        case "patch", "full", "merge", "create", "delete", "prose":
            try require(.write)
            return await commit([try prepareWrite(type, json)])[0]

        case "review", "deploy":
            try require(.write)
            return try await record(type, json)

        case "get_snapshot":
            try require(.read)
            let at = try optionalInt(json, "at")
            let state = try await stateAt(at)
            return Wire.message("snapshot", ["markdown": .string(state.render()), "seq": .int(state.seq), "doc": .string(document)])

        case "get_block":
            try require(.read)
            let blockID = try string(json, "block_id")
            let state = try await stateAt(try optionalInt(json, "at"))
            let block = state.block(blockID)
            return Wire.message(
                "full",
                [
                    "block_id": .string(blockID), "content": .string(block?.content ?? ""), "sha": block.map { .string($0.sha256) } ?? .null,
                    "seq": .int(block?.versionSeq ?? state.seq), "exists": .bool(block != nil),
                ])

        case "subscribe":
            try require(.read)
            var since = try optionalInt(json, "since")
            if let consumer = try optionalString(json, "consumer") {
                since = try await server.log.cursor(document: document, consumer: consumer) ?? since ?? 0
            }
            let head = try await server.log.headSeq(document)
            let cursor = since ?? head
            guard cursor <= head else {
                throw ProtocolFailure(reason: "bad_cursor", message: "cursor \(cursor) is past the head \(head); resnapshot with get_snapshot")
            }
            guard let hub = await server.hub(for: document) else { throw ProtocolFailure(reason: "unknown_document", message: document) }
            let subscription = await hub.attachCatchingUp(connectionID: id, cursor: cursor, limit: server.configuration.subscriberQueue)
            // The previous feed must have written its last message before `subscribed`, and the new one
            // starts after it: so a client counts every event after `subscribed` as part of this
            // subscription (no stray live event of the old feed between catch-up events).
            await stopPump()
            await send(Wire.message("subscribed", ["since": .int(cursor), "head": .int(head), "doc": .string(document)]))
            startPump(subscription, announceCaughtUp: true)
            return nil

        case "cursor":
            let identity = try require(.read)
            let consumer = try string(json, "consumer")
            guard let seq = try optionalInt(json, "seq") else { throw ProtocolFailure(reason: "bad_message", message: "field seq is missing") }
            try await requireOwnership(of: consumer, identity)
            do { try await server.log.setCursor(document: document, consumer: consumer, seq: seq, owner: identity.principal) } catch {
                throw ProtocolFailure(reason: "bad_cursor", message: error.message)
            }
            return Wire.message("cursor", ["consumer": .string(consumer), "seq": .int(seq), "ok": .bool(true)])

        case "get_log":
            try require(.read)
            let since = try optionalInt(json, "since") ?? 0
            let limit = min(try optionalInt(json, "limit") ?? 100, 1000)
            let blockID = try optionalString(json, "block_id")
            let events = try await server.log.history(document, filter: HistoryFilter(block: blockID, from: since + 1, limit: limit))
            return Wire.message(
                "log", ["events": .array(events.map(Wire.record)), "doc": .string(document), "head": .int(try await server.log.headSeq(document))])

        default:
            throw ProtocolFailure(reason: "unknown_type", message: "unknown message type \(type.debugDescription)")
        }
    }

    /// A durable consumer belongs to the identity that made it: another token's cursor needs admin. A consumer
    /// made before owners were recorded (or on a server without tokens) is taken over by the first writer.
    private func requireOwnership(of consumer: String, _ identity: Identity) async throws {
        guard identity.scope < .admin, let principal = identity.principal else { return }
        let owner: String??
        do { owner = try await server.log.consumerOwner(document: document, consumer: consumer) } catch {
            throw ProtocolFailure(reason: "storage", message: error.message)
        }
        switch owner {
        case .none: return
        case .some(.none) where identity.scope >= .write: return
        case .some(let stored) where stored == principal: return
        default:
            throw ProtocolFailure(reason: "forbidden", message: "consumer \(consumer.debugDescription) belongs to another token; moving its cursor needs admin")
        }
    }

    /// A client's message id, scoped to the writer's identity (its token, or its author on a server without
    /// tokens): nobody can claim another writer's ids to have its writes answered `duplicate`.
    private func scopedMessageID(_ id: String?, author: String) -> String? {
        MessageIDScope.scoped(id, principal: identity?.principal, author: author)
    }

    private func stateAt(_ at: Int?) async throws -> DocumentState {
        do {
            if let at { return try await server.log.state(document, at: at) }
            return try await server.log.head(document)
        } catch {
            throw ProtocolFailure(reason: error.code == .seqOutOfRange ? "bad_seq" : "internal", message: error.message)
        }
    }

    /// review / deploy → a review note or deploy result event (they never change the document text).
    private func record(_ type: String, _ json: JSONValue) async throws -> String {
        let body: EventBody
        var blockID: String?
        if type == "review" {
            let id = try string(json, "block_id")
            blockID = id
            guard let blockSeq = try optionalInt(json, "block_seq") else {
                throw ProtocolFailure(reason: "bad_message", message: "field block_seq (the seq of the reviewed version) is missing")
            }
            let reviewed = try await stateAt(blockSeq).block(id)
            guard let reviewed else {
                throw ProtocolFailure(reason: "unknown_block", message: "block \(id) does not exist at seq \(blockSeq)")
            }
            if let sha = try optionalString(json, "sha"), sha != reviewed.sha256 {
                throw ProtocolFailure(reason: "hash_mismatch", message: "block \(id) at seq \(blockSeq) has sha256 \(reviewed.sha256), not \(sha)")
            }
            body = .reviewNote(
                ReviewNote(
                    blockID: id, blockSeq: reviewed.versionSeq, blockSHA256: reviewed.sha256,
                    verdict: try optionalString(json, "verdict") ?? "note", text: try string(json, "text")))
        } else {
            let head = try await server.log.headSeq(document)
            let documentSeq = try optionalInt(json, "document_seq") ?? head
            guard documentSeq <= head else {
                throw ProtocolFailure(reason: "bad_seq", message: "document_seq \(documentSeq) is past the head \(head)")
            }
            var exitCode: Int?
            if let value = json["exit_code"], value != .null {
                guard let code = value.intValue else { throw ProtocolFailure(reason: "bad_message", message: "field exit_code must be an integer or null") }
                exitCode = code
            }
            body = .deployResult(
                DeployResult(
                    documentSeq: documentSeq, command: try optionalString(json, "command") ?? "",
                    startedMs: Int64(try optionalInt(json, "started_ms") ?? 0), durationMs: Int64(try optionalInt(json, "duration_ms") ?? 0),
                    exitCode: exitCode, outputTail: try optionalString(json, "output_tail") ?? ""))
        }
        let sender = try optionalString(json, "sender") ?? mutable.withLock { $0.sender } ?? name
        let author = sender.isEmpty ? name : sender
        let messageID = try optionalString(json, "id")
        var request = WriteRequest(document: document, author: author, change: .event(body), clientMessageID: scopedMessageID(messageID, author: author))
        request.origin = id
        let outcome: WriteOutcome
        do { outcome = try await server.log.append(request) } catch {
            throw ProtocolFailure(reason: "storage", message: "the log could not store the \(type): \(error.message)")
        }
        switch outcome {
        case .appended(let event, _), .duplicate(let event):
            var fields: [String: JSONValue] = ["seq": .int(event.seq), "kind": .string(type)]
            if let blockID { fields["block_id"] = .string(blockID) }
            if let messageID { fields["id"] = .string(messageID) }
            if case .duplicate = outcome { fields["duplicate"] = .bool(true) }
            server.metrics.ack()
            return Wire.message("ack", fields)
        case .rejected(let error, _):
            var extra: [String: JSONValue] = [:]
            if let messageID { extra["id"] = .string(messageID) }
            server.metrics.nack(error.code)
            return Wire.nack(blockID, error.code, error.message, extra: extra)
        }
    }

    /// patch / full / merge / create / delete / prose → a write request (checked, not yet stored).
    private func prepareWrite(_ type: String, _ json: JSONValue) throws -> PreparedWrite {
        if type == "prose" { return try prepareProse(json) }
        let blockID = try string(json, "block_id")
        let change: Change
        switch type {
        case "patch":
            change = .patch(blockID: blockID, patch: try string(json, "patch"), expectedSHA256: try optionalString(json, "sha"))
        case "full", "merge":
            change = .full(blockID: blockID, content: try string(json, "content"))
        case "create":
            let index = try optionalInt(json, "index")
            var header: BlockHeader?
            if let kind = try optionalString(json, "kind") {
                let lang = try optionalString(json, "lang") ?? "text"
                let meta = try optionalString(json, "meta") ?? ""
                let opening = "```\(lang) markpact:\(kind)" + (meta.isEmpty ? "" : " \(meta)")
                let parsed = MarkpactDocument(parsing: opening + "\n```\n").blocks.first
                guard let parsed, parsed.id == blockID else {
                    throw ProtocolFailure(reason: "bad_block_id", message: "kind/lang/meta give the id \(parsed?.id ?? "none"), not \(blockID)")
                }
                header = BlockHeader(parsed)
            }
            change = .create(blockID: blockID, index: index, header: header, content: try optionalString(json, "content") ?? "")
        default:
            change = .delete(blockID: blockID)
        }
        let sender = try optionalString(json, "sender") ?? mutable.withLock { $0.sender } ?? name
        let author = sender.isEmpty ? name : sender
        let messageID = try optionalString(json, "id")
        var request = WriteRequest(
            document: document, author: author, change: change, clientMessageID: scopedMessageID(messageID, author: author),
            baseSeq: try optionalInt(json, "base_seq"), baseSHA256: try optionalString(json, "base_sha"))
        request.origin = id
        var prepared = PreparedWrite(type: type, blockID: blockID, messageID: messageID, request: request)
        prepared.seedStyle = ["full", "merge", "patch"].contains(type) && json["id"] == nil && json["base_seq"] == nil && json["base_sha"] == nil
        return prepared
    }

    /// `prose {index, text, old?, id?}`: replaces the text between two blocks (segment `index`: 0 is before
    /// the first block, n after the last). With `old`, the segment must still hold it (else `nack conflict`
    /// with the current text). The seed's clients never send it and ignore the `prose` broadcast.
    private func prepareProse(_ json: JSONValue) throws -> PreparedWrite {
        guard let index = try optionalInt(json, "index") else { throw ProtocolFailure(reason: "bad_message", message: "field index is missing") }
        let text = try string(json, "text")
        let sender = try optionalString(json, "sender") ?? mutable.withLock { $0.sender } ?? name
        let author = sender.isEmpty ? name : sender
        let messageID = try optionalString(json, "id")
        var request = WriteRequest(
            document: document, author: author, change: .event(.proseEdited(index: index, text: text)),
            clientMessageID: scopedMessageID(messageID, author: author), baseSeq: try optionalInt(json, "base_seq"))
        request.origin = id
        var prepared = PreparedWrite(type: "prose", blockID: "", messageID: messageID, request: request)
        prepared.proseIndex = index
        prepared.proseOld = try optionalString(json, "old")
        return prepared
    }

    /// Writes answered without appending, checked against the head: a seed client's `full` whose content is
    /// the block's stripped text (what the seed's parser sees) changes nothing, so it stores nothing and is
    /// acked with the block's current version (a `full` that does change the block is stored as sent). A
    /// seed client's `patch` made against the stripped block (its sha is of the stripped result) is applied
    /// there and stored with the block's surrounding whitespace kept. A `prose` write whose `old` no longer
    /// matches, or whose text would change the blocks when the file is parsed again, is refused.
    private func precheck(_ writes: inout [PreparedWrite]) async -> [Int: String] {
        let needsHead = writes.contains { write in
            if write.type == "prose" { return true }
            guard write.seedStyle else { return false }
            switch write.request.change {
            case .full(_, let content): return !SeedContent.differs(content)
            case .patch(_, _, let sha): return sha != nil
            default: return false
            }
        }
        guard needsHead, let head = try? await server.log.head(document) else { return [:] }
        var answered = [Int: String]()
        var touched = Set<String>()
        for index in writes.indices {
            let write = writes[index]
            if write.type == "prose", let segment = write.proseIndex, case .event(let body) = write.request.change {
                var extra: [String: JSONValue] = [:]
                if let messageID = write.messageID { extra["id"] = .string(messageID) }
                guard segment < head.prose.count else {
                    server.metrics.nack("bad_index")
                    answered[index] = Wire.nack(nil, "bad_index", "prose segment \(segment) does not exist (0…\(head.prose.count - 1))", extra: extra)
                    continue
                }
                if let old = write.proseOld, old != head.prose[segment] {
                    extra["text"] = .string(head.prose[segment])
                    extra["seq"] = .int(head.seq)
                    server.metrics.nack("conflict")
                    answered[index] = Wire.nack(nil, "conflict", "prose segment \(segment) changed since the writer read it", extra: extra)
                    continue
                }
                var scratch = head
                let reparsed: MarkpactDocument? = (try? scratch.apply(body, seq: head.seq + 1)).map { MarkpactDocument(parsing: scratch.render()) }
                if let reparsed, reparsed.blocks.map(\.id) != scratch.blocks.map(\.id) || reparsed.prose.count != scratch.prose.count {
                    server.metrics.nack("bad_prose")
                    answered[index] = Wire.nack(
                        nil, "bad_prose", "prose segment \(segment) would open or close a markpact block (a fence line): send it as a block write",
                        extra: extra)
                }
                continue
            }
            // A seed client's patch is made against the stripped block and its sha is of the stripped result.
            if write.seedStyle, case .patch(let blockID, let patchText, let sha?) = write.request.change, !touched.contains(blockID),
                let block = head.block(blockID)
            {
                touched.insert(blockID)
                let stored = block.content
                guard SeedContent.differs(stored) else { continue }
                let dmp = DiffMatchPatch()
                guard let patches = try? dmp.patchFromText(patchText) else { continue }
                let result = dmp.patchApply(patches, to: SeedContent.strip(stored))
                if result.applied.allSatisfy({ $0 }), SHA256.hexDigest(of: result.text) == sha {
                    writes[index].request.change = .full(blockID: blockID, content: SeedContent.rewrap(result.text, like: stored))
                }
                continue
            }
            guard write.seedStyle, case .full(let blockID, let content) = write.request.change, !touched.contains(blockID) else {
                if let blockID = write.request.change.blockID { touched.insert(blockID) }
                continue
            }
            touched.insert(blockID)
            guard !SeedContent.differs(content), let block = head.block(blockID) else { continue }
            let stored = block.content
            guard SeedContent.differs(stored) else { continue }
            if content == SeedContent.strip(stored) {
                var fields: [String: JSONValue] = [
                    "block_id": .string(blockID), "seq": .int(block.versionSeq), "sha": .string(block.sha256), "unchanged": .bool(true),
                ]
                if write.type == "merge" { fields["merged"] = .bool(true) }
                server.metrics.ack()
                answered[index] = Wire.message("ack", fields)
            }
            // A real change is stored as sent (lossless; the seed's client replaces the whole block).
        }
        return answered
    }

    /// Stores writes with one append (in order) and returns their replies (ack or nack), in order.
    private func commit(_ prepared: [PreparedWrite]) async -> [String] {
        var checked = prepared
        let answered = await precheck(&checked)
        let writes = checked.indices.filter { answered[$0] == nil }.map { checked[$0] }
        var replies = [String]()
        if !writes.isEmpty {
            let started = ContinuousClock.now
            do {
                let outcomes = try await server.log.append(writes.map(\.request))
                let elapsed = ContinuousClock.now - started
                replies = zip(writes, outcomes).map { write, outcome in
                    server.metrics.commit(elapsed)
                    return reply(to: write, outcome)
                }
            } catch {
                replies = writes.map { write in
                    server.metrics.nack("storage")
                    return Wire.nack(write.type == "prose" ? nil : write.blockID, "storage", "the log could not store the change: \(error.message)")
                }
            }
        }
        if answered.isEmpty { return replies }
        var merged = [String]()
        var next = replies.makeIterator()
        for index in checked.indices { merged.append(answered[index] ?? next.next() ?? "") }
        return merged
    }

    private func reply(to write: PreparedWrite, _ outcome: WriteOutcome) -> String {
        let (type, blockID, messageID) = (write.type, write.blockID, write.messageID)
        switch outcome {
        case .appended(let event, _), .duplicate(let event):
            var fields: [String: JSONValue] = ["block_id": .string(blockID), "seq": .int(event.seq)]
            if type == "prose" {
                fields["block_id"] = nil
                fields["index"] = write.proseIndex.map { .int($0) }
                fields["kind"] = .string("prose")
            }
            if let messageID { fields["id"] = .string(messageID) }
            if case .duplicate = outcome { fields["duplicate"] = .bool(true) }
            if case .appended(_, true) = outcome { fields["rebased"] = .bool(true) }
            if type == "merge" { fields["merged"] = .bool(true) }
            switch event.body {
            case .blockPatched(_, _, _, let sha?): fields["sha"] = .string(sha)
            case .blockReplaced(_, let content): fields["sha"] = .string(SHA256.hexDigest(of: content))
            case .blockCreated(let created): fields["sha"] = .string(SHA256.hexDigest(of: created.content))
            default: break
            }
            server.metrics.ack()
            return Wire.message("ack", fields)
        case .rejected(let error, let current):
            var extra: [String: JSONValue] = [:]
            if let current {
                extra["content"] = .string(current.content)
                extra["sha"] = .string(current.sha256)
                extra["seq"] = .int(current.seq)
            }
            if let messageID { extra["id"] = .string(messageID) }
            server.metrics.nack(error.code)
            return Wire.nack(type == "prose" ? nil : blockID, error.code, error.message, extra: extra)
        }
    }
}

/// The frames a connection has received and not handled yet. The reader waits when too many (or too many
/// bytes) are queued (back-pressure to the client through TCP); the handler takes everything queued at once.
final class Inbox: Sendable {
    private struct State {
        var queue: [[UInt8]] = []
        var bytes = 0
        var finished = false
        var taker: CheckedContinuation<Void, Never>?
        var pusher: CheckedContinuation<Void, Never>?
        /// The reader must wait until the handler takes some.
        var isFull: Bool { queue.count >= Inbox.limit || bytes >= Inbox.byteLimit }
    }
    static let limit = 256
    /// The reader also waits while this many bytes are queued (frames may be up to 4 MiB before being refused).
    static let byteLimit = 8 << 20
    private let state = Mutex(State())

    func push(_ bytes: [UInt8]) async {
        let (taker, full) = state.withLock { state in
            state.queue.append(bytes)
            state.bytes += bytes.count
            return (state.taker.take(), state.isFull)
        }
        taker?.resume()
        // Suspends only when the queue is full (a suspension costs a task switch per message).
        guard full else { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if !state.isFull { return true }
                state.pusher = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func finish() {
        let taker = state.withLock { state in
            state.finished = true
            return state.taker.take()
        }
        taker?.resume()
    }

    /// Everything queued (up to ``limit``), or nil when the reader finished and nothing is left.
    func take() async -> [[UInt8]]? {
        while true {
            let (batch, pusher, done) = state.withLock { state -> ([[UInt8]], CheckedContinuation<Void, Never>?, Bool) in
                if state.queue.isEmpty { return ([], nil, state.finished) }
                let count = min(state.queue.count, Self.limit)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                state.bytes -= batch.reduce(0) { $0 + $1.count }
                return (batch, state.pusher.take(), false)
            }
            pusher?.resume()
            if !batch.isEmpty { return batch }
            if done { return nil }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || state.finished { return true }
                    state.taker = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
