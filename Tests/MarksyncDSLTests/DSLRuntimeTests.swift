import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncDSL
import MarksyncLLM
import MarksyncStore
import MarksyncTestSupport
import Testing

let runtimeReadme = TestProject.readme

/// The DSL driving real agents against a real server and the fake LLM.
@Suite(.serialized) struct DSLRuntimeTests {
    struct Rig {
        let server: LiveSyncServer
        let llm: FakeLLMServer
        let orchestrator: Orchestrator
        let dsl: DSLExecutor

        func stop() async {
            await orchestrator.stop()
            await server.stop()
            await llm.stop()
        }

        func notes(by author: String) async throws -> [ReviewNote] {
            try await server.log.history(server.document, filter: HistoryFilter(author: author, kinds: [.reviewNote])).compactMap {
                if case .reviewNote(let note) = $0.body { note } else { nil }
            }
        }

        func write(_ blockID: String, _ content: String) async throws -> Int {
            var options = SyncClient.Options()
            options.name = "human"
            let client = try await SyncClient.connect(to: server.url, options: options)
            defer { Task { await client.close() } }
            return try await client.write(.full(blockID: blockID, content: content)).seq
        }
    }

    func rig() async throws -> Rig {
        let server = try await LiveSyncServer.start(markdown: runtimeReadme)
        let llm = try await FakeLLMServer.start(responder: { request in
            if request.prompt.hasPrefix("Improve") {
                let code = request.prompt.components(separatedBy: "\n\n").dropFirst().joined(separator: "\n\n")
                return .text("```python\n\(code.trimmingCharacters(in: .whitespacesAndNewlines))\n# improved\n```")
            }
            return .text("OK\nfine")
        })
        let orchestrator = try Orchestrator(plan: OrchestrationPlan(), defaults: .init(), output: .silent)
        await orchestrator.start()
        let dsl = DSLExecutor(orchestrator: orchestrator)
        let setup = await dsl.executeScript(
            """
            SET server_uri \(server.url)
            SET ollama_url \(llm.baseURL)
            SET work_dir \(server.folder.appendingPathComponent("deploy").path)
            SET debounce 0.2
            SET cooldown 0
            """)
        #expect(setup["ok"]?.boolValue == true)
        return Rig(server: server, llm: llm, orchestrator: orchestrator, dsl: dsl)
    }

    /// Waits until every agent is live.
    func live(_ rig: Rig) async throws {
        #expect(try await waitUntil { await rig.orchestrator.status().allSatisfy { $0.state == "live" } })
    }

    @Test func aScriptStartsRoutesAgentsThenKillStopsThem() async throws {
        let rig = try await rig()
        let reply = await rig.dsl.executeScript(
            """
            AGENT r1 reviewer
            ROUTE 'markpact:file=app/*' -> r1
            """)
        #expect(reply["ok"]?.boolValue == true)
        try await live(rig)
        let changed = try await rig.write("markpact:file=app/main.py", "def main():\n    return 2\n")
        let deps = try await rig.write("markpact:deps=python", "flask\n")
        #expect(try await waitUntil { try await rig.notes(by: "r1").count == 1 })
        #expect(try await waitUntil { await rig.orchestrator.status(of: "r1")?.cursor ?? 0 >= deps })
        let notes = try await rig.notes(by: "r1")
        #expect(notes.map(\.blockSeq) == [changed], "routed to app/* only")

        let status = await rig.dsl.execute("STATUS r1")
        #expect(status["result"]?["agent"]?["status"]?["reviews"]?.intValue == 1)
        #expect(status["result"]?["agent"]?["routes"] == .array([.string("markpact:file=app/*")]))

        #expect(await rig.dsl.execute("KILL r1")["ok"]?.boolValue == true)
        _ = try await rig.write("markpact:file=app/main.py", "def main():\n    return 3\n")
        try await Task.sleep(for: .seconds(1))
        #expect(try await rig.notes(by: "r1").count == 1, "a killed agent handles nothing more")
        await rig.stop()
    }

