import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MarksyncCLI
import MarksyncCore
import MarksyncServer
import MarksyncStore
import NIOCore
import Testing

/// The Yjs projection's HTTP routes, `export-yjs`, the Yjs checkpoints of the log, and the y-websocket
/// endpoint spoken to directly (no reader needed).
@Suite struct YjsEndpointTests {
    @Test func httpExportAtSeqAndFromAStateVector() async throws {
        let (server, folder) = try await makeServer()
        defer { try? FileManager.default.removeItem(at: folder) }
        let head = try await server.log.headSeq("tasks")
        let atHead = try await server.log.yjsUpdate("tasks")
        let atTwo = try await server.log.yjsUpdate("tasks", at: 2)
        let vector = try await server.log.yjsProjection("tasks", at: 2).stateVector
        try await server.application().test(.router) { client in
            let whole = try await client.execute(uri: "/api/v1/docs/tasks/yjs", method: .get)
            #expect(whole.status == .ok)
            #expect(whole.headers[.contentType] == "application/octet-stream")
            #expect(whole.headers[HTTPField.Name("X-Marksync-Seq")!] == String(head))
            #expect(Array(whole.body.readableBytesView) == atHead)
            let old = try await client.execute(uri: "/api/v1/docs/tasks/yjs?at=2", method: .get)
            #expect(Array(old.body.readableBytesView) == atTwo)
            let base64 = Data(vector.encoded).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let diff = try await client.execute(uri: "/api/v1/docs/tasks/yjs?sv=\(base64)", method: .get)
            let bytes = Array(diff.body.readableBytesView)
            #expect(bytes == (try await server.log.yjsUpdate("tasks", from: vector)))
            #expect(bytes.count < atHead.count)
            // Only the clocks past the vector are sent.
            for item in try YjsUpdate(decoding: bytes).structs {
                #expect(item.clock + item.length > vector[UInt32(item.client)])
            }
            let bad = try await client.execute(uri: "/api/v1/docs/tasks/yjs?sv=%%%", method: .get)
            #expect(bad.status == .badRequest)
            #expect(bad.json?["error"]?["code"] == "bad_state_vector")
            let past = try await client.execute(uri: "/api/v1/docs/tasks/yjs?at=\(head + 1)", method: .get)
            #expect(past.status == .badRequest)
            let missing = try await client.execute(uri: "/api/v1/docs/nope/yjs", method: .get)
            #expect(missing.status == .notFound)
            let authors = try await client.execute(uri: "/api/v1/docs/tasks/yjs/authors", method: .get)
            #expect(authors.json?["clients"]?[String(YjsProjection.clientID(for: "setup"))] == "setup")
            #expect(authors.json?["seq"]?.intValue == head)
            #expect(authors.json?["format"]?.stringValue == YjsProjection.format)
        }
    }

    /// Two authors whose FNV-1a ids collide (the first repeat of a birthday search over `author-0`,
    /// `author-1`, …; see Tests/MarksyncCoreTests/YjsClientIDTests.swift): the later one in log order is
    /// listed under FNV-1a of `name#1`, and each id stands for one author.
    @Test func authorsRouteWithCollidingAuthors() async throws {
        let (first, second) = ("author-422789", "author-639192")
        #expect(YjsProjection.clientID(for: first) == YjsProjection.clientID(for: second))
        let (log, folder) = try await YjsTestKit.collidingAuthorsLog()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = SyncServer(log: log, configuration: configuration)
        try await server.addDocument("demo")
        try await server.application().test(.router) { client in
            let response = try await client.execute(uri: "/api/v1/docs/demo/yjs/authors", method: .get)
            #expect(response.status == .ok)
            let expected: JSONValue = .object([
                String(YjsProjection.clientID(for: first)): .string(first),
                String(YjsProjection.clientID(for: second + "#1")): .string(second),
            ])
            #expect(response.json?["clients"] == expected)
            // Before the second author's first event, only the first is listed.
            let early = try await client.execute(uri: "/api/v1/docs/demo/yjs/authors?at=1", method: .get)
            #expect(early.json?["clients"] == .object([String(YjsProjection.clientID(for: first)): .string(first)]))
        }
    }

    @Test func tokensGuardTheYjsRoutes() async throws {
        let (server, folder) = try await makeServer(tokens: "reader:read")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await server.application().test(.router) { client in
            let refused = try await client.execute(uri: "/api/v1/docs/tasks/yjs", method: .get)
            #expect(refused.status == .unauthorized)
            let allowed = try await client.execute(uri: "/api/v1/docs/tasks/yjs", method: .get, headers: [.authorization: "Bearer reader"])
            #expect(allowed.status == .ok)
        }
    }

