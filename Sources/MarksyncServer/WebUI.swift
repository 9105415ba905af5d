import Foundation
import HTTPTypes
import Hummingbird
import MarksyncCore
import MarksyncStore
import NIOCore

/// The web UI: one page (HTML, CSS and JavaScript inline, embedded in the binary; nothing is fetched
/// from elsewhere) that talks to the sync socket and the HTTP API of the server serving it.
enum WebUI {
    /// The page, as built into the binary from `WebUI/index.html`.
    static let page = ByteBuffer(bytes: PackageResources.index_html)

    static func register(on router: Router<MarksyncRequestContext>, server: SyncServer) {
        register(on: router)
        let api = HTTPAPI(server: server)
        // The whole README as one text (the UI's Markdown tab): what changed becomes events, as an edit of
        // the file on disk would.
        router.put("/api/v1/docs/:doc/markdown") { request, context in
            await api.guarded(context, .write) {
                let document = try await api.document(context)
                let body = try await request.body.collect(upTo: 4 << 20)
                guard let text = body.getString(at: body.readerIndex, length: body.readableBytes) else {
                    throw HTTPAPI.Failure(status: .badRequest, code: "bad_body", message: "the body must be UTF-8 Markdown")
                }
                let author = request.headers[HTTPField.Name("X-Marksync-Author")!].flatMap { $0.isEmpty ? nil : $0 } ?? "web"
                let result = try await server.log.ingest(document: document, markdown: text, author: author)
                return HTTPAPI.json(["seq": .int(result.seq), "events": .int(result.appended)])
            }
        }
        // The agents.yml next to the README, and its DSL when a `agents.msdsl` sits beside it (the sandbox writes one).
        router.get("/api/v1/docs/:doc/plan") { request, context in
            await api.guarded(context, .read) {
                let document = try await api.document(context)
                guard let readme = server.readmePath(of: document) else {
                    // A document kept in the log only has no folder, so no plan.
                    return HTTPAPI.json(["agents_yml": .null, "dsl": .null, "readme": .null])
                }
                let folder = URL(fileURLWithPath: readme).deletingLastPathComponent()
                func read(_ name: String) -> JSONValue {
                    (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)).map { .string($0) } ?? .null
                }
                return HTTPAPI.json(["agents_yml": read("agents.yml"), "dsl": read("agents.msdsl"), "readme": .string(readme)])
            }
        }
    }

    private static func register(on router: Router<MarksyncRequestContext>) {
        // Hummingbird matches `/ui` and `/ui/` alike.
        router.get("/ui") { _, _ in pageResponse() }
        // Browsers asking for the root get the page; sync clients connect to the root with a WebSocket upgrade,
        // which never reaches the router.
        router.get("/") { _, _ in redirect() }
    }

    static func pageResponse() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        // Everything is inline and talks to this server only.
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: page))
    }

    static func redirect() -> Response {
        var headers = HTTPFields()
        headers[.location] = "/ui/"
        return Response(status: .seeOther, headers: headers)
    }
}