    @Test func pipeAndRouteChangeRoutingLive() async throws {
        let rig = try await rig()
        _ = await rig.dsl.executeScript("AGENT e1 editor --auto-edit\nAGENT r1 reviewer\n")
        try await live(rig)
        // On their own, both react to the human's change.
        let first = try await rig.write("markpact:file=app/main.py", "def main():\n    return 2\n")
        #expect(try await waitUntil { try await rig.notes(by: "r1").contains { $0.blockSeq == first } })
        // In a pipeline the reviewer gets the editor's result instead.
        #expect(await rig.dsl.execute("PIPE flow e1 -> r1")["ok"]?.boolValue == true)
        #expect(await rig.orchestrator.consumers().keys.sorted() == ["pipeline:flow"])
        try await live(rig)
        let second = try await rig.write("markpact:file=app/main.py", "def main():\n    return 4\n")
        let editedAgain = try await waitUntil {
            try await rig.server.log.history(rig.server.document, filter: HistoryFilter(author: "e1")).contains { $0.baseSeq == second }
        }
        #expect(editedAgain)
        let edits = try await rig.server.log.history(rig.server.document, filter: HistoryFilter(author: "e1"))
        let secondEdit = try #require(edits.first { $0.baseSeq == second })
        #expect(try await waitUntil { try await rig.notes(by: "r1").contains { $0.blockSeq == secondEdit.seq } })
        let notes = try await rig.notes(by: "r1")
        #expect(notes.contains { $0.blockSeq == secondEdit.seq }, "the pipeline's reviewer reviewed the editor's version")
        #expect(!notes.contains { $0.blockSeq == second }, "not the human's version")
        await rig.stop()
    }

    @Test func sendAsksAnAgentToActOnABlock() async throws {
        let rig = try await rig()
        _ = await rig.dsl.executeScript("AGENT r1 reviewer --watch markpact:run\nAGENT e1 editor\n")
        try await live(rig)
        let reply = await rig.dsl.execute("SEND r1 please review markpact:deps=python")
        #expect(reply["ok"]?.boolValue == true, "\(reply)")
        #expect(reply["result"]?["verdict"]?.stringValue == "ok")
        let notes = try await rig.notes(by: "r1")
        #expect(notes.count == 1)
        #expect(notes.first?.blockID == "markpact:deps=python")
        // An editor without auto-edit answers with its suggestion and writes nothing.
        let suggestion = await rig.dsl.execute("SEND e1 improve markpact:file=app/main.py")
        #expect(suggestion["result"]?["suggestion"]?.stringValue?.contains("return 1\n# improved") == true, "\(suggestion)")
        #expect(try await rig.server.log.history(rig.server.document, filter: HistoryFilter(author: "e1")).isEmpty)
        #expect(await rig.dsl.execute("SEND e1 improve nothing")["ok"]?.boolValue == false)
        #expect(await rig.dsl.execute("SEND ghost hi markpact:run")["error"]?["code"]?.stringValue == "not_found")
        await rig.stop()
    }

    @Test func deployRunsTheDeployersWhenEnabled() async throws {
        let rig = try await rig()
        _ = await rig.dsl.execute("AGENT d1 deployer")
        let off = await rig.dsl.execute("DEPLOY")
        #expect(off["ok"]?.boolValue == false, "deploys are off unless enabled")
        _ = await rig.dsl.execute("KILL d1")
        _ = await rig.dsl.executeScript("SET deploy true\nSET deploy_command 'echo deployed-$MARKSYNC_DEPLOY_SEQ'\nAGENT d1 deployer\n")
        try await live(rig)
        let head = try await rig.server.log.headSeq(rig.server.document)
        let reply = await rig.dsl.execute("DEPLOY")
        #expect(reply["ok"]?.boolValue == true, "\(reply)")
        let deploy = try #require(reply["result"]?["deploys"]?.arrayValue?.first)
        #expect(deploy["exit_code"]?.intValue == 0)
        #expect(deploy["output_tail"]?.stringValue == "deployed-\(head)")
        #expect(await rig.dsl.execute("DEPLOY")["result"]?["deploys"]?.arrayValue?.first?["up_to_date"]?.boolValue == true)
        _ = await rig.dsl.execute("DEPLOY --force")
        let events = try await rig.server.log.history(rig.server.document, filter: HistoryFilter(kinds: [.deployResult]))
        #expect(events.count == 2)
        await rig.stop()
    }

    @Test func connectChecksTheServerAndDisconnectStopsAgents() async throws {
        let rig = try await rig()
        let connected = await rig.dsl.execute("CONNECT \(rig.server.url)")
        #expect(connected["result"]?["doc"]?.stringValue == rig.server.document)
        #expect(connected["result"]?["blocks"]?.intValue == 4)
        #expect(await rig.dsl.execute("CONNECT ws://127.0.0.1:1")["error"]?["code"]?.stringValue == "unreachable")
        _ = await rig.dsl.execute("AGENT m1 monitor")
        try await live(rig)
        let stopped = await rig.dsl.execute("DISCONNECT")
        #expect(stopped["result"]?["stopped"] == .array([.string("m1")]))
        #expect(await rig.orchestrator.status(of: "m1")?.state == "stopped")
        _ = await rig.dsl.execute("CONNECT")
        try await live(rig)
        await rig.stop()
    }
}
