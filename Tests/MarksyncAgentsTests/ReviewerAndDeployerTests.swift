import AsyncHTTPClient
import Foundation
import MarksyncAgents
import MarksyncCLI
import MarksyncClient
import MarksyncCore
import MarksyncLLM
import MarksyncStore
import MarksyncTestSupport
import NIOCore
import NIOHTTP1
import Testing

@Suite(.serialized) struct ReviewerAndDeployerTests {
    @Test func aReviewNoteEventPerChangedBlockVersionVisibleInTheLogAndTheHTTPAPI() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start(responder: { request in
            .text(request.prompt.contains("return 2") ? "ERROR\n- returns the wrong value" : "OK\nlooks fine")
        })
        defer { Task { await server.stop(); await llm.stop() } }
        let plan = OrchestrationPlan(agents: [.init(name: "reviewer-1", role: "reviewer", watch: ["markpact:file=app/*"])])
        let orchestrator = try Orchestrator(plan: plan, defaults: testDefaults(server, llm, folder: server.folder), output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)
        let before = try await content(server, mainBlock)

        let person = try await human(server)
        var versions = [(seq: Int, content: String)]()
        for text in ["def main():\n    return 2\n", "def main():\n    return 3\n", "def main():\n    return 4\n"] {
            versions.append((try await person.write(.full(blockID: mainBlock, content: text)).seq, text))
        }
        let outside = try await person.write(.full(blockID: depsBlock, content: "flask\n"))  // not watched
        #expect(try await waitUntil { try await events(server, kinds: [.reviewNote]).count >= 3 })
        _ = try await waitUntil { await orchestrator.status(of: "reviewer-1")?.cursor ?? 0 >= outside.seq }
        let notes = try await events(server, kinds: [.reviewNote])
        #expect(notes.count == 3, "one note per version, none for the unwatched block")
        for (note, version) in zip(notes, versions) {
            guard case .reviewNote(let body) = note.body else { continue }
            #expect(note.author == "reviewer-1")
            #expect(body.blockID == mainBlock)
            #expect(body.blockSeq == version.seq)
            #expect(body.blockSHA256 == SHA256.hexDigest(of: version.content))
        }
        if case .reviewNote(let first) = notes[0].body {
            #expect(first.verdict == "error")
            #expect(first.text.contains("wrong value"))
        }
        #expect(try await content(server, mainBlock) == versions.last?.content, "the reviewer never edits")
        #expect(before != nil)

        // `marksync-log log` shows them.
        let capture = Console.Capture()
        let code = await Console.$capture.withValue(capture) {
            await CommandLineRunner.run(["log", "--db", server.logPath, "--doc", server.document])
        }
        #expect(code == 0)
        let reviewLines = capture.standardOutput.split(separator: "\n").filter { $0.contains("review.note") }
        #expect(reviewLines.count == 3, "\(capture.standardOutput)")
        #expect(reviewLines.allSatisfy { $0.contains("reviewer-1") })

        // The HTTP API shows them.
        let request = HTTPClientRequest(url: "\(server.httpBase)/api/v1/docs/\(server.document)/events?since=0&limit=100")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 22))
        let statusCode = Int(response.status.code)
        #expect(statusCode == 200)
        #expect(body.components(separatedBy: "review.note").count - 1 == 3, "\(body)")
        await person.close()
        await orchestrator.stop()
    }

    @Test func aDebouncedDeployRecordsExitCodeAndOutput() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start()
        defer { Task { await server.stop(); await llm.stop() } }
        var defaults = testDefaults(server, llm, folder: server.folder)
        defaults.deploy.enabled = true
        defaults.deploy.command = "echo deployed-$MARKSYNC_DEPLOY_SEQ; cat app/main.py; exit 3"
        // Long enough that the three writes below fall in one quiet window even on a loaded machine.
        defaults.deploy.debounce = .seconds(2)
        let plan = OrchestrationPlan(agents: [.init(name: "deployer-1", role: "deployer")])
        let orchestrator = try Orchestrator(plan: plan, defaults: defaults, output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)

        let person = try await human(server)
        _ = try await person.write(.full(blockID: mainBlock, content: "print('not a trigger')\n"))
        var lastSeq = 0
        for n in 1...3 { lastSeq = try await person.write(.full(blockID: runBlock, content: "echo run \(n)\n")).seq }
        let last = lastSeq
        #expect(try await waitUntil { try await !events(server, kinds: [.deployResult]).isEmpty })
        try await Task.sleep(for: .seconds(2.5))
        let deploys = try await events(server, kinds: [.deployResult])
        #expect(deploys.count == 1, "three quick changes, one deploy")
        let deploy = try #require(deploys.first)
        guard case .deployResult(let result) = deploy.body else { Issue.record("not a deploy"); return }
        #expect(deploy.author == "deployer-1")
        #expect(result.documentSeq == last)
        #expect(result.exitCode == 3)
        #expect(result.outputTail == "deployed-\(last)\nprint('not a trigger')")
        #expect(result.command == defaults.deploy.command)
        #expect(result.durationMs >= 0 && result.startedMs > 0)
        // The cursor moves past the triggers once the deploy is recorded.
        #expect(try await waitUntil { await orchestrator.status(of: "deployer-1")?.cursor ?? 0 >= last })

        // A block whose path leaves the work folder: the deploy is refused and nothing is written outside.
        let escapeName = "escape-\(UUID().uuidString).txt"
        let evil = "markpact:file=../../\(escapeName)"
        _ = try await person.write(.create(blockID: evil, kind: "file", lang: "text", meta: "path=../../\(escapeName)", content: "owned\n"))
        let trigger = try await person.write(.full(blockID: runBlock, content: "echo run 4\n"))
        #expect(try await waitUntil { try await events(server, kinds: [.deployResult]).count == 2 })
        guard case .deployResult(let refused)? = try await events(server, kinds: [.deployResult]).last?.body else {
            Issue.record("no second deploy")
            return
        }
        #expect(refused.documentSeq == trigger.seq)
        #expect(refused.exitCode == nil)
        #expect(refused.outputTail.contains("refused"), "\(refused.outputTail)")
        let workFolder = URL(fileURLWithPath: defaults.deploy.workFolder)
        let escaped = workFolder.appendingPathComponent("../../\(escapeName)").standardizedFileURL
        #expect(!FileManager.default.fileExists(atPath: escaped.path))
        await person.close()
        await orchestrator.stop()
    }

    @Test func deploysAreOffUnlessEnabled() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start()
        defer { Task { await server.stop(); await llm.stop() } }
        var defaults = testDefaults(server, llm, folder: server.folder)
        defaults.deploy.command = "touch ran"
        let orchestrator = try Orchestrator(
            plan: OrchestrationPlan(agents: [.init(name: "deployer-1", role: "deployer")]), defaults: defaults, output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)
        let person = try await human(server)
        let ack = try await person.write(.full(blockID: runBlock, content: "echo again\n"))
        #expect(try await waitUntil { await orchestrator.status(of: "deployer-1")?.cursor ?? 0 >= ack.seq })
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await events(server, kinds: [.deployResult]).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: defaults.deploy.workFolder + "/ran"))
        await person.close()
        await orchestrator.stop()
    }
}
