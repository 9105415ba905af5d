import AsyncHTTPClient
import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncControl
import MarksyncCore
import MarksyncDSL
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import NIOHTTP1
import Testing

@Suite(.serialized) struct ControlAPITests {
    /// The agent list of a `LIST agents` result (or of `GET /api/v1/agents`).
    static func agentNames(_ result: JSONValue?) -> [String] {
        guard case .array(let agents)? = result?["agents"] else { return [] }
        return agents.compactMap { $0["name"]?.stringValue }
    }

    @Test func httpAndWebSocketDriveTheSameRuntime() async throws {
        let harness = try await ControlHarness.start()
        defer { Task { await harness.stop() } }
        let first = try await DSLSocket.connect(harness.socketURL)
        let second = try await DSLSocket.connect(harness.socketURL)
        defer { Task { await first.close(); await second.close() } }
        let snapshot = await first.next(type: "snapshot")
        #expect(snapshot?["data"]?["agents"] == .array([]), "the snapshot is STATUS's result: \(String(describing: snapshot))")
        #expect(snapshot?["ts"] != nil)
        #expect(await second.next(type: "snapshot") != nil)

        // AGENT through HTTP: both sockets hear of it (it came from neither).
        let started = try await execute(harness, "AGENT mon-1 monitor")
        #expect(started.status == 200)
        #expect(started.json?["ok"] == true)
        #expect(started.json?["result"]?["name"] == "mon-1")
        #expect(started.json?["result"]?["role"] == "monitor")
        for socket in [first, second] {
            let event = await socket.next(type: "event")
            #expect(event?["command"] == "AGENT mon-1 monitor")
            #expect(event?["data"]?["ok"] == true)
        }
        // It is a real agent: it connects to the sync server and goes live.
        let live = try await waitUntil {
            try await http(.GET, "\(harness.base)/api/v1/agents/mon-1").json?["agent"]?["status"]?["state"] == "live"
        }
        #expect(live, "mon-1 never went live")

        // LIST through the WebSocket shows it; the other client hears nothing of a LIST.
        try await first.command("LIST agents")
        let listed = await first.next(type: "result")
        #expect(listed?["command"] == "LIST agents")
        #expect(Self.agentNames(listed?["data"]?["result"]) == ["mon-1"])
        // A change made through the first socket: the second gets an event, the first only its result.
        try await first.send("ROUTE 'markpact:file=app/*' -> mon-1")  // raw text, not JSON
        let routed = await first.next(type: "result")
        #expect(routed?["command"] == "ROUTE 'markpact:file=app/*' -> mon-1")
        #expect(routed?["data"]?["result"]?["agent"] == "mon-1")
        let heard = await second.next(type: "event")
        #expect(heard?["command"] == "ROUTE 'markpact:file=app/*' -> mon-1", "the next event after LIST is the ROUTE: \(String(describing: heard))")
        #expect(heard?["data"]?["result"]?["pattern"] == "markpact:file=app/*")
        #expect(!second.received.contains { $0.contains("LIST agents") }, "no event for LIST")
        #expect(!first.pending.contains { $0["type"] == "event" }, "no event to the sender of its own command")
        let routes = try await http(.GET, "\(harness.base)/api/v1/routes")
        #expect(routes.json == ["routes": [["pattern": "markpact:file=app/*", "agent": "mon-1"]]])

        // An empty command.
        try await first.command("")
        let empty = await first.next(type: "result")
        #expect(empty?["data"]?["ok"] == false)
        #expect(empty?["data"]?["error"]?["code"] == "empty")
        // A failed command is an ok:false result, and no event.
        try await first.command("KILL nobody")
        let failed = await first.next(type: "result")
        #expect(failed?["data"]?["error"]?["code"] == "not_found")

        // KILL through DELETE: the agent is gone from the runtime and from GET /api/v1/agents.
        let killed = try await http(.DELETE, "\(harness.base)/api/v1/agents/mon-1")
        #expect(killed.status == 200)
        #expect(killed.json == ["killed": "mon-1"])
        let killEvent = await second.next(type: "event")
        #expect(killEvent?["command"] == "KILL mon-1", "the event after ROUTE is the KILL (none for the failed KILL)")
        let agents = try await http(.GET, "\(harness.base)/api/v1/agents")
        #expect(agents.status == 200)
        #expect(agents.json == ["agents": []])
        #expect(await harness.orchestrator.agent("mon-1") == nil)
        let gone = try await http(.GET, "\(harness.base)/api/v1/agents/mon-1")
        #expect(gone.status == 404)
        #expect(gone.errorCode == "not_found")
        try await first.command("LIST agents")
        #expect(Self.agentNames(await first.next(type: "result")?["data"]?["result"]).isEmpty)
        let again = try await http(.DELETE, "\(harness.base)/api/v1/agents/mon-1")
        #expect(again.status == 404)
        #expect(again.isErrorBody)
    }

