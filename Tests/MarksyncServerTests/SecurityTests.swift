import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Testing

// Issue 16: the attacks a web page in the user's browser, or another client of the hub, could make. Each
// test sends what the attacker sent and checks the refusal (status and reason code) and that nothing was
// stored, next to the legitimate client that must keep working.

private let securityReadme = """
    # Demo

    ```python markpact:file path=app/main.py
    print("hello")
    ```
    """

private let securedBlock = "markpact:file=app/main.py"

/// A WebSocket upgrade request for the sync socket.
private func upgrade(port: Int, path: String = "/", host: String? = nil, origin: String? = nil) -> String {
    var head = "GET \(path) HTTP/1.1\nHost: \(host ?? "127.0.0.1:\(port)")\nUpgrade: websocket\nConnection: Upgrade\n"
    head += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
    if let origin { head += "Origin: \(origin)\n" }
    return head
}

private func headEnded(_ text: String) -> Bool { text.contains("\r\n\r\n") }

@Suite struct BrowserAccessTests {
    /// A page of another site opening the sync socket gets 403 bad_origin; the server's own page and a client
    /// that sends no Origin (the CLI, agents, the Python clients) are upgraded.
    @Test func crossOriginWebSocketUpgradesAreRefused() async throws {
        let live = try await LiveSyncServer.start(markdown: securityReadme)
        defer { Task { await live.stop() } }
        for path in ["/", "/sync", "/sync/demo", "/yjs/demo"] {
            let evil = try await rawHTTP(port: live.port, upgrade(port: live.port, path: path, origin: "http://evil.example"), until: headEnded)
            #expect(rawStatus(evil) == 403, "\(path): \(evil)")
            #expect(evil.contains("bad_origin"), "\(path): \(evil)")
            let null = try await rawHTTP(port: live.port, upgrade(port: live.port, path: path, origin: "null"), until: headEnded)
            #expect(rawStatus(null) == 403, "\(path) with Origin null: \(null)")
        }
        let own = try await rawHTTP(port: live.port, upgrade(port: live.port, origin: "http://127.0.0.1:\(live.port)"), until: headEnded)
        #expect(rawStatus(own) == 101, "the server's own page: \(own)")
        let none = try await rawHTTP(port: live.port, upgrade(port: live.port), until: headEnded)
        #expect(rawStatus(none) == 101, "no Origin: \(none)")
        // And a real client with no Origin writes as before.
        let client = try await SyncClient.connect(to: live.url, name: "cli")
        let ack = try await client.write(.full(blockID: securedBlock, content: "print('ok')"))
        #expect(ack.seq > 0)
        await client.close()
    }

    /// `--allow-origin` lets a listed origin in (and only it).
    @Test func allowedOriginsAreAccepted() async throws {
        var configuration = ServerConfiguration()
        configuration.allowedOrigins = ["https://dashboard.example:8443/"]
        let policy = AccessPolicy(tokens: TokenSet(), allowedOrigins: configuration.allowedOrigins)
        #expect(throws: Never.self) { try policy.checkOrigin("https://dashboard.example:8443", host: "127.0.0.1:8765") }
        #expect(throws: AccessRefusal.self) { try policy.checkOrigin("https://dashboard.example", host: "127.0.0.1:8765") }
        #expect(throws: AccessRefusal.self) { try policy.checkOrigin("http://127.0.0.1:9999", host: "127.0.0.1:8765") }
        #expect(throws: Never.self) { try policy.checkOrigin("http://localhost:8765", host: "localhost:8765") }
        #expect(throws: Never.self) { try AccessPolicy(allowedOrigins: ["*"]).checkOrigin("http://evil.example", host: "x") }
    }

