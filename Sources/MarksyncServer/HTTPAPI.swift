import Foundation
import HTTPTypes
import Hummingbird
import MarksyncCore
import MarksyncStore
import NIOCore

/// The HTTP API (contract §5), on the same port as the sync socket.
struct HTTPAPI: Sendable {
    let server: SyncServer

    struct Failure: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: value.text + "\n")))
    }

    static func text(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func failure(_ failure: Failure) -> Response {
        json(["error": ["code": .string(failure.code), "message": .string(failure.message)]], status: failure.status)
    }

    /// Runs a handler when the request's identity (set by ``AccessMiddleware``) has `needed`; errors as JSON,
    /// never a stack trace.
    func guarded(
        _ context: some IdentifiedRequestContext, _ needed: TokenScope, _ body: @Sendable @escaping () async throws -> Response
    ) async -> Response {
        server.metrics.httpRequest()
        do { _ = try context.require(needed) } catch { return error.response }
        do {
            return try await body()
        } catch let failure as Failure {
            return Self.failure(failure)
        } catch let error as StoreError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .unknownDocument: .notFound
                case .seqOutOfRange: .badRequest
                default: .internalServerError
                }
            return Self.failure(Failure(status: status, code: error.code.rawValue, message: error.message))
        } catch {
            return Self.failure(Failure(status: .internalServerError, code: "internal", message: "\(error)"))
        }
    }

    func document(_ context: some RequestContext) async throws -> String {
        guard let name = context.parameters.get("doc")?.removingPercentEncoding, server.documents.contains(name) else {
            throw Failure(status: .notFound, code: "unknown_document", message: "no such document; GET /api/v1/docs lists them")
        }
        return name
    }

    func blockID(_ context: some RequestContext) throws -> String {
        guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else {
            throw Failure(status: .badRequest, code: "bad_block_id", message: "the block id is missing")
        }
        return id
    }

    func seqParameter(_ request: Request, _ name: String) throws -> Int? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(raw), value >= 0, value <= Wire.maxInteger else {
            throw Failure(status: .badRequest, code: "bad_parameter", message: "\(name) must be a non-negative integer (at most 2^53)")
        }
        return value
    }

    func state(_ document: String, at: Int?) async throws -> DocumentState {
        if let at {
            let head = try await server.log.headSeq(document)
            guard at <= head else { throw Failure(status: .badRequest, code: "bad_seq", message: "\(document) has events 1…\(head)") }
            return try await server.log.state(document, at: at)
        }
        return try await server.log.head(document)
    }

    static func blockJSON(_ block: DocumentState.Block, content: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "block_id": .string(block.id), "kind": .string(block.header.kind), "lang": .string(block.header.lang),
            "path": block.header.path.map { .string($0) } ?? .null, "size": .int(block.content.utf8.count), "sha256": .string(block.sha256),
            "seq": .int(block.versionSeq),
        ]
        if content { object["content"] = .string(block.content) }
        return .object(object)
    }

    func register(on router: Router<MarksyncRequestContext>) {
        // The API's description, open like the control API's (it holds no data).
        router.get("/openapi.json") { _, _ in
            server.metrics.httpRequest()
            return Self.json(OpenAPIDocument.document)
        }
        router.get("/docs") { _, _ in
            server.metrics.httpRequest()
            return Self.text(OpenAPIDocument.htmlPage, type: "text/html; charset=utf-8")
        }
        router.get("/health") { request, context in
            await guarded(context, .read) {
                let figures = await server.documentFigures()
                let problems = server.healthProblems()
                return Self.json([
                    "status": .string(problems.isEmpty ? "ok" : "degraded"), "problems": .array(problems.map { .string($0.description) }),
                    "notes": .array(server.healthNotes().map { .string($0.description) }),
                    "version": .string(MarksyncVersion.tool), "docs": .array(figures.map { .string($0.name) }),
                    "seq": .int(figures.first?.seq ?? 0), "blocks": .int(figures.first?.blocks ?? 0), "clients": .int(server.metrics.connections),
                ])
            }
        }
        router.get("/metrics") { request, context in
            await guarded(context, .read) {
                let figures = await server.documentFigures()
                let stats = try? await server.log.stats()
                let text = server.metrics.render(
                    documents: figures.map { ($0.name, $0.seq, $0.lag) }, logBytes: (stats?.fileBytes ?? 0) + (stats?.walBytes ?? 0),
                    checkpoints: stats?.checkpoints ?? 0)
                return Self.text(text, type: "text/plain; version=0.0.4")
            }
        }
        router.get("/api/v1/docs") { request, context in
            await guarded(context, .read) {
                let figures = await server.documentFigures()
                return Self.json(.array(figures.map { ["name": .string($0.name), "seq": .int($0.seq), "blocks": .int($0.blocks)] }))
            }
        }
        router.get("/api/v1/docs/:doc") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let head = try await server.log.head(document)
                return Self.json([
                    "name": .string(document), "seq": .int(head.seq), "blocks": .int(head.blocks.count),
                    "bytes": .int(head.render().utf8.count),
                ])
            }
        }
        router.get("/api/v1/docs/:doc/blocks") { request, context in
            await guarded(context, .read) {
                let state = try await state(try await document(context), at: try seqParameter(request, "at"))
                // `?content=true` includes each block's content (one request for a whole document).
                let content = request.uri.queryParameters.get("content").map { $0 == "true" || $0 == "1" } ?? false
                return Self.json(.array(state.blocks.map { Self.blockJSON($0, content: content) }))
            }
        }
        router.get("/api/v1/docs/:doc/blocks/:id") { request, context in
            await guarded(context, .read) {
                let state = try await state(try await document(context), at: try seqParameter(request, "at"))
                let id = try blockID(context)
                guard let block = state.block(id) else {
                    throw Failure(status: .notFound, code: "unknown_block", message: "no block \(id) at seq \(state.seq)")
                }
                return Self.json(Self.blockJSON(block, content: true), headers: [.eTag: "\"\(block.sha256)\""])
            }
        }
        router.put("/api/v1/docs/:doc/blocks/:id") { request, context in
            await guarded(context, .write) {
                let document = try await document(context)
                let id = try blockID(context)
                let buffer: ByteBuffer
                do { buffer = try await request.body.collect(upTo: server.configuration.maxMessageBytes) } catch {
                    throw Failure(status: .contentTooLarge, code: "too_large", message: "the content is over \(server.configuration.maxMessageBytes) bytes")
                }
                guard buffer.readableBytes <= server.configuration.maxMessageBytes else {
                    throw Failure(status: .contentTooLarge, code: "too_large", message: "the content is over \(server.configuration.maxMessageBytes) bytes")
                }
                var content = String(buffer: buffer)
                if request.headers[.contentType]?.hasPrefix("application/json") == true {
                    guard let json = JSONValue.parse(Array(buffer.readableBytesView)), let text = json["content"]?.stringValue else {
                        throw Failure(status: .badRequest, code: "bad_json", message: "send {\"content\": …} or a text/plain body")
                    }
                    content = text
                }
                let ifMatch = request.headers[.ifMatch]?.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                if let ifMatch, ifMatch != "*" {
                    let current = try await server.log.head(document).block(id)
                    guard let current, current.sha256 == ifMatch else {
                        throw Failure(status: .preconditionFailed, code: "conflict", message: "the block changed: its sha256 is \(current?.sha256 ?? "none")")
                    }
                }
                let author = request.headers[HTTPField.Name("X-Marksync-Author")!] ?? "http"
                var write = WriteRequest(document: document, author: author, change: .full(blockID: id, content: content), baseSHA256: ifMatch == "*" ? nil : ifMatch)
                write.clientMessageID = MessageIDScope.scoped(
                    request.headers[HTTPField.Name("Idempotency-Key")!], principal: context.identity?.principal, author: author)
                return try await Self.outcome(try await server.log.append(write), id: id)
            }
        }
        router.delete("/api/v1/docs/:doc/blocks/:id") { request, context in
            await guarded(context, .write) {
                let document = try await document(context)
                let id = try blockID(context)
                let ifMatch = request.headers[.ifMatch]?.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                let write = WriteRequest(document: document, author: request.headers[HTTPField.Name("X-Marksync-Author")!] ?? "http", change: .delete(blockID: id), baseSHA256: ifMatch)
                return try await Self.outcome(try await server.log.append(write), id: id)
            }
        }
        router.get("/api/v1/docs/:doc/markdown") { request, context in
            await guarded(context, .read) {
                let state = try await state(try await document(context), at: try seqParameter(request, "at"))
                return Self.text(state.render(), type: "text/markdown; charset=utf-8")
            }
        }
        router.get("/api/v1/docs/:doc/events") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let since = try seqParameter(request, "since") ?? 0
                let limit = min(try seqParameter(request, "limit") ?? 100, 1000)
                let block = request.uri.queryParameters.get("block").map { String($0) }
                let events = try await server.log.history(document, filter: HistoryFilter(block: block, from: since + 1, limit: limit))
                let head = try await server.log.headSeq(document)
                return Self.json(["events": .array(events.map(Wire.record)), "next": .int(events.last?.seq ?? since), "head": .int(head)])
            }
        }
        router.get("/api/v1/docs/:doc/events/stream") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let head = try await server.log.headSeq(document)
                let since = try seqParameter(request, "since") ?? head
                // Capped per document (Connections/EventStreamSlots.swift); the slot goes with the response.
                let limit = server.configuration.connections.maxEventStreamsPerDocument
                guard let slot = server.eventStreams.take(document, limit: limit) else {
                    throw Failure(status: .serviceUnavailable, code: "too_many_streams", message: "\(limit) event streams of \(document) are open; try again later")
                }
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                    body: ResponseBody { writer in
                        defer { withExtendedLifetime(slot) {} }
                        // A client that goes away cancels the stream (and frees its slot) even when no event comes.
                        let stream = EventStream(server: server, document: document, since: since)
                        if request.body.readsFromConnection {
                            try await request.body.consumeWithCancellationOnInboundClose { _ in try await stream.run(&writer) }
                        } else {
                            try await stream.run(&writer)
                        }
                    })
            }
        }
        router.get("/api/v1/docs/:doc/diff") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let head = try await server.log.headSeq(document)
                let from = try seqParameter(request, "from") ?? 0
                let to = try seqParameter(request, "to") ?? head
                guard from <= head, to <= head else { throw Failure(status: .badRequest, code: "bad_seq", message: "\(document) has events 1…\(head)") }
                let block = request.uri.queryParameters.get("block").map { String($0) }
                do {
                    return Self.text(try await server.log.diff(document, from: from, to: to, block: block), type: "text/x-diff; charset=utf-8")
                } catch let error as StoreError where error.code == .rejected {
                    throw Failure(status: .notFound, code: "unknown_block", message: error.message)
                }
            }
        }
        router.get("/api/v1/docs/:doc/blame/:id") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let id = try blockID(context)
                let at = try seqParameter(request, "at")
                if let at, at > (try await server.log.headSeq(document)) { throw Failure(status: .badRequest, code: "bad_seq", message: "past the head") }
                do {
                    let lines = try await server.log.blame(document, block: id, at: at)
                    return Self.json(
                        .array(lines.map { ["line": .int($0.line), "text": .string($0.text), "seq": .int($0.seq), "author": .string($0.author), "ts": .int(Int($0.ts))] }))
                } catch let error as StoreError where error.code == .rejected {
                    throw Failure(status: .notFound, code: "unknown_block", message: error.message)
                }
            }
        }
        router.get("/api/v1/docs/:doc/consumers") { request, context in
            await guarded(context, .read) {
                let document = try await document(context)
                let head = try await server.log.headSeq(document)
                let consumers = try await server.log.consumers(document: document)
                return Self.json(.array(consumers.map { ["name": .string($0.name), "seq": .int($0.seq), "lag": .int(head - $0.seq), "updated_ms": .int(Int($0.updatedMs))] }))
            }
        }
        router.get("/api/v1/docs/:doc/consumers/:name/view") { request, context in
            await guarded(context, .read) { try await consumerView(request, context) }
        }
        registerYjs(on: router)
    }

    /// A durable consumer's view: the blocks (matching `?watch=` globs, or all) as of its cursor.
    func consumerView(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let document = try await document(context)
        let name = context.parameters.get("name")?.removingPercentEncoding ?? ""
        let stored = try await server.log.cursor(document: document, consumer: name)
        guard let cursor = stored else {
            throw Failure(status: .notFound, code: "unknown_consumer", message: "no durable consumer by that name")
        }
        let state = try await server.log.state(document, at: cursor)
        let patterns = request.uri.queryParameters.getAll("watch").map { String($0) }
        let blocks = state.blocks.filter { block in patterns.isEmpty || patterns.contains { Glob.matches($0, block.id) } }
        return Self.json(["consumer": .string(name), "seq": .int(cursor), "blocks": .array(blocks.map { Self.blockJSON($0, content: true) })])
    }

    static func outcome(_ outcome: WriteOutcome, id: String) async throws -> Response {
        switch outcome {
        case .appended(let event, let rebased):
            return json(["block_id": .string(id), "seq": .int(event.seq), "rebased": .bool(rebased)])
        case .duplicate(let event):
            return json(["block_id": .string(id), "seq": .int(event.seq), "duplicate": true])
        case .rejected(let error, let current):
            let status: HTTPResponse.Status =
                switch error.code {
                case "conflict": .conflict
                case "unknown_block": .notFound
                default: .badRequest
                }
            var body: [String: JSONValue] = ["code": .string(error.code), "message": .string(error.message)]
            if let current {
                body["content"] = .string(current.content)
                body["sha"] = .string(current.sha256)
                body["seq"] = .int(current.seq)
            }
            return json(["error": .object(body)], status: status)
        }
    }
}