    @Test func aScriptStartsAndRoutesAReviewerThatHandlesChangesUntilKilled() async throws {
        let harness = try await ControlHarness.start(llmResponder: { _ in .text("WARNING\n- consider input validation") })
        defer { Task { await harness.stop() } }
        let script = """
            # a reviewer for the files under app/ only
            AGENT r1 reviewer
            ROUTE 'markpact:file=app/*' -> r1
            """
        let reply = try await http(.POST, "\(harness.base)/api/v1/script", body: JSONValue.object(["script": .string(script)]).text)
        #expect(reply.status == 200)
        #expect(reply.json?["ok"] == true, "\(reply.text)")
        #expect(reply.json?["result"]?["count"] == 2)
        let live = try await waitUntil {
            try await http(.GET, "\(harness.base)/api/v1/agents/r1").json?["agent"]?["status"]?["state"] == "live"
        }
        #expect(live)
        let agent = try await http(.GET, "\(harness.base)/api/v1/agents/r1")
        #expect(agent.json?["agent"]?["routes"] == ["markpact:file=app/*"])

        // A person changes a routed block and one that is not routed.
        let person = try await harness.person()
        let routedWrite = try await person.write(.full(blockID: mainBlock, content: "def main():\n    return 2\n"))
        let otherWrite = try await person.write(.full(blockID: depsBlock, content: "flask\n"))
        let reviewed = try await waitUntil {
            try await harness.live.log.history(harness.live.document, filter: HistoryFilter(kinds: [.reviewNote])).count >= 1
        }
        #expect(reviewed, "r1 wrote no review note")
        let handledBoth = try await waitUntil {
            let status = try await http(.GET, "\(harness.base)/api/v1/agents/r1").json?["agent"]?["status"]
            return (status?["cursor"]?.intValue ?? 0) >= otherWrite.seq
        }
        #expect(handledBoth)
        let notes = try await harness.live.log.history(harness.live.document, filter: HistoryFilter(kinds: [.reviewNote]))
        #expect(notes.count == 1, "one note, for the routed block only")
        if let note = notes.first, case .reviewNote(let body) = note.body {
            #expect(note.author == "r1")
            #expect(body.blockID == mainBlock)
            #expect(body.blockSeq == routedWrite.seq)
            #expect(body.verdict == "warning")
        } else {
            Issue.record("no review note event")
        }
        let status = try await http(.GET, "\(harness.base)/api/v1/agents/r1").json?["agent"]?["status"]
        #expect(status?["reviews"] == 1)
        let llmCalls = await harness.llm.generationCount
        #expect(llmCalls == 1)

        // After KILL, changes are no longer handled.
        let killed = try await execute(harness, "KILL r1")
        #expect(killed.json?["ok"] == true)
        let later = try await person.write(.full(blockID: mainBlock, content: "def main():\n    return 3\n"))
        #expect(later.seq > routedWrite.seq)
        try await Task.sleep(for: .seconds(2))
        let after = try await harness.live.log.history(harness.live.document, filter: HistoryFilter(kinds: [.reviewNote]))
        #expect(after.count == 1, "a killed reviewer reviewed again")
        #expect(await harness.llm.generationCount == llmCalls)
        #expect(try await http(.GET, "\(harness.base)/api/v1/agents/r1").status == 404)
        await person.close()
    }