    /// A DNS-rebinding page (its own name resolved to 127.0.0.1) reaches the server with its name in Host:
    /// refused on HTTP reads and on upgrades; loopback names and IP addresses work.
    @Test func dnsRebindingHostsAreRefused() async throws {
        let live = try await LiveSyncServer.start(markdown: securityReadme)
        defer { Task { await live.stop() } }
        let read = "GET /api/v1/docs/demo/markdown HTTP/1.1\nHost: evil.example:\(live.port)\nConnection: close\n"
        let refused = try await rawHTTP(port: live.port, read)
        #expect(rawStatus(refused) == 403, "\(refused)")
        #expect(refused.contains("bad_host"))
        #expect(!refused.contains("print"), "the document must not leak: \(refused)")
        let socket = try await rawHTTP(port: live.port, upgrade(port: live.port, host: "evil.example:\(live.port)"), until: headEnded)
        #expect(rawStatus(socket) == 403, "\(socket)")
        for host in ["127.0.0.1:\(live.port)", "localhost:\(live.port)", "[::1]:\(live.port)", "app.localhost:\(live.port)"] {
            let ok = try await rawHTTP(port: live.port, "GET /api/v1/docs/demo/markdown HTTP/1.1\nHost: \(host)\nConnection: close\n")
            #expect(rawStatus(ok) == 200, "\(host): \(ok)")
        }
    }

    /// Cross-site writes over HTTP (a form or fetch from another page) are refused; the same write from the
    /// server's own page or without Origin is stored.
    @Test func crossSiteHTTPWritesAreRefused() async throws {
        let live = try await LiveSyncServer.start(markdown: securityReadme)
        defer { Task { await live.stop() } }
        let before = try await live.log.headSeq(live.document)
        let body = "print('pwned')"
        func put(origin: String?) -> String {
            var head = "PUT /api/v1/docs/demo/blocks/markpact%3Afile%3Dapp%2Fmain.py HTTP/1.1\nHost: 127.0.0.1:\(live.port)\n"
            head += "Content-Type: text/plain\nContent-Length: \(body.utf8.count)\nConnection: close\n"
            if let origin { head += "Origin: \(origin)\n" }
            return head
        }
        let evil = try await rawHTTP(port: live.port, put(origin: "http://evil.example"), body: body)
        #expect(rawStatus(evil) == 403 && evil.contains("bad_origin"), "\(evil)")
        let markdown = try await rawHTTP(
            port: live.port,
            "PUT /api/v1/docs/demo/markdown HTTP/1.1\nHost: 127.0.0.1:\(live.port)\nOrigin: http://evil.example\nContent-Length: 0\nConnection: close\n")
        #expect(rawStatus(markdown) == 403, "\(markdown)")
        #expect(try await live.log.headSeq(live.document) == before, "nothing stored")
        let own = try await rawHTTP(port: live.port, put(origin: "http://127.0.0.1:\(live.port)"), body: body)
        #expect(rawStatus(own) == 200, "\(own)")
        #expect(try await live.log.head(live.document).block(securedBlock)?.content == body)
    }

    @Test func hostNamesAndAddresses() throws {
        let policy = AccessPolicy(allowedHosts: ["hub.internal"])
        for good in ["127.0.0.1", "127.0.0.1:80", "localhost", "LOCALHOST.:1", "[::1]:8765", "10.0.0.7:8765", "hub.internal:8765", "x.localhost"] {
            #expect(throws: Never.self, "\(good)") { try policy.checkHost(good) }
        }
        for bad in ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "localhost.evil.example", "1.2.3.4.5", "٣.٣.٣.٣", "999.1.1.1"] {
            #expect(throws: AccessRefusal.self, "\(bad)") { try policy.checkHost(bad) }
        }
    }
}

@Suite struct TokenAndIdentityTests {
    @Test func tokensAreComparedByDigestAndReadFromPrivateFiles() throws {
        let tokens = try TokenSet(parsing: "adm:admin, w1:write\n# a comment\nr1:read # viewer\nbare")
        #expect(tokens.scope(of: "adm") == .admin)
        #expect(tokens.scope(of: "w1") == .write)
        #expect(tokens.scope(of: "r1") == .read)
        #expect(tokens.scope(of: "bare") == .write)
        #expect(tokens.scope(of: "adm ") == nil)
        #expect(tokens.scope(of: "") == nil)
        #expect(TokenSet.fingerprint(of: "w1") != TokenSet.fingerprint(of: "r1"))
        #expect(TokenSet.generate().count == 64 && TokenSet.generate() != TokenSet.generate())

        let folder = try temporaryFolder("tokens-file")
        let file = folder.appendingPathComponent("tokens").path
        try "s3cret:admin\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        #expect(throws: ServerError.self) { try TokenSet(contentsOfFile: file) }
        chmod(file, 0o600)
        #expect(try TokenSet(contentsOfFile: file).scope(of: "s3cret") == .admin)
    }

