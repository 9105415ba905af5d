import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MarksyncCore
import MarksyncServer
import MarksyncStore
import NIOCore
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A server on a temp log with the task-manager example as document "tasks".
func makeServer(tokens: String? = nil, readme: Bool = false) async throws -> (SyncServer, URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let log = try await EventLog.open(path: folder.appendingPathComponent("log.db").path)
    var configuration = ServerConfiguration()
    configuration.port = 0
    configuration.filePollMilliseconds = 50
    configuration.projectionDelayMilliseconds = 10
    if let tokens { configuration.tokens = try TokenSet(parsing: tokens) }
    let server = SyncServer(log: log, configuration: configuration)
    let example = try String(contentsOf: repoRoot.appendingPathComponent("examples/task-manager-api/README.md"), encoding: .utf8)
    if readme {
        let path = folder.appendingPathComponent("README.md")
        try Data(example.utf8).write(to: path)
        try await server.addDocument("tasks", readme: path.path)
    } else {
        _ = try await log.ingest(document: "tasks", markdown: example, author: "setup")
        try await server.addDocument("tasks")
    }
    return (server, folder)
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: JSONValue? { JSONValue.parse(Array(body.readableBytesView)) }
}

struct HTTPAPITests {
    @Test func healthDocsBlocksAndMarkdown() async throws {
        let (server, _) = try await makeServer()
        let example = try String(contentsOf: repoRoot.appendingPathComponent("examples/task-manager-api/README.md"), encoding: .utf8)
        try await server.application().test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            #expect(health.json?["status"] == "ok")
            #expect(health.json?["seq"]?.intValue == 6)
            let docs = try await client.execute(uri: "/api/v1/docs", method: .get)
            #expect(docs.json == [["name": "tasks", "seq": 6, "blocks": 5]])
            let blocks = try await client.execute(uri: "/api/v1/docs/tasks/blocks", method: .get)
            guard case .array(let list) = blocks.json else {
                Issue.record("blocks is not a list")
                return
            }
            #expect(list.count == 5)
            let block = try await client.execute(uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .get)
            #expect(block.json?["content"]?.stringValue?.hasPrefix("uvicorn") == true)
            let markdown = try await client.execute(uri: "/api/v1/docs/tasks/markdown", method: .get)
            #expect(markdown.text == example)
            #expect(markdown.headers[.contentType]?.hasPrefix("text/markdown") == true)
            let old = try await client.execute(uri: "/api/v1/docs/tasks/markdown?at=1", method: .get)
            #expect(old.text.count < example.count)
        }
    }

    @Test func putWithIfMatchAndDelete() async throws {
        let (server, _) = try await makeServer()
        try await server.application().test(.router) { client in
            let current = try await client.execute(uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .get)
            let sha = try #require(current.json?["sha256"]?.stringValue)
            let put = try await client.execute(
                uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .put, headers: [.ifMatch: "\"\(sha)\"", .contentType: "text/plain"],
                body: ByteBuffer(string: "echo new"))
            #expect(put.status == .ok)
            #expect(put.json?["seq"]?.intValue == 7)
            // The same If-Match again: the block moved on → 409 with the current content.
            let stale = try await client.execute(
                uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .put, headers: [.ifMatch: "\"\(sha)\""],
                body: ByteBuffer(string: "echo other"))
            #expect(stale.status == .preconditionFailed || stale.status == .conflict)
            #expect(stale.json?["error"]?["code"] == "conflict")
            let json = try await client.execute(
                uri: "/api/v1/docs/tasks/blocks/markpact%3Afile%3Dnew.py", method: .put, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"content": "print('créé 😀')"}"#))
            #expect(json.status == .ok)
            let created = try await client.execute(uri: "/api/v1/docs/tasks/blocks/markpact%3Afile%3Dnew.py", method: .get)
            #expect(created.json?["content"] == "print('créé 😀')")
            let deleted = try await client.execute(uri: "/api/v1/docs/tasks/blocks/markpact%3Afile%3Dnew.py", method: .delete)
            #expect(deleted.status == .ok)
            let gone = try await client.execute(uri: "/api/v1/docs/tasks/blocks/markpact%3Afile%3Dnew.py", method: .get)
            #expect(gone.status == .notFound)
            #expect(gone.json?["error"]?["code"] == "unknown_block")
        }
        #expect(try await server.log.headSeq("tasks") == 9)
    }

    @Test func eventsDiffBlameAndErrors() async throws {
        let (server, _) = try await makeServer()
        _ = try await server.log.append(
            WriteRequest(document: "tasks", author: "bob", change: .full(blockID: "markpact:run", content: "echo 1\necho 2")))
        try await server.application().test(.router) { client in
            let events = try await client.execute(uri: "/api/v1/docs/tasks/events?since=5&limit=10", method: .get)
            guard case .array(let list) = events.json?["events"] else {
                Issue.record("no events list")
                return
            }
            #expect(list.map { $0["seq"]?.intValue } == [6, 7])
            #expect(list.last?["author"] == "bob")
            let diff = try await client.execute(uri: "/api/v1/docs/tasks/diff?from=6&to=7&block=markpact%3Arun", method: .get)
            #expect(diff.text.contains("+echo 2"))
            let blame = try await client.execute(uri: "/api/v1/docs/tasks/blame/markpact%3Arun", method: .get)
            guard case .array(let lines) = blame.json else {
                Issue.record("blame is not a list: \(blame.text)")
                return
            }
            #expect(lines.map { $0["text"]?.stringValue } == ["echo 1", "echo 2"])
            #expect(lines.map { $0["seq"]?.intValue } == [7, 7])
            #expect(lines.map { $0["author"]?.stringValue } == ["bob", "bob"])
            for (uri, status, code) in [
                ("/api/v1/docs/nope/blocks", HTTPResponse.Status.notFound, "unknown_document"),
                ("/api/v1/docs/tasks/markdown?at=999", .badRequest, "bad_seq"),
                ("/api/v1/docs/tasks/markdown?at=-1", .badRequest, "bad_parameter"),
                ("/api/v1/docs/tasks/blame/markpact%3Anope", .notFound, "unknown_block"),
            ] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == status, "\(uri)")
                #expect(response.json?["error"]?["code"]?.stringValue == code, "\(uri): \(response.text)")
            }
        }
    }

    @Test func metricsArePrometheusText() async throws {
        let (server, _) = try await makeServer()
        try await server.application().test(.router) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains("# TYPE marksync_acks_total counter"))
            #expect(metrics.text.contains("marksync_document_seq{doc=\"tasks\"} 6"))
            #expect(metrics.text.contains("marksync_commit_seconds_bucket{le=\"+Inf\"}"))
        }
    }

    @Test func tokensAndScopes() async throws {
        let (server, _) = try await makeServer(tokens: "reader:read,writer:write")
        try await server.application().test(.router) { client in
            #expect(try await client.execute(uri: "/api/v1/docs", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/docs", method: .get, headers: [.authorization: "Bearer reader"]).status == .ok)
            let put = try await client.execute(
                uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .put, headers: [.authorization: "Bearer reader"],
                body: ByteBuffer(string: "x"))
            #expect(put.status == .forbidden)
            let allowed = try await client.execute(
                uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .put, headers: [.authorization: "Bearer writer"],
                body: ByteBuffer(string: "x"))
            #expect(allowed.status == .ok)
        }
    }

    @Test func readmeProjectionFollowsTheLogAndPicksUpFileEdits() async throws {
        let (server, folder) = try await makeServer(readme: true)
        let path = folder.appendingPathComponent("README.md").path
        try await server.application().test(.live) { client in
            _ = try await client.execute(
                uri: "/api/v1/docs/tasks/blocks/markpact%3Arun", method: .put, body: ByteBuffer(string: "echo from the api"))
            // The file follows the log (written atomically by the projection).
            var text = ""
            for _ in 0..<100 {
                text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                if text.contains("echo from the api") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(text.contains("echo from the api"))
            #expect(try await server.log.head("tasks").render() == text)
            // An edit made to the file becomes an event by author `file`.
            try Data(text.replacingOccurrences(of: "echo from the api", with: "echo from the file").utf8).write(to: URL(fileURLWithPath: path))
            var author = ""
            for _ in 0..<100 {
                author = try await server.log.history("tasks").last?.author ?? ""
                if author == "file", try await server.log.head("tasks").block("markpact:run")?.content == "echo from the file" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(author == "file")
            #expect(try await server.log.head("tasks").block("markpact:run")?.content == "echo from the file")
        }
    }
}