    @Test func theOpenAPIDocumentIsValidAndEveryDocumentedRouteAnswers() async throws {
        let harness = try await ControlHarness.start()
        defer { Task { await harness.stop() } }
        let fromControl = try await http(.GET, "\(harness.base)/openapi.json")
        let fromServer = try await http(.GET, "\(harness.live.httpBase)/openapi.json")
        #expect(fromControl.status == 200)
        #expect(fromControl.contentType.hasPrefix("application/json"))
        #expect(fromServer.status == 200)
        guard let document = fromControl.json else {
            Issue.record("/openapi.json is not JSON")
            return
        }
        #expect(fromServer.json == document, "both servers serve the same document")
        #expect(document["openapi"] == "3.1.0")
        #expect(document["components"]?["securitySchemes"]?["bearer"]?["scheme"] == "bearer")
        #expect(document["components"]?["schemas"]?["Error"]?["required"] == ["error"])

        // The validator accepts it (and is really run: it rejects a broken copy).
        let problem = try await openAPIProblem(document)
        #expect(problem == nil, "openapi-spec-validator: \(problem ?? "")")
        guard case .object(var broken) = document, case .object(var brokenPaths)? = broken["paths"] else { return }
        brokenPaths["/api/v1/agents/{name}"] = ["get": ["responses": ["200": ["description": "no name parameter"]]]]
        broken["paths"] = .object(brokenPaths)
        #expect(try await openAPIProblem(.object(broken)) != nil, "the validator accepted a path parameter that is not declared")

        // Real values for the path parameters: a document, a block, an agent and its durable consumer.
        #expect(try await execute(harness, "AGENT mon-1 monitor").json?["ok"] == true)
        _ = try await waitUntil { await harness.orchestrator.status(of: "mon-1")?.state == "live" }
        let person = try await harness.person()
        _ = try await person.write(.full(blockID: mainBlock, content: "def main():\n    return 5\n"))
        let consumerStored = try await waitUntil {
            try await harness.live.log.cursor(document: harness.live.document, consumer: "mon-1") != nil
        }
        #expect(consumerStored, "mon-1 stored no cursor")
        await person.close()

        let paths = document["paths"]?.objectValue ?? [:]
        #expect(paths.count >= 25, "\(paths.keys.sorted())")
        for required in [
            "/health", "/metrics", "/api/v1/docs", "/api/v1/docs/{doc}", "/api/v1/docs/{doc}/blocks", "/api/v1/docs/{doc}/blocks/{id}",
            "/api/v1/docs/{doc}/markdown", "/api/v1/docs/{doc}/events", "/api/v1/docs/{doc}/events/stream", "/api/v1/docs/{doc}/diff",
            "/api/v1/docs/{doc}/blame/{id}", "/api/v1/docs/{doc}/consumers", "/api/v1/docs/{doc}/consumers/{name}/view",
            "/api/v1/health", "/api/v1/execute", "/api/v1/script", "/api/v1/agents", "/api/v1/agents/{name}", "/api/v1/pipelines",
            "/api/v1/routes", "/api/v1/config", "/api/v1/status", "/ws/dsl", "/openapi.json", "/docs",
        ] {
            #expect(paths[required] != nil, "\(required) is not documented")
        }
        let encodedBlock = mainBlock.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        func fill(_ path: String) -> String {
            let agentOrConsumer = "mon-1"
            return path.replacingOccurrences(of: "{doc}", with: harness.live.document).replacingOccurrences(of: "{id}", with: encodedBlock)
                .replacingOccurrences(of: "{name}", with: agentOrConsumer)
        }
        // Reads first, then writes, deletes last (they remove the block and the agent).
        var calls = [(path: String, method: String, operation: JSONValue, bases: [String])]()
        for method in ["get", "post", "put", "delete"] {
            for path in paths.keys.sorted() {
                guard let item = paths[path], let operation = item[method] else { continue }
                let bases: [String] =
                    switch item["x-marksync-server"]?.stringValue {
                    case "sync": [harness.live.httpBase]
                    case "control": [harness.base]
                    default: [harness.base, harness.live.httpBase]
                    }
                calls.append((path, method, operation, bases))
            }
        }
        var operationCount = 0
        for method in OpenAPIDocument.methods { operationCount += paths.values.filter { $0[method] != nil }.count }
        #expect(calls.count == operationCount, "every documented operation is exercised")
        #expect(operationCount >= 28)
        for call in calls {
            for base in call.bases {
                let url = base + fill(call.path)
                let reply: HTTPReply
                switch call.method {
                case "post":
                    let body: JSONValue = call.path.hasSuffix("/script") ? ["script": "LIST agents\nHELP"] : ["command": "HELP"]
                    reply = try await http(.POST, url, body: body.text, headers: [("Content-Type", "application/json")])
                case "put" where call.path.hasSuffix("/markdown"):
                    // The whole README, with one block changed (a minimal body would delete every block).
                    let current = try await http(.GET, url).text
                    reply = try await http(.PUT, url, body: current + "\nMore prose.\n", headers: [("X-Marksync-Author", "openapi-test")])
                case "put": reply = try await http(.PUT, url, body: "def main():\n    return 6\n", headers: [("X-Marksync-Author", "openapi-test")])
                case "delete": reply = try await http(.DELETE, url)
                default: reply = try await http(.GET, url, stream: call.path.hasSuffix("/stream"))
                }
                let label = "\(call.method.uppercased()) \(url) → \(reply.status) \(reply.text.prefix(300))"
                #expect(reply.status != 404, "\(label)")
                #expect(reply.status < 500, "\(label)")
                let documented = call.operation["responses"]?.objectValue ?? [:]
                #expect(documented[String(reply.status)] != nil, "undocumented status: \(label)")
                if let response = documented[String(reply.status)], reply.status == 200 {
                    let resolved = resolve(response, in: document)
                    if let schema = resolved["content"]?["application/json"]?["schema"] {
                        #expect(reply.contentType.hasPrefix("application/json"), "\(label)")
                        if let json = reply.json {
                            let mismatch = schemaMismatch(json, schema, in: document)
                            #expect(mismatch == nil, "\(label): \(mismatch ?? "")")
                        } else {
                            Issue.record("not JSON: \(label)")
                        }
                    } else if let type = resolved["content"]?.objectValue?.keys.first {
                        #expect(reply.contentType.hasPrefix(type), "\(label) has type \(reply.contentType), documented \(type)")
                    }
                }
            }
        }
        #expect(await harness.orchestrator.agent("mon-1") == nil, "DELETE /api/v1/agents/{name} ran last")
        #expect(try await harness.live.log.head(harness.live.document).block(mainBlock) == nil, "DELETE of the block ran")
    }

