import Foundation
import MarksyncAgents
import MarksyncControl
import MarksyncCore
import MarksyncDSL
import NIOHTTP1
import MarksyncTestSupport
import Testing

// Issue 16: a web page in the user's browser ran shell commands through the control API (no token by
// default, text/plain POSTs need no CORS preflight, /ws/dsl took any Origin). Each step of that attack is
// refused now.

@Suite struct ControlSecurityTests {
    /// The attacker's chain, posted cross-site as text/plain without a token: every step refused, no file written.
    @Test func theCrossSiteCommandChainIsRefused() async throws {
        let harness = try await ControlHarness.start()
        defer { Task { await harness.stop() } }
        let marker = harness.live.folder.appendingPathComponent("pwned").path
        let chain = ["SET deploy true", "SET deploy_command \"id > \(marker)\"", "AGENT evil deployer", "DEPLOY --force"]
        for line in chain {
            let body = JSONValue.object(["command": .string(line)]).text
            // What a page's <form enctype=text/plain> or a no-cors fetch sends: no token, text/plain, another Origin.
            let head = """
                POST /api/v1/execute HTTP/1.1
                Host: 127.0.0.1:\(harness.port)
                Origin: http://evil.example
                Content-Type: text/plain
                Content-Length: \(body.utf8.count)
                Connection: close

                """
            let reply = try await rawHTTP(port: harness.port, head, body: body)
            #expect(rawStatus(reply) == 403, "\(line): \(reply)")
            // Without the Origin (a local script, not a browser), still no token: 401.
            let noOrigin = try await http(.POST, "\(harness.base)/api/v1/execute", body: body, token: nil, headers: [("Content-Type", "text/plain")])
            #expect(noOrigin.status == 401, "\(line)")
            // With the token but as text/plain: 415, so no page can post it without a preflight.
            let plain = try await http(.POST, "\(harness.base)/api/v1/execute", body: body, headers: [("Content-Type", "text/plain")])
            #expect(plain.status == 415 && plain.errorCode == "bad_content_type", "\(line): \(plain.text)")
        }
        #expect(await harness.orchestrator.agent("evil") == nil)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(await harness.executor.currentSettings(masked: false)["deploy_command"] != "id > \(marker)")
    }

    /// /ws/dsl from another site's page is refused even with a token in the URL; a DNS-rebinding Host too.
    @Test func theDSLSocketChecksOriginAndHost() async throws {
        let harness = try await ControlHarness.start()
        defer { Task { await harness.stop() } }
        func upgrade(host: String, origin: String?) -> String {
            var head = "GET /ws/dsl?token=\(harnessToken) HTTP/1.1\nHost: \(host)\nUpgrade: websocket\nConnection: Upgrade\n"
            head += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
            if let origin { head += "Origin: \(origin)\n" }
            return head
        }
        let ended: @Sendable (String) -> Bool = { $0.contains("\r\n\r\n") }
        let own = "127.0.0.1:\(harness.port)"
        let evil = try await rawHTTP(port: harness.port, upgrade(host: own, origin: "http://evil.example"), until: ended)
        #expect(rawStatus(evil) == 403 && evil.contains("bad_origin"), "\(evil)")
        let rebound = try await rawHTTP(port: harness.port, upgrade(host: "evil.example:\(harness.port)", origin: nil), until: ended)
        #expect(rawStatus(rebound) == 403 && rebound.contains("bad_host"), "\(rebound)")
        let ok = try await rawHTTP(port: harness.port, upgrade(host: own, origin: "http://\(own)"), until: ended)
        #expect(rawStatus(ok) == 101, "\(ok)")
    }
}