    @Test func exportYjsCommand() async throws {
        let (log, folder) = try await YjsTestKit.randomLog(seed: 5, events: 300, checkpointEvents: 64)
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("log.db").path
        let out = folder.appendingPathComponent("demo.yjs").path
        let capture = Console.Capture()
        let status = await Console.$capture.withValue(capture) {
            await CommandLineRunner.run(["export-yjs", "--db", db, "--doc", "demo", "--at", "120", "--out", out])
        }
        #expect(status == 0, "\(capture.standardError)")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: out))) == (try await log.yjsUpdate("demo", at: 120)))
        let printed = Console.Capture()
        let base64Status = await Console.$capture.withValue(printed) {
            await CommandLineRunner.run(["export-yjs", "--db", db, "--base64"])
        }
        #expect(base64Status == 0)
        let decoded = Data(base64Encoded: printed.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)).map { [UInt8]($0) }
        #expect(decoded == (try await log.yjsUpdate("demo")))
        let listing = Console.Capture()
        _ = await Console.$capture.withValue(listing) { await CommandLineRunner.run(["export-yjs", "--db", db, "--authors"]) }
        let json = JSONValue.parse(Array(listing.standardOutput.utf8))
        #expect(json?["clients"]?[String(YjsProjection.clientID(for: "alice"))] == "alice")
        let wrong = Console.Capture()
        let wrongStatus = await Console.$capture.withValue(wrong) { await CommandLineRunner.run(["export-yjs", "--db", db, "--at", "9999"]) }
        #expect(wrongStatus == 2)
    }

    @Test func websocketSyncReadOnlyAndLive() async throws {
        try await InteropKit.withServer(readme: nil) { server, port, _ in
            _ = try await server.log.append(WriteRequest(document: "demo", author: "alice", change: .full(blockID: "markpact:run", content: "echo 😀")))
            let socket = try await YjsSocket.connect(port: port, path: "/yjs/demo")
            defer { Task { await socket.close() } }
            // The server speaks first: sync step 1 with its state vector.
            let first = try #require(await socket.next())
            let projection = try await server.log.yjsProjection("demo")
            #expect(first == .syncStep1(projection.stateVector.encoded))
            // A fresh client's step 1 is answered with the whole document.
            try await socket.send(.syncStep1(YjsStateVector().encoded))
            let step2 = await socket.next { if case .syncStep2 = $0 { true } else { false } }
            #expect(step2 == .syncStep2(projection.encodeStateAsUpdate()))
            // An empty step 2 (what a Yjs client answers) is accepted silently; an update is refused.
            try await socket.send(.syncStep2([0, 0]))
            var other = YjsDocument()
            other.begin(client: 99)
            other.mapSetText(.blocks, "markpact:run", "hijack")
            try await socket.send(.update(other.commit()))
            let denied = await socket.next { if case .permissionDenied = $0 { true } else { false } }
            guard case .permissionDenied(let reason) = denied else {
                Issue.record("no permission-denied message")
                return
            }
            #expect(reason.contains("read-only") && reason.contains("2 struct(s)"))
            // Still connected: the next log event arrives as an update in seq order.
            let before = projection.stateVector
            _ = try await server.log.append(WriteRequest(document: "demo", author: "bob", change: .full(blockID: "markpact:run", content: "echo 🎉")))
            let live = await socket.next { if case .update = $0 { true } else { false } }
            guard case .update(let bytes) = live else {
                Issue.record("no live update")
                return
            }
            let expected = try await server.log.yjsEventUpdates("demo", after: 1, through: 2)
            #expect(bytes == expected[0].update)
            #expect(try YjsUpdate(decoding: bytes).structs.allSatisfy { $0.clock >= before[UInt32($0.client)] })
            // Awareness: a query gets the states the room knows (none yet), then a state is kept.
            try await socket.send(.queryAwareness)
            let none = await socket.next { if case .awareness = $0 { true } else { false } }
            #expect(none == .awareness(YjsAwarenessUpdate([]).encoded))
            #expect(!socket.isClosed)
        }
    }

    @Test func websocketRefusesUnknownDocumentsAndMissingTokens() async throws {
        try await InteropKit.withServer(readme: nil, configure: { $0.tokens = try! TokenSet(parsing: "viewer:read") }) { _, port, _ in
            await #expect(throws: (any Error).self) { _ = try await YjsSocket.connect(port: port, path: "/yjs/nope?token=viewer") }
            let anonymous = try await YjsSocket.connect(port: port, path: "/yjs/demo")
            let denied = await anonymous.next()
            guard case .permissionDenied(let reason) = denied else {
                Issue.record("expected permission denied, got \(String(describing: denied))")
                return
            }
            #expect(reason.hasPrefix("unauthorized"))
            let viewer = try await YjsSocket.connect(port: port, path: "/yjs/demo?token=viewer")
            defer { Task { await viewer.close() } }
            let first = await viewer.next()
            guard case .syncStep1 = first else {
                Issue.record("expected sync step 1, got \(String(describing: first))")
                return
            }
        }
    }
}