/// Server-sent events: catch-up from the log, then live (woken by the hub, always reading the log).
struct EventStream {
    let server: SyncServer
    let document: String
    let since: Int

    func run(_ writer: inout any ResponseBodyWriter) async throws {
        guard let hub = await server.hub(for: document) else { return }
        let id = "sse-\(RandomID.make())"
        let subscription = await hub.attachCatchingUp(connectionID: id, cursor: since, limit: 64)
        defer { Task { await hub.remove(id) } }
        // At shutdown the stream ends (its subscription is closed), so the server does not wait for the client.
        let closer: ConnectionRegistry.Closer = {
            subscription.close()
            await hub.remove(id)
        }
        guard server.openConnections.register(id, closer: closer) else { return }
        defer { server.openConnections.remove(id) }
        // Cancelled when the client went away (the route's inbound-close handler): closing the subscription ends it.
        try await ConnectionRegistry.endingAtShutdown(closer) {
            try await withTaskCancellationHandler { try await follow(subscription, &writer) } onCancel: { subscription.close() }
        }
    }

    private func follow(_ subscription: Subscription, _ writer: inout any ResponseBodyWriter) async throws {
        var cursor = since
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try await writer.write(ByteBuffer(string: ": marksync-log events of \(document) after \(since)\n\n"))
        while !Task.isCancelled {
            switch await subscription.next() {
            case .closed: return
            case .event, .catchUp:
                // The hub only wakes the stream up; events are always read from the log, in order.
                while true {
                    let page = try await server.log.events(document, after: cursor, limit: 256)
                    if page.isEmpty {
                        if subscription.goLive(at: cursor) { break }
                        continue
                    }
                    var chunk = ""
                    for event in page {
                        let data = String(decoding: try encoder.encode(EventRecord(event)), as: UTF8.self)
                        chunk += "id: \(event.seq)\nevent: \(event.body.kind.name)\ndata: \(data)\n\n"
                    }
                    try await writer.write(ByteBuffer(string: chunk))
                    cursor = page.last!.seq
                }
            }
        }
    }
}
