import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncLLM
import MarksyncStore
import MarksyncTestSupport
import Testing

@Suite(.serialized) struct RestartAndPipelineTests {
    /// Monitor seqs in an audit file.
    func auditedSeqs(_ path: String) throws -> [Int] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["seq"] as? Int
        }
    }

    @Test func anAgentStoppedMidStreamAndRestartedHandlesEveryEventExactlyOnce() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start(responder: { _ in .delay(.milliseconds(15), then: .text("OK\nfine")) })
        defer { Task { await server.stop(); await llm.stop() } }
        var defaults = testDefaults(server, llm, folder: server.folder)
        let audit = server.folder.appendingPathComponent("audit.jsonl").path
        defaults.auditFile = audit
        let plan = OrchestrationPlan(agents: [
            .init(name: "reviewer-1", role: "reviewer", watch: [mainBlock]), .init(name: "monitor-1", role: "monitor"),
        ])
        let start = try await server.log.headSeq(server.document)
        let firstRun = try Orchestrator(plan: plan, defaults: defaults, output: .silent)
        await firstRun.start()
        try await waitLive(firstRun)

        // A person writes 30 versions; the agents are stopped while they work through them, the person
        // writes 30 more while they are down, then they start again.
        let person = try await human(server)
        func write(_ range: Range<Int>) async throws -> [Int] {
            var seqs = [Int]()
            for n in range {
                seqs.append(try await person.write(.full(blockID: mainBlock, content: "def main():\n    return \(n)\n")).seq)
                try await Task.sleep(for: .milliseconds(5))
            }
            return seqs
        }
        var written = try await write(0..<30)
        #expect(try await waitUntil(timeout: .seconds(60)) { await firstRun.status(of: "reviewer-1")?.reviews ?? 0 >= 10 })
        await firstRun.stop()
        let reviewedBeforeStop = await firstRun.status(of: "reviewer-1")?.reviews ?? 0
        #expect(reviewedBeforeStop >= 10 && reviewedBeforeStop < 60, "stopped mid-stream after \(reviewedBeforeStop) reviews")
        written += try await write(30..<60)
        await person.close()
        // As if the process died before storing its last cursors: the server resends a few events.
        for consumer in ["reviewer-1", "monitor-1"] {
            let cursor = try #require(try await server.log.cursor(document: server.document, consumer: consumer))
            try await server.log.setCursor(document: server.document, consumer: consumer, seq: max(start, cursor - 5))
        }
        let allWritten = written
        let orchestrator = try Orchestrator(plan: plan, defaults: defaults, output: .silent)
        await orchestrator.start()
        // Review notes are events too: wait until the monitor saw everything up to the head.
        let done = try await waitUntil(timeout: .seconds(90)) {
            let reviews = try await events(server, kinds: [.reviewNote]).count
            let head = try await server.log.headSeq(server.document)
            let monitorCursor = await orchestrator.status(of: "monitor-1")?.cursor ?? 0
            return reviews == allWritten.count && monitorCursor == head
        }
        #expect(done)
        await orchestrator.stop()

        let notes = try await events(server, kinds: [.reviewNote])
        let reviewed = notes.compactMap { event -> Int? in if case .reviewNote(let note) = event.body { note.blockSeq } else { nil } }
        #expect(reviewed.sorted() == written, "every version reviewed exactly once")
        let head = try await server.log.headSeq(server.document)
        let seqs = try auditedSeqs(audit)
        #expect(seqs.count == Set(seqs).count, "no event audited twice")
        #expect(Set(seqs) == Set((start + 1)...head), "every event audited")
    }

    @Test func routesAndPipelinesDecideWhoHandlesWhat() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start(responder: { improvedReply($0) })
        defer { Task { await server.stop(); await llm.stop() } }
        let plan = try AgentsFile.parse(
            """
            agents:
              app-editor: {role: editor, auto_edit: true}
              app-reviewer: {role: reviewer}
              deps-reviewer: {role: reviewer}
              audit: {role: monitor}
            pipelines:
              review-flow: {stages: [app-editor, app-reviewer]}
            routes:
              - {pattern: "markpact:file=app/*", agent: app-editor}
              - {pattern: "markpact:file=app/*", agent: app-reviewer}
              - {pattern: "markpact:deps*", agent: deps-reviewer}
            """)
        var defaults = testDefaults(server, llm, folder: server.folder)
        defaults.auditFile = server.folder.appendingPathComponent("audit.jsonl").path
        let orchestrator = try Orchestrator(plan: plan, defaults: defaults, output: .silent)
        await orchestrator.start()
        #expect(await orchestrator.consumers().keys.sorted() == ["audit", "deps-reviewer", "pipeline:review-flow"])
        try await waitLive(orchestrator)

        let person = try await human(server)
        let human1 = try await person.write(.full(blockID: mainBlock, content: "def main():\n    return 5\n"))
        let human2 = try await person.write(.full(blockID: depsBlock, content: "fastapi\nhttpx\n"))
        let human3 = try await person.write(.full(blockID: runBlock, content: "echo routed to nobody\n"))
        #expect(try await waitUntil { try await events(server, kinds: [.reviewNote]).count >= 2 })
        _ = try await waitUntil {
            let head = try await server.log.headSeq(server.document)
            let statuses = await orchestrator.status()
            let auditCursor = statuses.first { $0.name == "audit" }?.cursor ?? 0
            return statuses.allSatisfy { $0.cursor >= human3.seq } && auditCursor == head
        }
        try await Task.sleep(for: .milliseconds(300))

        // The editor improved app/main.py; the pipeline's reviewer reviewed the editor's version, not the human's.
        let edit = try #require(try await events(server, author: "app-editor").first)
        #expect(edit.baseSeq == human1.seq)
        let notes = try await events(server, kinds: [.reviewNote]).compactMap { event -> (String, ReviewNote)? in
            if case .reviewNote(let note) = event.body { (event.author, note) } else { nil }
        }
        #expect(notes.count == 2, "\(notes)")
        let appNote = try #require(notes.first { $0.0 == "app-reviewer" })
        #expect(appNote.1.blockID == mainBlock)
        #expect(appNote.1.blockSeq == edit.seq, "the reviewer stage got the editor's result")
        let depsNote = try #require(notes.first { $0.0 == "deps-reviewer" })
        #expect(depsNote.1.blockID == depsBlock)
        #expect(depsNote.1.blockSeq == human2.seq)
        #expect(!notes.contains { $0.1.blockID == runBlock }, "no route names a reviewer for the run block")
        // The monitor (on its own) audited every event: the human's, the editor's and the notes.
        let audited = Set(try auditedSeqs(defaults.auditFile!))
        let head = try await server.log.headSeq(server.document)
        #expect(audited == Set((human1.seq)...head))
        let statuses = await orchestrator.status()
        #expect(statuses.first { $0.name == "app-reviewer" }?.pipelines == ["review-flow"])
        #expect(statuses.allSatisfy { $0.lastError == nil }, "\(statuses.compactMap(\.lastError))")
        await person.close()
        await orchestrator.stop()
    }

    @Test func anLLMThatIsDownOrLacksTheModelIsReportedAndTheAgentKeepsRunning() async throws {
        let server = try await LiveSyncServer.start(markdown: demoReadme)
        let llm = try await FakeLLMServer.start(models: ["other-model"])
        defer { Task { await server.stop(); await llm.stop() } }
        let plan = OrchestrationPlan(agents: [.init(name: "reviewer-1", role: "reviewer")])
        let orchestrator = try Orchestrator(plan: plan, defaults: testDefaults(server, llm, folder: server.folder), output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)
        let person = try await human(server)
        let ack = try await person.write(.full(blockID: mainBlock, content: "x = 1\n"))
        #expect(try await waitUntil { await orchestrator.status(of: "reviewer-1")?.lastError != nil })
        let status = try #require(await orchestrator.status(of: "reviewer-1"))
        #expect(status.lastError?.contains("qwen2.5-coder:7b") == true, "\(status.lastError ?? "")")
        #expect(status.llmFailures == 1)
        #expect(await llm.generationCount == 1, "a missing model is not retried")
        // It goes on: the cursor moved past the event, and it handles the next one when the model is there.
        #expect(try await waitUntil { await orchestrator.status(of: "reviewer-1")?.cursor ?? 0 >= ack.seq })
        #expect(status.state == "live")
        await person.close()
        await orchestrator.stop()
    }
}