    @Test func theDocsPageListsEveryPathAndLoadsNothingFromElsewhere() async throws {
        let harness = try await ControlHarness.start()
        defer { Task { await harness.stop() } }
        let paths = OpenAPIDocument.document["paths"]?.objectValue ?? [:]
        #expect(!paths.isEmpty)
        for base in [harness.base, harness.live.httpBase] {
            let page = try await http(.GET, "\(base)/docs")
            #expect(page.status == 200)
            #expect(page.contentType.hasPrefix("text/html"))
            #expect(page.text.hasPrefix("<!DOCTYPE html>"))
            for (path, item) in paths {
                #expect(page.text.contains(">\(path)</h3>"), "\(path) is missing from /docs")
                for method in OpenAPIDocument.methods where item[method] != nil {
                    #expect(page.text.contains("\(method.uppercased())</span>\(path)</h3>"), "\(method) \(path) is missing from /docs")
                    if let summary = item[method]?["summary"]?.stringValue { #expect(page.text.contains(summary)) }
                }
            }
            #expect(page.text.contains("<td><code>doc</code></td>"), "path parameters are listed")
            #expect(page.text.contains("<td><code>If-Match</code></td>"), "header parameters are listed")
            for forbidden in ["http://", "https://", "<script", "<link", "@import", "src=", "url("] {
                #expect(!page.text.contains(forbidden), "the page has \(forbidden)")
            }
        }
    }

    @Test func badInputIsAJSONErrorNeverA500() async throws {
        let harness = try await ControlHarness.start()
        defer { Task { await harness.stop() } }
        let execute = "\(harness.base)/api/v1/execute"
        for (body, what) in [
            ("not json", "not JSON"), ("{\"cmd\":\"HELP\"}", "no command"), ("{\"command\":5}", "a number"), ("[\"HELP\"]", "an array"),
            ("", "empty body"), ("{\"command\":\"   \"}", "a blank command"),
        ] {
            let reply = try await http(.POST, execute, body: body)
            #expect(reply.status == 400, "\(what): \(reply.status) \(reply.text)")
            #expect(reply.errorCode == "bad_request", "\(what)")
            #expect(reply.isErrorBody, "\(what)")
        }
        let noScript = try await http(.POST, "\(harness.base)/api/v1/script", body: "{\"command\":\"HELP\"}")
        #expect(noScript.status == 400)
        #expect(noScript.errorCode == "bad_request")
        for size in [ControlAPI.maxBodyBytes + 1, 5 << 20] {
            let reply = try await http(.POST, execute, bytes: size)
            #expect(reply.status == 413, "\(size) bytes: \(reply.status)")
            #expect(reply.errorCode == "too_large")
            #expect(reply.isErrorBody)
            let script = try await http(.POST, "\(harness.base)/api/v1/script", bytes: size)
            #expect(script.status == 413)
        }
        // Just under the limit is read (and is not JSON).
        #expect(try await http(.POST, execute, bytes: ControlAPI.maxBodyBytes).status == 400)
        // A command that fails is a 200 with ok:false.
        let unknown = try await http(.POST, execute, body: "{\"command\":\"FLY away\"}")
        #expect(unknown.status == 200)
        #expect(unknown.json?["ok"] == false)
        #expect(unknown.json?["error"]?["code"] == "syntax")
        let syntax = try await http(.POST, "\(harness.base)/api/v1/script", body: "{\"script\":\"AGENT a monitor\\nPIPE x a b\"}")
        #expect(syntax.status == 200)
        #expect(syntax.json?["ok"] == false)
        #expect(await harness.orchestrator.agent("a") == nil, "a script with a syntax error runs nothing")
        for (method, path) in [(HTTPMethod.GET, "/api/v1/agents/nobody"), (.DELETE, "/api/v1/agents/nobody"), (.GET, "/api/v1/agents/%2D%2Dx")] {
            let reply = try await http(method, harness.base + path)
            #expect(reply.status == 404, "\(method) \(path)")
            #expect(reply.errorCode == "not_found")
        }
        let plain = try await http(.GET, "\(harness.base)/ws/dsl")
        #expect(plain.status == 426)
        #expect(plain.errorCode == "upgrade_required")
        let health = try await http(.GET, "\(harness.base)/api/v1/health")
        #expect(health.json == ["status": "ok", "service": "marksync-log-control", "version": .string(MarksyncVersion.tool)])
    }

    @Test func tokensGateReadWriteAndAdmin() async throws {
        // Long tokens, so that their absence from every answer means something.
        let reader = "reader-token-4f1c", writer = "writer-token-9a2b", admin = "admin-token-7d3e"
        let syncSecret = "sync-secret-5e6f"
        let harness = try await ControlHarness.start(tokens: "\(reader):read,\(writer):write,\(admin):admin")
        defer { Task { await harness.stop() } }
        var answers = [String]()
        func call(_ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil, query: Bool = false) async throws -> HTTPReply {
            let url = harness.base + path + (query && token != nil ? "?token=\(token!)" : "")
            let reply = try await http(method, url, body: body, token: query ? nil : token)
            answers.append(reply.text)
            return reply
        }
        func command(_ line: String) -> String { JSONValue.object(["command": .string(line)]).text }

        // Open routes.
        for path in ["/api/v1/health", "/openapi.json", "/docs"] { #expect(try await call(.GET, path).status == 200, "\(path)") }
        // No token, an unknown one: 401.
        for path in ["/api/v1/agents", "/api/v1/status", "/api/v1/config"] {
            let none = try await call(.GET, path)
            #expect(none.status == 401)
            #expect(none.errorCode == "unauthorized")
            #expect(try await call(.GET, path, token: "guess").status == 401)
        }
        #expect(try await call(.POST, "/api/v1/execute", body: command("HELP")).status == 401)
        // Read: GETs (header or query), not POST or DELETE.
        #expect(try await call(.GET, "/api/v1/agents", token: reader).status == 200)
        #expect(try await call(.GET, "/api/v1/agents", token: reader, query: true).status == 200)
        let readerPost = try await call(.POST, "/api/v1/execute", body: command("AGENT m1 monitor"), token: reader)
        #expect(readerPost.status == 403)
        #expect(readerPost.errorCode == "forbidden")
        #expect(try await call(.POST, "/api/v1/script", body: "{\"script\":\"HELP\"}", token: reader).status == 403)
        #expect(await harness.orchestrator.agent("m1") == nil)

        // Write: AGENT, KILL; not SAVE, LOAD, SET token (nor a script holding one).
        let saved = harness.live.folder.appendingPathComponent("state.msdsl").path
        let started = try await call(.POST, "/api/v1/execute", body: command("AGENT m1 monitor"), token: writer)
        #expect(started.status == 200)
        #expect(started.json?["ok"] == true)
        #expect(try await call(.DELETE, "/api/v1/agents/m1", token: reader).status == 403)
        for line in ["SAVE \(saved)", "LOAD \(saved)", "SET token \(syncSecret)", "AGENT d1 deployer --command 'echo hi'"] {
            let refused = try await call(.POST, "/api/v1/execute", body: command(line), token: writer)
            #expect(refused.status == 403, "\(line)")
            #expect(refused.errorCode == "forbidden", "\(line)")
        }
        let mixed = try await call(.POST, "/api/v1/script", body: JSONValue.object(["script": .string("AGENT m2 monitor\nSAVE \(saved)")]).text, token: writer)
        #expect(mixed.status == 403)
        #expect(await harness.orchestrator.agent("m2") == nil, "nothing of a refused script runs")
        #expect(!FileManager.default.fileExists(atPath: saved))
        #expect(await harness.executor.currentSettings(masked: false)["token"] == nil)

        // Admin: all of it.
        let save = try await call(.POST, "/api/v1/execute", body: command("SAVE \(saved)"), token: admin)
        #expect(save.json?["ok"] == true)
        #expect(FileManager.default.fileExists(atPath: saved))
        let set = try await call(.POST, "/api/v1/execute", body: command("SET token \(syncSecret)"), token: admin)
        #expect(set.json?["ok"] == true)
        #expect(await harness.executor.currentSettings(masked: false)["token"] == syncSecret)
        #expect(try await call(.POST, "/api/v1/execute", body: command("LOAD \(saved)"), token: admin).status == 200)
        #expect(try await call(.DELETE, "/api/v1/agents/m1", token: writer).status == 200)
        _ = try await call(.POST, "/api/v1/execute", body: command("LOG --tail 50"), token: admin)
        _ = try await call(.GET, "/api/v1/config", token: reader)
        _ = try await call(.GET, "/api/v1/status", token: reader)

        // The WebSocket: a token to connect; read runs LIST, write runs AGENT, admin-only stays admin-only.
        await #expect(throws: (any Error).self) { _ = try await DSLSocket.connect(harness.socketURL) }
        await #expect(throws: (any Error).self) { _ = try await DSLSocket.connect(harness.socketURL + "?token=guess") }
        #expect(try await call(.GET, "/ws/dsl").status == 401)
        let readSocket = try await DSLSocket.connect(harness.socketURL + "?token=\(reader)")
        let writeSocket = try await DSLSocket.connect(harness.socketURL, token: writer)
        defer { Task { await readSocket.close(); await writeSocket.close() } }
        #expect(await readSocket.next(type: "snapshot") != nil)
        #expect(await writeSocket.next(type: "snapshot") != nil)
        try await readSocket.command("LIST agents")
        #expect(await readSocket.next(type: "result")?["data"]?["ok"] == true)
        try await readSocket.command("AGENT m3 monitor")
        let readRefused = await readSocket.next(type: "result")
        #expect(readRefused?["data"]?["ok"] == false)
        #expect(readRefused?["data"]?["error"]?["code"] == "forbidden")
        try await writeSocket.command("AGENT m3 monitor")
        #expect(await writeSocket.next(type: "result")?["data"]?["ok"] == true)
        #expect(await readSocket.next(type: "event")?["command"] == "AGENT m3 monitor", "a read client hears of changes")
        try await writeSocket.command("SET token \(syncSecret)-2")
        let writeRefused = await writeSocket.next(type: "result")
        #expect(writeRefused?["data"]?["error"]?["code"] == "forbidden")
        #expect(writeRefused?["command"] == "SET token ***", "the socket never echoes a token")
        try await writeSocket.command("LOG --tail 100")
        #expect(await writeSocket.next(type: "result")?["data"]?["ok"] == true)

        // No answer ever shows a token.
        let everything = answers + readSocket.received + writeSocket.received
        for secret in [reader, writer, admin, syncSecret] {
            #expect(!everything.contains { $0.contains(secret) }, "\(secret) appeared in an answer")
        }
        #expect(everything.contains { $0.contains("SET token ***") }, "LOG shows the SET, masked")
    }
}

/// A response object with its `$ref` resolved.
func resolve(_ value: JSONValue, in document: JSONValue) -> JSONValue {
    guard let reference = value["$ref"]?.stringValue, reference.hasPrefix("#/") else { return value }
    var current: JSONValue? = document
    for part in reference.dropFirst(2).split(separator: "/") { current = current?[String(part)] }
    return current.map { resolve($0, in: document) } ?? .null
}

/// A rough check of a JSON value against a schema of the document: types, required keys, array items,
/// `allOf`, `const`. Nil when it matches.
func schemaMismatch(_ value: JSONValue, _ schema: JSONValue, in document: JSONValue, at path: String = "$") -> String? {
    let schema = resolve(schema, in: document)
    if case .array(let parts)? = schema["allOf"] {
        for part in parts { if let problem = schemaMismatch(value, part, in: document, at: path) { return problem } }
    }
    if let constant = schema["const"], constant != value { return "\(path) is \(value.text), not \(constant.text)" }
    var types = [String]()
    switch schema["type"] {
    case .string(let type)?: types = [type]
    case .array(let list)?: types = list.compactMap(\.stringValue)
    default: break
    }
    if !types.isEmpty {
        let actual: String =
            switch value {
            case .null: "null"
            case .bool: "boolean"
            case .int: "integer"
            case .double: "number"
            case .string: "string"
            case .array: "array"
            case .object: "object"
            }
        let matches = types.contains(actual) || (actual == "integer" && types.contains("number"))
        if !matches { return "\(path) is \(actual), the schema says \(types)" }
    }
    if case .array(let required)? = schema["required"], case .object(let object) = value {
        for key in required.compactMap(\.stringValue) where object[key] == nil { return "\(path) lacks \(key)" }
    }
    if case .object(let object) = value, let properties = schema["properties"]?.objectValue {
        for (key, property) in properties {
            guard let field = object[key] else { continue }
            if let problem = schemaMismatch(field, property, in: document, at: "\(path).\(key)") { return problem }
        }
    }
    if case .array(let items) = value, let itemSchema = schema["items"] {
        for (index, item) in items.enumerated() {
            if let problem = schemaMismatch(item, itemSchema, in: document, at: "\(path)[\(index)]") { return problem }
        }
    }
    return nil
}