    /// A read token cannot move another consumer's cursor (the attacker rewound the deployer's), nor can another
    /// writer; the consumer's own token and an admin can.
    @Test func consumersBelongToTheTokenThatMadeThem() async throws {
        let live = try await LiveSyncServer.start(markdown: securityReadme, tokens: "adm:admin,w1:write,w2:write,r1:read")
        defer { Task { await live.stop() } }
        let deployer = try await SyncClient.connect(to: live.url, token: "w1", name: "api-deployer")
        let ack = try await deployer.write(.full(blockID: securedBlock, content: "v2"))
        try await deployer.setCursor(consumer: "api-deployer", seq: ack.seq)

        let reader = try await SyncClient.connect(to: live.url, token: "r1", name: "viewer")
        await #expect {
            try await reader.setCursor(consumer: "api-deployer", seq: 1)
        } throws: { error in
            if case SyncClientError.nack(let nack) = error { return nack.reason == "forbidden" }
            return false
        }
        let other = try await SyncClient.connect(to: live.url, token: "w2", name: "other")
        await #expect(throws: SyncClientError.self) { try await other.setCursor(consumer: "api-deployer", seq: 0) }
        #expect(try await live.log.cursor(document: live.document, consumer: "api-deployer") == ack.seq, "the cursor did not move")

        // Its own consumers are the reader's to move.
        try await reader.setCursor(consumer: "viewer", seq: 1)
        #expect(try await live.log.cursor(document: live.document, consumer: "viewer") == 1)
        // The owner and an admin may.
        try await deployer.setCursor(consumer: "api-deployer", seq: 1)
        let admin = try await SyncClient.connect(to: live.url, token: "adm", name: "ops")
        try await admin.setCursor(consumer: "api-deployer", seq: ack.seq)
        #expect(try await live.log.cursor(document: live.document, consumer: "api-deployer") == ack.seq)
        for client in [deployer, reader, other, admin] { await client.close() }
    }

    /// A writer claiming an agent's future message id no longer makes the agent's real write a `duplicate`:
    /// ids are scoped to the writer (its author without tokens, its token with them). A resend by the same
    /// writer is still recognised.
    @Test func messageIDsCannotBeClaimedByAnotherWriter() async throws {
        let live = try await LiveSyncServer.start(markdown: securityReadme)
        defer { Task { await live.stop() } }
        let mallory = try await SyncClient.connect(to: live.url, name: "mallory")
        let claimed = try await mallory.write(.full(blockID: securedBlock, content: "mallory", id: "deployer-1:deploy:9"))
        #expect(!claimed.duplicate)
        let agent = try await SyncClient.connect(to: live.url, name: "deployer-1")
        let real = try await agent.write(.full(blockID: securedBlock, content: "real report", id: "deployer-1:deploy:9"))
        #expect(!real.duplicate, "the real write is stored")
        #expect(real.seq > claimed.seq)
        #expect(real.id == "deployer-1:deploy:9", "the ack carries the id as sent")
        #expect(try await live.log.head(live.document).block(securedBlock)?.content == "real report")
        let again = try await agent.write(.full(blockID: securedBlock, content: "real report", id: "deployer-1:deploy:9"))
        #expect(again.duplicate && again.seq == real.seq, "a resend is still answered from the log")
        await mallory.close()
        await agent.close()

        // With tokens, by token: the same author name under another token is another writer.
        let guarded = try await LiveSyncServer.start(markdown: securityReadme, tokens: "a:write,b:write")
        defer { Task { await guarded.stop() } }
        let first = try await SyncClient.connect(to: guarded.url, token: "a", name: "deployer-1")
        let second = try await SyncClient.connect(to: guarded.url, token: "b", name: "deployer-1")
        let one = try await first.write(.full(blockID: securedBlock, content: "one", id: "x"))
        let two = try await second.write(.full(blockID: securedBlock, content: "two", id: "x"))
        #expect(!two.duplicate && two.seq > one.seq)
        await first.close()
        await second.close()
    }
}
