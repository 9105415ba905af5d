import Foundation
import MarksyncAgents
import MarksyncCore
import MarksyncDSL
import MarksyncTestSupport
import Testing

/// The seed's executor checklist (test_dsl.py), on an orchestrator that is not started (no server).
@Suite struct DSLExecutorTests {
    func executor() throws -> DSLExecutor {
        let orchestrator = try Orchestrator(plan: OrchestrationPlan(), defaults: .init(), output: .silent)
        return DSLExecutor(orchestrator: orchestrator, settings: ["server_uri": "ws://127.0.0.1:1"])
    }

    @Test func agentCreatesKillRemovesAndErrorsAreStructured() async throws {
        let dsl = try executor()
        let created = await dsl.execute("AGENT coder editor --model m1 --auto-edit --watch 'markpact:file=a/*,markpact:run'")
        #expect(created["ok"]?.boolValue == true)
        #expect(created["result"]?["name"]?.stringValue == "coder")
        #expect(created["result"]?["role"]?.stringValue == "editor")
        #expect(created["result"]?["model"]?.stringValue == "m1")
        #expect(created["result"]?["auto_edit"]?.boolValue == true)
        #expect(created["result"]?["watch"] == .array([.string("markpact:file=a/*"), .string("markpact:run")]))
        let duplicate = await dsl.execute("AGENT coder editor")
        #expect(duplicate["ok"]?.boolValue == false)
        #expect(duplicate["error"]?["code"]?.stringValue == "exists")
        #expect(await dsl.execute("LIST agents")["result"]?["agents"]?.arrayValue?.count == 1)
        #expect(await dsl.execute("KILL coder")["result"]?["killed"]?.stringValue == "coder")
        #expect(await dsl.execute("LIST")["result"]?["agents"]?.arrayValue?.isEmpty == true)
        let missing = await dsl.execute("KILL coder")
        #expect(missing["ok"]?.boolValue == false)
        #expect(missing["error"]?["code"]?.stringValue == "not_found")
    }

    @Test func setStatusPipeRouteHelp() async throws {
        let dsl = try executor()
        let set = await dsl.execute("SET ollama_model llama3:8b")
        #expect(set["result"]?["value"]?.stringValue == "llama3:8b")
        #expect(await dsl.currentSettings()["ollama_model"] == "llama3:8b")
        #expect(await dsl.execute("SET colour blue")["error"]?["code"]?.stringValue == "bad_setting")
        #expect(await dsl.execute("SET debounce soon")["ok"]?.boolValue == false)
        // A new agent takes the model set before it.
        _ = await dsl.execute("AGENT r1 reviewer")
        #expect(await dsl.execute("STATUS r1")["result"]?["agent"]?["model"]?.stringValue == "llama3:8b")
        let status = await dsl.execute("STATUS")
        #expect(status["result"]?["agents"]?.arrayValue?.count == 1)
        #expect(status["result"]?["config"]?["ollama_model"]?.stringValue == "llama3:8b")
        #expect(await dsl.execute("STATUS nobody")["error"]?["code"]?.stringValue == "not_found")
        let pipe = await dsl.execute("PIPE flow r1 -> later")
        #expect(pipe["result"]?["stages"] == .array([.string("r1"), .string("later")]))
        #expect(pipe["result"]?["waiting_for"] == .array([.string("later")]))
        #expect(await dsl.execute("ROUTE markpact:run -> r1")["result"]?["pattern"]?.stringValue == "markpact:run")
        #expect(await dsl.execute("LIST routes")["result"]?["routes"]?.arrayValue?.count == 1)
        #expect(await dsl.execute("LIST pipelines")["result"]?["pipelines"]?.arrayValue?.first?["name"]?.stringValue == "flow")
        let help = await dsl.execute("HELP")
        #expect(help["result"]?["help"]?.objectValue?.count == DSLCommand.Verb.allCases.count)
        let one = await dsl.execute("help pipe")
        #expect(one["result"]?["help"]?.objectValue?.keys.sorted() == ["PIPE"])
    }

    @Test func tokenIsNeverShown() async throws {
        let dsl = try executor()
        let set = await dsl.execute("SET token s3cret")
        #expect(!set.text.contains("s3cret"))
        #expect(!(await dsl.execute("LIST config")).text.contains("s3cret"))
        #expect(!(await dsl.execute("STATUS")).text.contains("s3cret"))
    }

    @Test func scriptsHistoryAndUnknownCommands() async throws {
        let dsl = try executor()
        let script = await dsl.executeScript("# three\nAGENT a monitor\n\nPIPE p a -> b\nROUTE 'x*' -> a\n")
        #expect(script["ok"]?.boolValue == true)
        #expect(script["result"]?["count"]?.intValue == 3)
        let fresh = try executor()
        _ = await fresh.execute("LIST")
        _ = await fresh.execute("HELP")
        #expect(await fresh.execute("LOG")["result"]?["entries"]?.arrayValue?.count == 2)
        #expect(await fresh.execute("LOG --tail 1")["result"]?["entries"]?.arrayValue?.count == 1)
        let unknown = await fresh.execute("FROB")
        #expect(unknown["ok"]?.boolValue == false)
        #expect(unknown["error"]?["code"]?.stringValue == "syntax")
        #expect(unknown["error"]?["message"]?.stringValue?.contains("column 1") == true)
        // A syntax error anywhere stops a script before anything runs.
        let broken = await fresh.executeScript("AGENT z monitor\nPIPE p a b\n")
        #expect(broken["ok"]?.boolValue == false)
        #expect(await fresh.execute("LIST")["result"]?["agents"]?.arrayValue?.isEmpty == true)
    }

    @Test func saveThenLoadInAFreshRuntimeGivesTheSameState() async throws {
        let folder = try temporaryFolder("dsl-save")
        let path = folder.appendingPathComponent("state.msdsl").path
        let first = try executor()
        let script = """
            SET ollama_model 'qwen2.5-coder:14b'
            SET deploy_command "echo 'it works' && ls"
            AGENT ed editor --auto-edit --watch 'markpact:file=app/*' --cooldown 5
            AGENT 'rev one' reviewer --model small
            AGENT dep deployer --command 'make deploy'
            PIPE flow ed -> 'rev one' -> dep
            ROUTE 'markpact:file=app/*' -> ed
            ROUTE markpact:deps* -> 'rev one'
            """
        #expect(await first.executeScript(script)["ok"]?.boolValue == true)
        #expect(await first.execute("SAVE \(path)")["ok"]?.boolValue == true)
        let second = try executor()
        let loaded = await second.execute("LOAD \(path)")
        #expect(loaded["ok"]?.boolValue == true, "\(loaded)")
        #expect(await second.orchestrator.plan == first.orchestrator.plan)
        var expected = await first.currentSettings(masked: false)
        expected["server_uri"] = "ws://127.0.0.1:1"
        #expect(await second.currentSettings(masked: false) == expected)
        #expect(await second.stateScript().split(separator: "\n").dropFirst(2) == (await first.stateScript()).split(separator: "\n").dropFirst(2))
        #expect(await second.execute("LOAD \(folder.path)/missing.msdsl")["error"]?["code"]?.stringValue == "not_found")
    }
}
