import AsyncHTTPClient
import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncLLM
import MarksyncStore
import MarksyncTestSupport
import NIOCore
import NIOHTTP1
import Testing

@Suite(.serialized) struct ExampleOrchestrationTests {
    static let examples = ["task-manager-api", "chat-websocket-app", "data-pipeline-cli"]

    /// Each example's agents.yml runs against its README and the fake LLM: a change of a block its editor
    /// watches is improved by the editor and reviewed where a reviewer is routed; nothing fails.
    @Test(arguments: examples) func exampleAgentsRunWithTheirPipelinesAndRoutes(_ example: String) async throws {
        let folder = repositoryRoot.appendingPathComponent("examples/\(example)")
        let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
        let plan = try AgentsFile.load(folder.appendingPathComponent("agents.yml").path)
        let server = try await LiveSyncServer.start(markdown: readme, document: example)
        let llm = try await FakeLLMServer.start(models: ["qwen2.5-coder:7b", "qwen2.5-coder:14b"], responder: { improvedReply($0) })
        defer { Task { await server.stop(); await llm.stop() } }
        var defaults = testDefaults(server, llm, folder: server.folder)
        defaults.deploy.enabled = true
        defaults.deploy.command = "ls"
        defaults.auditFile = server.folder.appendingPathComponent("audit.jsonl").path
        let orchestrator = try Orchestrator(plan: plan, defaults: defaults, output: .silent)
        await orchestrator.start()
        try await waitLive(orchestrator)

        let editor = try #require(plan.agents.first { $0.role == "editor" })
        let target = try #require(editor.watch.first)
        let state = try await server.log.head(example)
        let original = try #require(state.block(target)?.content)
        let person = try await human(server)
        let ack = try await person.write(.full(blockID: target, content: original + "\n# touched by a person\n"))
        #expect(try await waitUntil(timeout: .seconds(60)) { try await !events(server, author: editor.name).isEmpty })
        let edit = try #require(try await events(server, author: editor.name).first)
        #expect(edit.baseSeq == ack.seq)
        #expect(try await content(server, target)?.hasSuffix("# improved\n") == true)

        // Reviewers that watch the edited block review the editor's version.
        let reviewers = plan.agents.filter { $0.role == "reviewer" && $0.watch.contains(target) }
        for reviewer in reviewers {
            #expect(try await waitUntil { try await events(server, author: reviewer.name).contains { $0.body.kind == .reviewNote } })
            let note = try #require(try await events(server, author: reviewer.name).first)
            if case .reviewNote(let body) = note.body { #expect(body.blockSeq == edit.seq) }
        }
        // The deps block goes to its routed reviewer.
        if let depsRoute = plan.routes.first(where: { $0.pattern == "markpact:deps=python" }),
            let reviewer = plan.agents.first(where: { $0.name == depsRoute.agent && $0.role == "reviewer" })
        {
            let deps = try await person.write(.full(blockID: "markpact:deps=python", content: "fastapi\nuvicorn\n"))
            #expect(
                try await waitUntil {
                    try await events(server, author: reviewer.name).contains { event in
                        if case .reviewNote(let note) = event.body { note.blockSeq == deps.seq } else { false }
                    }
                })
        }
        let statuses = await orchestrator.status()
        #expect(statuses.allSatisfy { $0.lastError == nil }, "\(statuses.compactMap(\.lastError))")
        await person.close()
        await orchestrator.stop()
    }

    /// `marksync-log orchestrate` as a child process against the fake LLM: it runs the plan, writes audit
    /// lines, and stops cleanly on SIGTERM with a summary.
    @Test func orchestrateCommandRunsAnExampleAndStopsOnSigterm() async throws {
        let binary = try marksyncBinary()
        let folder = repositoryRoot.appendingPathComponent("examples/task-manager-api")
        let readme = try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
        let server = try await LiveSyncServer.start(markdown: readme, document: "tasks")
        let llm = try await FakeLLMServer.start(responder: { improvedReply($0) })
        defer { Task { await server.stop(); await llm.stop() } }
        let audit = server.folder.appendingPathComponent("audit.jsonl").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "orchestrate", "-c", folder.appendingPathComponent("agents.yml").path, "--server", server.url, "--ollama-url", llm.baseURL,
            "--audit-file", audit, "--work-dir", server.folder.appendingPathComponent("deploy").path, "--api-port", "0",
        ]
        process.currentDirectoryURL = server.folder
        let home = server.folder.appendingPathComponent("marksync-home")
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "MARKSYNC_HOME": home.path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The plan, then the control API's port on standard output.
        let reader = out.fileHandleForReading
        let (apiPort, printed) = try await readListeningPort(reader)
        if apiPort == 0 {
            // It stopped before serving: say why (its standard error), instead of failing further down.
            if process.isRunning { process.terminate() }
            try await waitForExit(process)
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("orchestrate did not serve the control API (exit \(process.terminationStatus)): \(printed)\n\(errors.suffix(3000))")
            return
        }
        // The agents go live: the consumers appear on the server.
        #expect(
            try await waitUntil(timeout: .seconds(60)) {
                try await server.log.cursor(document: "tasks", consumer: "api-monitor") != nil
            })
        let person = try await human(server)
        let ack = try await person.write(.full(blockID: "markpact:file=app/models.py", content: "class Task:\n    pass\n"))
        #expect(try await waitUntil(timeout: .seconds(60)) { try await !events(server, author: "api-editor").isEmpty })
        #expect(try await waitUntil { try await server.log.cursor(document: "tasks", consumer: "api-monitor") ?? 0 > ack.seq })
        await person.close()
        // The control API drives the same agents, with the token it made at start (no tokens were configured),
        // kept in a file only this user can read; without it, nothing.
        let tokenFile = home.appendingPathComponent("control-\(apiPort).token").path
        #expect(try await waitUntil { FileManager.default.fileExists(atPath: tokenFile) })
        let mode = (try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count == 64)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(apiPort)/api/v1/execute")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"command": "STATUS api-editor"}"#))
        let refused = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(refused.status.code == 401)
        _ = try await refused.body.collect(upTo: 1 << 16)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let reply = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(reply.contains("\"ok\":true") && reply.contains("\"writes\":1"), "\(reply)")
        kill(process.processIdentifier, SIGTERM)
        let errorReader = err.fileHandleForReading
        let (rest, stderr) = try await offPool { () -> (String, String) in
            let rest = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: errorReader.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (rest, stderr)
        }
        let stdout = printed + rest
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stdout.contains("Agents (4):"))
        #expect(stderr.contains("api-editor (editor)"), "a summary per agent at exit: \(stderr)")
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains("\"seq\":\(ack.seq)") })
    }
}
