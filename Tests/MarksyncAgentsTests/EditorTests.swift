import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncLLM
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Synchronization
import Testing

@Suite(.serialized) struct EditorTests {
    @Test func autoEditLandsAsAPatchByTheEditorBasedOnTheVersionItRead() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start(responder: { improvedReply($0) })
        defer { Task { await server.stop(); await llm.stop() } }
        let plan = OrchestrationPlan(agents: [.init(name: "editor-1", role: "editor", autoEdit: true)])
        let orchestrator = try Orchestrator(plan: plan, defaults: testDefaults(server, llm, folder: server.folder), output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)

        let person = try await human(server)
        let edited = "import sys\n\n\ndef greet(name):\n    return \"hello \" + name\n\n\ndef main():\n    return 2\n"
        let ack = try await person.write(.full(blockID: mainBlock, content: edited))
        let landed = try await waitUntil { try await !events(server, author: "editor-1").isEmpty }
        #expect(landed)
        let edits = try await events(server, author: "editor-1")
        #expect(edits.count == 1)
        let edit = try #require(edits.first)
        #expect(edit.baseSeq == ack.seq, "the edit is based on the version the editor read")
        // Scoped to its writer in the log; as sent: the agent's name, its random key, the seq it reacted to.
        let sent = MessageIDScope.unscoped(edit.clientMessageID ?? "")
        #expect(sent.hasPrefix("editor-1:") && sent.hasSuffix(":edit:\(ack.seq)") && sent.split(separator: ":").count == 4, "\(sent)")
        if case .blockPatched = edit.body {} else { Issue.record("expected a patch, got \(edit.body.kind)") }
        #expect(try await content(server, mainBlock) == edited + "# improved\n", "fences stripped, code kept")
        // The edit is in the log before the agent has its ack (and counts the write): wait for the count.
        #expect(try await waitUntil(timeout: .seconds(60)) { await orchestrator.status(of: "editor-1")?.writes == 1 })
        let status = try #require(await orchestrator.status(of: "editor-1"))
        #expect(status.llmCalls == 1)
        #expect(status.writes == 1)
        // Only code blocks: a YAML file and the deps block are not sent to the LLM.
        _ = try await person.write(.full(blockID: "markpact:file=config/settings.yaml", content: "debug: false\n"))
        let last = try await person.write(.full(blockID: depsBlock, content: "fastapi\nuvicorn\n"))
        _ = try await waitUntil { await orchestrator.status(of: "editor-1")?.cursor ?? 0 >= last.seq }
        #expect(await llm.generationCount == 1)
        await person.close()
        await orchestrator.stop()
    }

    @Test func aConcurrentHumanEditIsNotLost() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        // The LLM takes a while: the person edits again meanwhile.
        let llm = try await FakeLLMServer.start(responder: { .delay(.milliseconds(700), then: improvedReply($0)) })
        defer { Task { await server.stop(); await llm.stop() } }
        let plan = OrchestrationPlan(agents: [.init(name: "editor-1", role: "editor", autoEdit: true)])
        let orchestrator = try Orchestrator(plan: plan, defaults: testDefaults(server, llm, folder: server.folder), output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)

        let person = try await human(server)
        let first = try await person.write(.full(blockID: mainBlock, content: "def main():\n    return 2\n"))
        _ = try await waitUntil { await llm.generationCount == 1 }
        // A second human edit of the first line, made while the editor waits for its LLM.
        let dmp = DiffMatchPatch()
        let second = "def main(argv):\n    return 2\n"
        let patch = dmp.patchToText(dmp.patchMake("def main():\n    return 2\n", second))
        let secondAck = try await person.write(.patch(blockID: mainBlock, patch: patch, baseSeq: first.seq))
        let settled = try await waitUntil {
            let status = await orchestrator.status(of: "editor-1")
            return (status?.writes ?? 0) + (status?.conflicts ?? 0) >= 1
        }
        #expect(settled)
        let final = try #require(try await content(server, mainBlock))
        #expect(final.hasPrefix("def main(argv):"), "the human's edit survives: \(final.debugDescription)")
        let status = try #require(await orchestrator.status(of: "editor-1"))
        if status.writes == 1 {
            // Rebased onto the human's edit: both changes are there.
            #expect(final == "def main(argv):\n    return 2\n# improved\n")
            let edit = try #require(try await events(server, author: "editor-1").first)
            #expect(edit.seq > secondAck.seq)
        } else {
            #expect(status.conflicts == 1)
            #expect(final == second)
        }
        await person.close()
        await orchestrator.stop()
    }

    @Test func twoAutoEditEditorsDoNotPingPong() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        // An LLM that always finds something to add: without protection two editors would never stop.
        let counter = Counter()
        let llm = try await FakeLLMServer.start(responder: { request in
            let n = counter.next()
            return .text("\(promptCode(request.prompt).trimmingCharacters(in: .whitespacesAndNewlines))\n# pass \(n)")
        })
        defer { Task { await server.stop(); await llm.stop() } }
        // Two orchestrators, as two separate processes would be: neither knows the other is an editor.
        var defaults = testDefaults(server, llm, folder: server.folder)
        defaults.editCooldown = .seconds(30)
        let first = try Orchestrator(
            plan: OrchestrationPlan(agents: [.init(name: "editor-a", role: "editor", autoEdit: true)]), defaults: defaults, output: .silent)
        let second = try Orchestrator(
            plan: OrchestrationPlan(agents: [.init(name: "editor-b", role: "editor", autoEdit: true)]), defaults: defaults, output: .silent)
        await first.start()
        await second.start()
        try await waitLive(first)
        try await waitLive(second)

        let person = try await human(server)
        _ = try await person.write(.full(blockID: mainBlock, content: "def main():\n    return 3\n"))
        // Wait until nothing moves for 2 s: LLM calls and the log's head stay put (or 60 s pass).
        let quiet = try await settle(llm, server)
        #expect(quiet, "the editors kept going")
        let calls = await llm.generationCount
        #expect(calls <= 2, "each editor reacts to the human's edit at most once: \(calls) calls")
        #expect(try await events(server, author: "editor-a").count + (try await events(server, author: "editor-b").count) <= 2)

        // In one orchestrator the editors know each other: an editor never sends another's result to its LLM.
        await first.stop()
        await second.stop()
        let before = await llm.generationCount
        let together = try Orchestrator(
            plan: OrchestrationPlan(agents: [
                .init(name: "editor-c", role: "editor", autoEdit: true), .init(name: "editor-d", role: "editor", autoEdit: true),
            ]), defaults: defaults, output: .silent)
        await together.start()
        try await waitLive(together)
        _ = try await person.write(.full(blockID: modelsBlock, content: "class Task:\n    done = False\n"))
        #expect(try await settle(llm, server))
        #expect(await llm.generationCount - before <= 2)
        let statuses = await together.status()
        #expect(statuses.map(\.llmCalls).reduce(0, +) == (await llm.generationCount) - before)
        await person.close()
        await together.stop()
    }
}

/// Waits until the LLM's call count and the log's head have not moved for `quiet`; false after `limit`.
func settle(_ llm: FakeLLMServer, _ server: LiveSyncServer, quiet: Duration = .seconds(2), limit: Duration = .seconds(60)) async throws
    -> Bool
{
    let deadline = ContinuousClock.now + limit
    var last = (await llm.generationCount, try await server.log.headSeq(server.document))
    var since = ContinuousClock.now
    while ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(100))
        let now = (await llm.generationCount, try await server.log.headSeq(server.document))
        if now != last {
            last = now
            since = ContinuousClock.now
        } else if ContinuousClock.now - since >= quiet {
            return true
        }
    }
    return false
}

/// A thread-safe counter for fake replies.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
