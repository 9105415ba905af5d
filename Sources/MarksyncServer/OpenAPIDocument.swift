import Foundation
import MarksyncCore

/// The OpenAPI 3.1 description of marksync-log's HTTP APIs: the sync server's (`marksync-log serve`,
/// `docs/http-api.md`) and the control API's (`marksync-log api`, `orchestrate`), in one document served at
/// `GET /openapi.json` by both, with a readable HTML rendering of it at `GET /docs`.
///
/// Each path item says which server answers it: `x-marksync-server` is `sync`, `control` or `both`, and its
/// `servers` names that server's default address. Each operation says the token scope it needs in
/// `x-marksync-scope` (`none`, `read`, `write`, `admin`; without configured tokens everything is open).
///
/// ```swift
/// let text = OpenAPIDocument.document.text   // JSON
/// let page = OpenAPIDocument.html()          // text/html, no external assets
/// ```
public enum OpenAPIDocument {
    /// The document.
    public static let document: JSONValue = build()

    /// ``html(_:)`` of ``document``, rendered once.
    public static let htmlPage: String = html()

    /// The HTTP methods an OpenAPI path item may have, in the order they are listed.
    public static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    // MARK: - Building blocks

    static func ref(_ schema: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(schema)")] }
    static func responseRef(_ name: String) -> JSONValue { ["$ref": .string("#/components/responses/\(name)")] }
    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }

    static func integer(_ description: String, minimum: Int? = 0) -> JSONValue {
        var object: [String: JSONValue] = ["type": "integer", "description": .string(description)]
        if let minimum { object["minimum"] = .int(minimum) }
        return .object(object)
    }

    static func string(_ description: String) -> JSONValue { ["type": "string", "description": .string(description)] }

    static func object(_ properties: [String: JSONValue], required: [String], additional: Bool = true) -> JSONValue {
        var object: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { object["required"] = strings(required) }
        if !additional { object["additionalProperties"] = false }
        return .object(object)
    }

    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    static func parameter(_ name: String, in location: String, _ description: String, required: Bool = false, schema: JSONValue = ["type": "string"])
        -> JSONValue
    {
        [
            "name": .string(name), "in": .string(location), "description": .string(description), "required": .bool(location == "path" || required),
            "schema": schema,
        ]
    }

    static let docParameter = parameter("doc", in: "path", "A document name (`GET /api/v1/docs` lists them).")
    static let blockParameter = parameter(
        "id", in: "path", "A block id, URL-encoded as one path segment (`markpact:file=app/main.py` → `markpact%3Afile%3Dapp%2Fmain.py`).")
    static let atParameter = parameter(
        "at", in: "query", "The state right after event N (default: the head); past the head is `400 bad_seq`.", schema: ["type": "integer", "minimum": 0])

    static func jsonResponse(_ description: String, _ schema: JSONValue, headers: JSONValue? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["description": .string(description), "content": ["application/json": ["schema": schema]]]
        if let headers { object["headers"] = headers }
        return .object(object)
    }

    static func textResponse(_ description: String, type: String) -> JSONValue {
        ["description": .string(description), "content": .object([type: ["schema": ["type": "string"]]])]
    }

    static func jsonBody(_ description: String, _ schema: JSONValue) -> JSONValue {
        ["description": .string(description), "required": true, "content": ["application/json": ["schema": schema]]]
    }

    /// Where a path is served.
    enum Where: String {
        case sync, control, both
    }

    static func pathItem(_ served: Where, _ operations: [String: JSONValue], parameters: [JSONValue] = []) -> JSONValue {
        var object = operations
        object["x-marksync-server"] = .string(served.rawValue)
        switch served {
        case .sync:
            object["servers"] = [
                [
                    "url": "http://{host}:{port}", "description": "the sync server (`marksync-log serve`)",
                    "variables": ["host": ["default": "127.0.0.1"], "port": ["default": "8765"]],
                ]
            ]
        case .control:
            object["servers"] = [
                [
                    "url": "http://{host}:{port}", "description": "the control API (`marksync-log api`, `orchestrate`)",
                    "variables": ["host": ["default": "127.0.0.1"], "port": ["default": "8080"]],
                ]
            ]
        case .both: break
        }
        if !parameters.isEmpty { object["parameters"] = .array(parameters) }
        return .object(object)
    }

    /// One operation; `scope` nil means open (no token needed even when tokens are configured).
    static func operation(
        _ id: String, tag: String, scope: TokenScope?, summary: String, description: String, parameters: [JSONValue] = [],
        body: JSONValue? = nil, responses: [String: JSONValue]
    ) -> JSONValue {
        var all = responses
        var object: [String: JSONValue] = [
            "operationId": .string(id), "tags": [.string(tag)], "summary": .string(summary), "description": .string(description),
        ]
        if let scope {
            all["401"] = all["401"] ?? responseRef("Unauthorized")
            all["403"] = all["403"] ?? responseRef("Forbidden")
            object["x-marksync-scope"] = .string("\(scope)")
        } else {
            object["security"] = []
            object["x-marksync-scope"] = "none"
        }
        object["responses"] = .object(all)
        if !parameters.isEmpty { object["parameters"] = .array(parameters) }
        if let body { object["requestBody"] = body }
        return .object(object)
    }

    // MARK: - The document

    static func build() -> JSONValue {
        var paths = [String: JSONValue]()
        for (path, item) in syncPaths() { paths[path] = item }
        for (path, item) in controlPaths() { paths[path] = item }
        for (path, item) in sharedPaths() { paths[path] = item }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "marksync-log HTTP API",
                "version": .string(MarksyncVersion.tool),
                "summary": "The sync server's HTTP API and the agents' control API.",
                "description": .string(
                    """
                    Two servers share this document. The **sync server** (`marksync-log serve`, default port 8765) serves \
                    documents, blocks, history, durable consumers and the sync WebSocket (`ws://HOST:PORT/`, \
                    `/sync/{doc}`; see docs/protocol.md). The **control API** (`marksync-log api`, default port 8080, \
                    and `orchestrate`) drives the agents' runtime with DSL commands. Each path's `x-marksync-server` \
                    says which one answers it, each operation's `x-marksync-scope` the token scope it needs.

                    Without configured tokens every route is open. With tokens (`--tokens` / `MARKSYNC_TOKENS`), \
                    present one as `Authorization: Bearer <token>` or `?token=<token>`. Errors are JSON \
                    `{"error": {"code", "message"}}` with the status of the problem; bad input is never a 500.
                    """),
                "license": ["name": "Apache-2.0", "identifier": "Apache-2.0"],
            ],
            "servers": [
                ["url": "http://127.0.0.1:8765", "description": "the sync server (`marksync-log serve`)"],
                ["url": "http://127.0.0.1:8080", "description": "the control API (`marksync-log api`)"],
            ],
            "tags": [
                ["name": "server", "description": "Health and metrics of the sync server."],
                ["name": "documents", "description": "Documents and their rendered Markdown."],
                ["name": "blocks", "description": "The blocks of a document: read, replace, delete."],
                ["name": "history", "description": "Events, live event stream, diff and blame."],
                ["name": "consumers", "description": "Durable consumers (agents) and their views."],
                ["name": "yjs", "description": "The document as a Yjs (CRDT) document: updates at any seq, client ids (docs/crdt.md)."],
                ["name": "control", "description": "The agents' runtime: DSL commands, agents, pipelines, routes."],
                ["name": "meta", "description": "This document and its HTML rendering."],
            ],
            "security": [["bearer": []], ["token": []]],
            "paths": .object(paths),
            "components": components(),
        ]
    }

    static func components() -> JSONValue {
        [
            "securitySchemes": [
                "bearer": ["type": "http", "scheme": "bearer", "description": "A token of `--tokens` / `MARKSYNC_TOKENS` (`token:scope,…`)."],
                "token": ["type": "apiKey", "in": "query", "name": "token", "description": "The same token as a query parameter."],
            ],
            "responses": [
                "BadRequest": jsonResponse("Bad input: a parameter, a body or a block id that cannot be used.", ref("Error")),
                "Unauthorized": jsonResponse("No token, or an unknown one (`unauthorized`).", ref("Error")),
                "Forbidden": jsonResponse("The token's scope is too small for this (`forbidden`).", ref("Error")),
                "NotFound": jsonResponse("An unknown document, block, consumer or agent.", ref("Error")),
                "Conflict": jsonResponse("The log refused a write made against an older version (`conflict`).", ref("Error")),
                "PreconditionFailed": jsonResponse("`If-Match` does not match the block's current sha256 (`conflict`).", ref("Error")),
                "TooLarge": jsonResponse("The body is over 1 MiB (`too_large`).", ref("Error")),
            ],
            "schemas": .object(schemas()),
        ]
    }

    static func schemas() -> [String: JSONValue] {
        var schemas = [String: JSONValue]()
        schemas["Error"] = object(
            [
                "error": object(
                    [
                        "code": string("A stable reason code (`bad_request`, `unauthorized`, `forbidden`, `unknown_block`, `conflict`, …)."),
                        "message": string("What went wrong, for people."),
                        "content": string("Write refusals: the block's current content."),
                        "sha": string("Write refusals: the block's current sha256."),
                        "seq": integer("Write refusals: the seq of the block's current version."),
                    ], required: ["code", "message"])
            ], required: ["error"])
        schemas["Health"] = object(
            [
                "status": ["enum": ["ok", "degraded"]], "version": string("The tool's version."), "docs": array(["type": "string"]),
                "problems": array(["type": "string"]),
                "notes": array(["type": "string"]),
                "seq": integer("Head seq of the first document."), "blocks": integer("Blocks of the first document."),
                "clients": integer("Open sync connections."),
            ], required: ["status", "version", "docs", "seq", "blocks", "clients"])
        schemas["DocumentSummary"] = object(
            ["name": string("The document's name."), "seq": integer("Head seq."), "blocks": integer("Block count.")],
            required: ["name", "seq", "blocks"])
        schemas["Document"] = object(
            [
                "name": string("The document's name."), "seq": integer("Head seq."), "blocks": integer("Block count."),
                "bytes": integer("Size of the rendered README in UTF-8 bytes."),
            ], required: ["name", "seq", "blocks", "bytes"])
        schemas["Block"] = object(
            [
                "block_id": string("`markpact:<kind>[=<value>]`."), "kind": string("deps, file, run, …"), "lang": string("The fence's language."),
                "path": ["type": ["string", "null"], "description": "The `path=` of file blocks."], "size": integer("UTF-8 bytes."),
                "sha256": string("Hex sha256 of the content."), "seq": integer("Seq of the block's last change."),
            ], required: ["block_id", "kind", "lang", "path", "size", "sha256", "seq"])
        schemas["BlockWithContent"] = [
            "allOf": [ref("Block"), object(["content": string("The block's content.")], required: ["content"])]
        ]
        schemas["WriteResult"] = object(
            [
                "block_id": string("The block written."), "seq": integer("The event's seq."),
                "rebased": ["type": "boolean", "description": "The write was rebased over a concurrent one."],
                "duplicate": ["type": "boolean", "description": "The Idempotency-Key was seen: nothing stored, the first result."],
            ], required: ["block_id", "seq"])
        schemas["EventRecord"] = object(
            [
                "seq": integer("The event's seq."), "ts": integer("Unix milliseconds."), "author": string("Who made it."),
                "kind": string("`block.created`, `block.patched`, `block.replaced`, `block.deleted`, `prose.edited`, `review.note`, …"),
                "block": string("The block id, for block events."), "doc": string("The document."), "client_id": string("The writer's message id."),
                "base_seq": integer("The version the writer read."), "hash": string("The hash chain's value after the event."),
            ], required: ["seq", "kind"])
        schemas["EventsPage"] = object(
            [
                "events": array(ref("EventRecord")), "next": integer("The last seq returned (the next `since`)."),
                "head": integer("The document's head seq."),
            ], required: ["events", "next", "head"])
        schemas["BlameLine"] = object(
            [
                "line": integer("1-based line number.", minimum: 1), "text": string("The line."), "seq": integer("The event that last changed it."),
                "author": string("Its author."), "ts": integer("Unix milliseconds."),
            ], required: ["line", "text", "seq", "author", "ts"])
        schemas["Consumer"] = object(
            [
                "name": string("The consumer's name."), "seq": integer("Its cursor."), "lag": integer("Events behind the head."),
                "updated_ms": integer("When the cursor last moved (Unix ms)."),
            ], required: ["name", "seq", "lag", "updated_ms"])
        schemas["ConsumerView"] = object(
            ["consumer": string("The consumer."), "seq": integer("Its cursor."), "blocks": array(ref("BlockWithContent"))],
            required: ["consumer", "seq", "blocks"])
        schemas.merge(controlSchemas()) { first, _ in first }
        return schemas
    }

    static func controlSchemas() -> [String: JSONValue] {
        var schemas = [String: JSONValue]()
        schemas["ControlHealth"] = object(
            ["status": ["const": "ok"], "service": ["const": "marksync-log-control"], "version": string("The tool's version.")],
            required: ["status", "service", "version"])
        schemas["ExecuteRequest"] = object(["command": string("One DSL line, e.g. `AGENT reviewer-1 reviewer --watch 'markpact:file=app/*'`.")], required: ["command"])
        schemas["ScriptRequest"] = object(["script": string("DSL lines separated by newlines; `#` comments and blank lines are skipped.")], required: ["script"])
        schemas["DSLError"] = object(
            ["code": string("`syntax`, `not_found`, `exists`, `bad_setting`, `forbidden`, `failed`, …"), "message": string("What went wrong.")],
            required: ["code", "message"])
        schemas["DSLReply"] = object(
            [
                "ok": ["type": "boolean", "description": "Whether the command succeeded."],
                "result": ["description": "The command's result (any JSON) when ok."], "error": ref("DSLError"),
            ], required: ["ok"])
        schemas["ScriptReply"] = object(
            [
                "ok": ["type": "boolean", "description": "False when a command failed, or the script has a syntax error (then nothing ran)."],
                "result": object(
                    [
                        "count": integer("Commands run."),
                        "results": array(object(["command": string("The line."), "reply": ref("DSLReply")], required: ["command", "reply"])),
                    ], required: ["count", "results"]),
                "error": ref("DSLError"),
            ], required: ["ok"])
        schemas["AgentStatus"] = object(
            [
                "name": string("The agent."), "role": string("editor, reviewer, deployer, monitor."),
                "state": string("`starting`, `connecting`, `catching_up`, `live`, `waiting_for_server`, `stopped`."),
                "cursor": integer("Last seq handled and stored."), "head": integer("Newest seq known."), "lag": integer("head - cursor."),
                "last_error": string("The last error."), "last_error_at": ["type": "number", "description": "Its time (Unix seconds)."],
                "events": integer("Events seen."), "handled": integer("Events handled."), "skipped": integer("Events skipped."),
                "llm_calls": integer("LLM calls."), "llm_failures": integer("Failed LLM calls."), "writes": integer("Writes to the document."),
                "conflicts": integer("Writes refused as conflicts."), "reviews": integer("Review notes appended."),
                "deploys": integer("Deploys run."), "pipelines": array(["type": "string"]),
            ], required: ["name", "role", "state", "cursor", "head", "lag"])
        schemas["Agent"] = object(
            [
                "name": string("The agent's name (its consumer name and author)."), "role": string("editor, reviewer, deployer, monitor."),
                "model": string("The LLM model."), "auto_edit": ["type": "boolean"], "watch": array(["type": "string"]),
                "options": ["type": "object", "additionalProperties": ["type": "string"]], "routes": array(["type": "string"]),
                "status": ref("AgentStatus"),
            ], required: ["name", "role"])
        schemas["AgentList"] = object(["agents": array(ref("Agent"))], required: ["agents"])
        schemas["AgentDetail"] = object(["agent": ref("Agent")], required: ["agent"])
        schemas["Killed"] = object(["killed": string("The agent stopped.")], required: ["killed"])
        schemas["Pipelines"] = object(
            ["pipelines": array(object(["name": string("The pipeline."), "stages": array(["type": "string"])], required: ["name", "stages"]))],
            required: ["pipelines"])
        schemas["Routes"] = object(
            ["routes": array(object(["pattern": string("A block-id glob."), "agent": string("The agent it routes to.")], required: ["pattern", "agent"]))],
            required: ["routes"])
        schemas["Config"] = object(
            ["config": ["type": "object", "additionalProperties": ["type": "string"], "description": "The settings (`SET`); the token is masked."]],
            required: ["config"])
        schemas["RuntimeStatus"] = object(
            [
                "agents": array(ref("AgentStatus")), "pipelines": integer("Pipeline count."), "routes": integer("Route count."),
                "running": array(["type": "string"]), "config": ["type": "object", "additionalProperties": ["type": "string"]],
            ], required: ["agents", "pipelines", "routes", "running", "config"])
        return schemas
    }

    // MARK: - Sync server paths

    static func syncPaths() -> [String: JSONValue] {
        var paths = [String: JSONValue]()
        paths["/health"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getHealth", tag: "server", scope: .read, summary: "Server health",
                    description: "Status, documents, head seq and block count of the first document, open sync connections, version.",
                    responses: ["200": jsonResponse("The server is up.", ref("Health"))])
            ])
        paths["/metrics"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getMetrics", tag: "server", scope: .read, summary: "Prometheus metrics",
                    description: "Events appended, acks, nacks by reason, commit latency, fan-out lag, connections, log bytes, checkpoints.",
                    responses: ["200": textResponse("Prometheus text format.", type: "text/plain")])
            ])
        paths["/api/v1/docs"] = pathItem(
            .sync,
            [
                "get": operation(
                    "listDocuments", tag: "documents", scope: .read, summary: "List documents", description: "Every document served, with head seq and block count.",
                    responses: ["200": jsonResponse("The documents.", array(ref("DocumentSummary")))])
            ])
        paths["/api/v1/docs/{doc}"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getDocument", tag: "documents", scope: .read, summary: "One document", description: "Head seq, block count and rendered size.",
                    responses: ["200": jsonResponse("The document.", ref("Document")), "404": responseRef("NotFound")])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/markdown"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getMarkdown", tag: "documents", scope: .read, summary: "The README", description: "The document rendered as Markdown, at the head or after event `at`.",
                    parameters: [atParameter],
                    responses: [
                        "200": textResponse("The README.", type: "text/markdown"), "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ]),
                "put": operation(
                    "putMarkdown", tag: "documents", scope: .write, summary: "Replace the whole README",
                    description: "The body is the whole README; what differs from the head becomes events (patches, new and deleted blocks, prose edits), as an edit of the file on disk would. `X-Marksync-Author` names the author (default `web`).",
                    parameters: [parameter("X-Marksync-Author", in: "header", "The author recorded in the log.")],
                    body: ["description": "The README.", "required": true, "content": ["text/markdown": ["schema": ["type": "string"]]]],
                    responses: [
                        "200": jsonResponse("The head after the change and how many events it took.", object(["seq": ["type": "integer"], "events": ["type": "integer"]], required: ["seq", "events"])),
                        "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ]),
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/plan"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getPlan", tag: "documents", scope: .read, summary: "The agents.yml beside the README",
                    description: "The `agents.yml` in the README's folder and the DSL script `agents.msdsl` beside it, and the README's path (each null when missing: a document kept in the log only has no folder).",
                    responses: [
                        "200": jsonResponse("The files.", object(["agents_yml": ["type": ["string", "null"]], "dsl": ["type": ["string", "null"]], "readme": ["type": ["string", "null"]]], required: ["agents_yml", "dsl", "readme"])),
                        "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/blocks"] = pathItem(
            .sync,
            [
                "get": operation(
                    "listBlocks", tag: "blocks", scope: .read, summary: "List blocks",
                    description: "The blocks in document order, without content, at the head or after event `at`.", parameters: [atParameter],
                    responses: [
                        "200": jsonResponse("The blocks.", array(ref("Block"))), "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/blocks/{id}"] = pathItem(.sync, blockOperations(), parameters: [docParameter, blockParameter])
        paths["/api/v1/docs/{doc}/events"] = pathItem(
            .sync,
            [
                "get": operation(
                    "listEvents", tag: "history", scope: .read, summary: "A page of events",
                    description: "Events with seq > `since`, at most `limit` (capped at 1000), optionally of one block.",
                    parameters: [
                        parameter("since", in: "query", "Events after this seq (default 0).", schema: ["type": "integer", "minimum": 0]),
                        parameter("limit", in: "query", "At most this many (default 100, capped at 1000).", schema: ["type": "integer", "minimum": 0]),
                        parameter("block", in: "query", "Only the events of this block id."),
                    ],
                    responses: [
                        "200": jsonResponse("The page.", ref("EventsPage")), "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/events/stream"] = pathItem(
            .sync,
            [
                "get": operation(
                    "streamEvents", tag: "history", scope: .read, summary: "Live events (Server-Sent Events)",
                    description: "Every event after `since` (default: the head) from the log in order, then live events as they are committed; `id:` is the seq, `event:` the kind, `data:` the record. Works with `curl -N`.",
                    parameters: [parameter("since", in: "query", "Events after this seq (default: the head).", schema: ["type": "integer", "minimum": 0])],
                    responses: [
                        "200": textResponse("An endless event stream.", type: "text/event-stream"), "400": responseRef("BadRequest"),
                        "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/diff"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getDiff", tag: "history", scope: .read, summary: "Unified diff between two seqs",
                    description: "The README (or one block's content) between the states after events `from` (default 0) and `to` (default the head).",
                    parameters: [
                        parameter("from", in: "query", "The older state (default 0, the empty document).", schema: ["type": "integer", "minimum": 0]),
                        parameter("to", in: "query", "The newer state (default: the head).", schema: ["type": "integer", "minimum": 0]),
                        parameter("block", in: "query", "Only this block's content."),
                    ],
                    responses: [
                        "200": textResponse("A unified diff.", type: "text/x-diff"), "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/blame/{id}"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getBlame", tag: "history", scope: .read, summary: "Blame of a block",
                    description: "Each line of the block (at the head or after event `at`) with the event that last changed it.", parameters: [atParameter],
                    responses: [
                        "200": jsonResponse("The lines.", array(ref("BlameLine"))), "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter, blockParameter])
        paths["/api/v1/docs/{doc}/consumers"] = pathItem(
            .sync,
            [
                "get": operation(
                    "listConsumers", tag: "consumers", scope: .read, summary: "Durable consumers",
                    description: "The durable consumers of the document with their cursor, lag and last move.",
                    responses: ["200": jsonResponse("The consumers.", array(ref("Consumer"))), "404": responseRef("NotFound")])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/consumers/{name}/view"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getConsumerView", tag: "consumers", scope: .read, summary: "A consumer's view",
                    description: "The document's blocks as of the consumer's cursor, with content, optionally only those matching a `watch` glob.",
                    parameters: [
                        [
                            "name": "watch", "in": "query", "description": "Block-id globs (fnmatch style), repeatable.", "required": false,
                            "style": "form", "explode": true, "schema": array(["type": "string"]),
                        ]
                    ],
                    responses: ["200": jsonResponse("The view.", ref("ConsumerView")), "404": responseRef("NotFound")])
            ], parameters: [docParameter, parameter("name", in: "path", "The consumer's name (an agent's name).")])
        paths["/api/v1/docs/{doc}/yjs"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getYjsUpdate", tag: "yjs", scope: .read, summary: "The document as a Yjs update",
                    description: "A Yjs update (format v1) of the document at the head or after event `at`: roots `meta`, `blocks` (block id → Y.Text), `order`, `prose`, `headers` (docs/crdt.md). With `sv`, only what a Yjs document at that state vector lacks, plus the whole delete set. `X-Marksync-Seq` names the seq. The live, read-only y-websocket endpoint is `ws://…/yjs/{doc}`.",
                    parameters: [
                        atParameter,
                        parameter("sv", in: "query", "An encoded Yjs state vector, base64 (or base64url): answer with the diff from it (`400 bad_state_vector` when unreadable)."),
                    ],
                    responses: [
                        "200": ["description": "The update.", "content": ["application/octet-stream": ["schema": ["type": "string", "format": "binary"]]]],
                        "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        paths["/api/v1/docs/{doc}/yjs/authors"] = pathItem(
            .sync,
            [
                "get": operation(
                    "getYjsAuthors", tag: "yjs", scope: .read, summary: "Yjs client ids and their authors",
                    description: "Each Yjs client id of the projection (at the head or after event `at`) and the author of the log it stands for: every item of the export was made by that author.",
                    parameters: [atParameter],
                    responses: [
                        "200": jsonResponse(
                            "client id (decimal) → author.",
                            object(
                                [
                                    "document": ["type": "string"], "seq": ["type": "integer"], "format": ["type": "string"],
                                    "clients": ["type": "object", "additionalProperties": ["type": "string"]],
                                ], required: ["document", "seq", "format", "clients"])),
                        "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    ])
            ], parameters: [docParameter])
        return paths
    }

    static func blockOperations() -> [String: JSONValue] {
        let author = parameter("X-Marksync-Author", in: "header", "The author recorded in the log (default `http`).")
        let ifMatch = parameter("If-Match", in: "header", "`\"<sha256>\"`: only if the block's current sha256 is this; `*`: no check.")
        let etag: JSONValue = ["ETag": ["description": "The quoted sha256 of the content (use it as If-Match).", "schema": ["type": "string"]]]
        return [
            "get": operation(
                "getBlock", tag: "blocks", scope: .read, summary: "One block with its content",
                description: "The block at the head or after event `at`; the ETag header is its quoted sha256.", parameters: [atParameter],
                responses: [
                    "200": jsonResponse("The block.", ref("BlockWithContent"), headers: etag), "400": responseRef("BadRequest"),
                    "404": responseRef("NotFound"),
                ]),
            "put": operation(
                "putBlock", tag: "blocks", scope: .write, summary: "Replace (or create) a block",
                description: "Replaces the block's content, or creates the block at the end when the id is new and of the form `markpact:<kind>[=<value>]`. The body is the content as text, or `{\"content\": …}` with `Content-Type: application/json`.",
                parameters: [
                    ifMatch, parameter("Idempotency-Key", in: "header", "The write's client message id: a resend returns the first result with `duplicate: true`."),
                    author,
                ],
                body: [
                    "description": "The new content.", "required": true,
                    "content": [
                        "text/plain": ["schema": ["type": "string"]],
                        "application/json": ["schema": object(["content": string("The new content.")], required: ["content"])],
                    ],
                ],
                responses: [
                    "200": jsonResponse("Stored (or a duplicate).", ref("WriteResult")), "400": responseRef("BadRequest"), "404": responseRef("NotFound"),
                    "409": responseRef("Conflict"), "412": responseRef("PreconditionFailed"), "413": responseRef("TooLarge"),
                ]),
            "delete": operation(
                "deleteBlock", tag: "blocks", scope: .write, summary: "Delete a block",
                description: "Deletes the block; `If-Match` makes it conditional (`409 conflict` with the current content when it changed).",
                parameters: [ifMatch, author],
                responses: ["200": jsonResponse("Deleted.", ref("WriteResult")), "404": responseRef("NotFound"), "409": responseRef("Conflict")]),
        ]
    }

    // MARK: - Control API paths

    static func dslResponse(_ description: String, _ schema: JSONValue) -> [String: JSONValue] {
        ["200": jsonResponse(description, schema)]
    }

    static func controlPaths() -> [String: JSONValue] {
        var paths = [String: JSONValue]()
        let nameParameter = parameter("name", in: "path", "The agent's name.")
        paths["/api/v1/health"] = pathItem(
            .control,
            [
                "get": operation(
                    "getControlHealth", tag: "control", scope: nil, summary: "Control API health", description: "Always open.",
                    responses: dslResponse("Up.", ref("ControlHealth")))
            ])
        paths["/api/v1/execute"] = pathItem(
            .control,
            [
                "post": operation(
                    "execute", tag: "control", scope: .write, summary: "Run one DSL command",
                    description: "Runs one DSL line against the runtime and answers the executor's reply: `{ok: true, result}` or `{ok: false, error: {code, message}}` — a command that fails is still a 200. `LOAD`, `SAVE`, `SET token|server_uri|deploy|deploy_command|work_dir|audit_file|readme`, `CONNECT <uri>` and `AGENT` with host options (`--command`, `--work-dir`, `--audit-file`, `--enabled`, …) need `admin`.",
                    body: jsonBody("The command.", ref("ExecuteRequest")),
                    responses: [
                        "200": jsonResponse("The executor's reply.", ref("DSLReply")), "400": responseRef("BadRequest"), "413": responseRef("TooLarge"),
                    ])
            ])
        paths["/api/v1/script"] = pathItem(
            .control,
            [
                "post": operation(
                    "executeScript", tag: "control", scope: .write, summary: "Run a DSL script",
                    description: "Runs every line in order (a syntax error anywhere stops it before anything runs). Needs `admin` when a line does.",
                    body: jsonBody("The script.", ref("ScriptRequest")),
                    responses: [
                        "200": jsonResponse("Each command's reply.", ref("ScriptReply")), "400": responseRef("BadRequest"), "413": responseRef("TooLarge"),
                    ])
            ])
        paths["/api/v1/agents"] = pathItem(
            .control,
            [
                "get": operation(
                    "listAgents", tag: "control", scope: .read, summary: "The agents", description: "`LIST agents`: each agent's plan entry and status.",
                    responses: dslResponse("The agents.", ref("AgentList")))
            ])
        paths["/api/v1/agents/{name}"] = pathItem(
            .control,
            [
                "get": operation(
                    "getAgent", tag: "control", scope: .read, summary: "One agent", description: "`STATUS <name>`.",
                    responses: ["200": jsonResponse("The agent.", ref("AgentDetail")), "404": responseRef("NotFound")]),
                "delete": operation(
                    "killAgent", tag: "control", scope: .write, summary: "Stop an agent", description: "`KILL <name>`: stops the agent and forgets it.",
                    responses: ["200": jsonResponse("Stopped.", ref("Killed")), "404": responseRef("NotFound")]),
            ], parameters: [nameParameter])
        paths["/api/v1/pipelines"] = pathItem(
            .control,
            [
                "get": operation(
                    "listPipelines", tag: "control", scope: .read, summary: "The pipelines", description: "`LIST pipelines`.",
                    responses: dslResponse("The pipelines.", ref("Pipelines")))
            ])
        paths["/api/v1/routes"] = pathItem(
            .control,
            [
                "get": operation(
                    "listRoutes", tag: "control", scope: .read, summary: "The routes", description: "`LIST routes`.",
                    responses: dslResponse("The routes.", ref("Routes")))
            ])
        paths["/api/v1/config"] = pathItem(
            .control,
            [
                "get": operation(
                    "getConfig", tag: "control", scope: .read, summary: "The settings", description: "`LIST config` (the token is masked).",
                    responses: dslResponse("The settings.", ref("Config")))
            ])
        paths["/api/v1/status"] = pathItem(
            .control,
            [
                "get": operation(
                    "getStatus", tag: "control", scope: .read, summary: "The runtime's status",
                    description: "`STATUS`: every agent's state, cursor, lag and counters; pipeline and route counts; settings.",
                    responses: dslResponse("The status.", ref("RuntimeStatus")))
            ])
        paths["/ws/dsl"] = pathItem(
            .control,
            [
                "get": operation(
                    "dslSocket", tag: "control", scope: .read, summary: "DSL WebSocket",
                    description: """
                        Upgrade to a WebSocket. On connect the server sends `{"type": "snapshot", "data": <STATUS result>, "ts"}`. \
                        Each text frame is `{"command": "<DSL line>"}` or the line itself; the sender gets \
                        `{"type": "result", "command", "data": <reply>, "ts"}`. Every other client gets \
                        `{"type": "event", "command", "data", "ts"}` for each successful command that changes the runtime \
                        (AGENT, KILL, PIPE, ROUTE, SET, SEND, DEPLOY, SYNC push/pull, CONNECT, DISCONNECT, LOAD), whoever ran it \
                        (this socket, another one, or the HTTP API). `LIST`, `STATUS`, `LOG` and `HELP` need `read`, other \
                        commands `write`, some `admin` (see `POST /api/v1/execute`); a refused command answers \
                        `{ok: false, error: {code: "forbidden"}}`. Without an upgrade this route answers `426`.
                        """,
                    parameters: [
                        parameter("Upgrade", in: "header", "`websocket`."),
                    ],
                    responses: [
                        "101": ["description": "Switching to the WebSocket protocol."],
                        "426": jsonResponse("Not a WebSocket upgrade (`upgrade_required`).", ref("Error")),
                    ])
            ])
        return paths
    }

    static func sharedPaths() -> [String: JSONValue] {
        [
            "/openapi.json": pathItem(
                .both,
                [
                    "get": operation(
                        "getOpenAPI", tag: "meta", scope: nil, summary: "This document", description: "The OpenAPI 3.1 document (always open).",
                        responses: ["200": jsonResponse("The document.", ["type": "object"])])
                ]),
            "/docs": pathItem(
                .both,
                [
                    "get": operation(
                        "getDocs", tag: "meta", scope: nil, summary: "API reference (HTML)",
                        description: "This document as a readable HTML page, with no external assets (always open).",
                        responses: ["200": textResponse("The page.", type: "text/html")])
                ]),
        ]
    }

    // MARK: - HTML

    /// The document as a readable HTML page: every path and method with its summary, description,
    /// parameters, body and responses. Inline CSS, no script, nothing loaded from elsewhere.
    public static func html(_ document: JSONValue = OpenAPIDocument.document) -> String {
        let title = document["info"]?["title"]?.stringValue ?? "API"
        let version = document["info"]?["version"]?.stringValue ?? ""
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) \(escape(version))</title>
            <style>
            body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
            main{max-width:980px;margin:0 auto;padding:24px}
            h1{margin:0 0 4px}h2{margin:32px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
            .op{background:#fff;border:1px solid #d5d9e0;border-radius:6px;margin:12px 0;padding:12px 16px}
            .op h3{margin:0;font-size:16px;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
            .m{display:inline-block;min-width:64px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px;margin-right:8px}
            .get{background:#2f7bd8}.post{background:#2e9b5f}.put{background:#c98412}.delete{background:#c43d3d}.other{background:#6b7280}
            .meta{color:#5b6474;font-size:13px}.sum{font-weight:600;margin:6px 0 2px}
            table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px}th,td{border:1px solid #e1e4ea;padding:4px 8px;text-align:left;vertical-align:top}
            th{background:#f0f2f5}code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#eef0f4;padding:0 3px;border-radius:3px}
            p.desc{white-space:pre-wrap;margin:4px 0}
            </style></head><body><main>
            <h1>\(escape(title))</h1>
            <p class="meta">version \(escape(version)) · OpenAPI \(escape(document["openapi"]?.stringValue ?? "")) · the same document as JSON: <code>GET /openapi.json</code></p>

            """
        if let description = document["info"]?["description"]?.stringValue { out += "<p class=\"desc\">\(inline(description))</p>\n" }
        let paths = document["paths"]?.objectValue ?? [:]
        let tags = list(document["tags"]).compactMap { $0["name"]?.stringValue }
        var byTag = [String: [(path: String, method: String, operation: JSONValue, item: JSONValue)]]()
        for path in paths.keys.sorted() {
            guard let item = paths[path] else { continue }
            for method in methods {
                guard let operation = item[method] else { continue }
                let tag = list(operation["tags"]).first?.stringValue ?? "other"
                byTag[tag, default: []].append((path, method, operation, item))
            }
        }
        let orderedTags = tags.filter { byTag[$0] != nil } + byTag.keys.filter { !tags.contains($0) }.sorted()
        out += "<nav><p>" + orderedTags.map { "<a href=\"#tag-\(escape($0))\">\(escape($0))</a>" }.joined(separator: " · ") + "</p></nav>\n"
        for tag in orderedTags {
            out += "<h2 id=\"tag-\(escape(tag))\">\(escape(tag))</h2>\n"
            for entry in byTag[tag] ?? [] { out += operationHTML(entry.path, entry.method, entry.operation, entry.item) }
        }
        out += "</main></body></html>\n"
        return out
    }

    static func operationHTML(_ path: String, _ method: String, _ operation: JSONValue, _ item: JSONValue) -> String {
        let badge = ["get", "post", "put", "delete"].contains(method) ? method : "other"
        var out = "<section class=\"op\"><h3><span class=\"m \(badge)\">\(method.uppercased())</span>\(escape(path))</h3>\n"
        let server =
            switch item["x-marksync-server"]?.stringValue {
            case "sync": "sync server (<code>serve</code>, port 8765)"
            case "control": "control API (<code>api</code>, port 8080)"
            default: "both servers"
            }
        let scope = operation["x-marksync-scope"]?.stringValue ?? "read"
        out += "<div class=\"meta\">served by the \(server) · token scope: <code>\(escape(scope))</code></div>\n"
        if let summary = operation["summary"]?.stringValue { out += "<div class=\"sum\">\(escape(summary))</div>\n" }
        if let description = operation["description"]?.stringValue { out += "<p class=\"desc\">\(inline(description))</p>\n" }
        let parameters = list(item["parameters"]) + list(operation["parameters"])
        if !parameters.isEmpty {
            out += "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>\n"
            for parameter in parameters {
                out += "<tr><td><code>\(escape(parameter["name"]?.stringValue ?? ""))</code></td><td>\(escape(parameter["in"]?.stringValue ?? ""))</td>"
                out += "<td>\(escape(typeName(parameter["schema"])))</td><td>\(parameter["required"]?.boolValue == true ? "yes" : "no")</td>"
                out += "<td>\(inline(parameter["description"]?.stringValue ?? ""))</td></tr>\n"
            }
            out += "</table>\n"
        }
        if let body = operation["requestBody"] {
            let types = body["content"]?.objectValue?.keys.sorted() ?? []
            out += "<div class=\"meta\">request body (\(types.map { "<code>\(escape($0))</code>" }.joined(separator: ", "))): "
            out += "\(inline(body["description"]?.stringValue ?? ""))\(schemaNames(body["content"]))</div>\n"
        }
        if let responses = operation["responses"]?.objectValue {
            out += "<table><tr><th>status</th><th>response</th></tr>\n"
            for code in responses.keys.sorted() {
                let response = responses[code] ?? .null
                let text: String
                if let reference = response["$ref"]?.stringValue, let name = reference.split(separator: "/").last {
                    let resolved = document["components"]?["responses"]?[String(name)]
                    text = inline(resolved?["description"]?.stringValue ?? String(name)) + " — <code>Error</code>"
                } else {
                    text = inline(response["description"]?.stringValue ?? "") + schemaNames(response["content"])
                }
                out += "<tr><td>\(escape(code))</td><td>\(text)</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out + "</section>\n"
    }

    /// ` — <code>Schema</code>` for the schemas named in a content map.
    static func schemaNames(_ content: JSONValue?) -> String {
        guard let content = content?.objectValue else { return "" }
        let names = content.keys.sorted().compactMap { typeName(content[$0]?["schema"]) }.filter { $0 != "string" && $0 != "object" }
        guard !names.isEmpty else { return "" }
        return " — " + Array(Set(names)).sorted().map { "<code>\(escape($0))</code>" }.joined(separator: ", ")
    }

    static func list(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { items } else { [] }
    }

    static func typeName(_ schema: JSONValue?) -> String {
        guard let schema else { return "" }
        if let reference = schema["$ref"]?.stringValue { return String(reference.split(separator: "/").last ?? "") }
        if schema["type"]?.stringValue == "array" { return "array of \(typeName(schema["items"]))" }
        return schema["type"]?.stringValue ?? ""
    }

    /// Escaped text with the descriptions' inline Markdown: `` `code` `` and `**strong**`.
    static func inline(_ text: String) -> String {
        var out = ""
        var code = false
        var strong = false
        var characters = Array(escape(text))[...]
        while let character = characters.first {
            characters = characters.dropFirst()
            if character == "`" {
                out += code ? "</code>" : "<code>"
                code.toggle()
            } else if character == "*", characters.first == "*", !code {
                characters = characters.dropFirst()
                out += strong ? "</strong>" : "<strong>"
                strong.toggle()
            } else {
                out.append(character)
            }
        }
        if code { out += "</code>" }
        if strong { out += "</strong>" }
        return out
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
