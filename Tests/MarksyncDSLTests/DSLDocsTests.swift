import Foundation
import MarksyncAgents
import MarksyncCore
import MarksyncDSL
import MarksyncStore
import MarksyncTestSupport
import Testing

/// The examples of docs/dsl.md, run.
@Suite(.serialized) struct DSLDocsTests {
    /// The ```msdsl blocks of docs/dsl.md.
    static func scripts() throws -> [String] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/dsl.md"), encoding: .utf8)
        return MarkpactDocument(parsing: text).prose.isEmpty ? [] : text.components(separatedBy: "```msdsl\n").dropFirst().map {
            String($0.components(separatedBy: "\n```").first ?? "")
        }
    }

    @Test func everyScriptInTheDocsParses() throws {
        let scripts = try Self.scripts()
        #expect(scripts.count == 2)
        for script in scripts { #expect(throws: Never.self) { try DSLParser.parseScript(script) } }
    }

    @Test func theExampleScriptDoesWhatTheDocsSay() async throws {
        let scripts = try Self.scripts()
        let rig = try await DSLRuntimeTests().rig()
        let reply = await rig.dsl.executeScript(scripts[0])
        #expect(reply["ok"]?.boolValue == true, "\(reply)")
        #expect(try await waitUntil { await rig.orchestrator.status().allSatisfy { $0.state == "live" } })
        let human = try await rig.write("markpact:file=app/main.py", "def main():\n    return 7\n")
        #expect(try await waitUntil { try await !rig.notes(by: "app-reviewer").isEmpty })
        let edit = try #require(
            try await rig.server.log.history(rig.server.document, filter: HistoryFilter(author: "app-editor")).first { $0.baseSeq == human })
        #expect(try await rig.notes(by: "app-reviewer").map(\.blockSeq) == [edit.seq])

        // SAVE gives the second block of the docs (after the settings the test added and the date line).
        let path = try temporaryFolder("dsl-docs").appendingPathComponent("plan.msdsl").path
        _ = await rig.dsl.execute("SAVE \(path)")
        let saved = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let documented = scripts[1].split(separator: "\n", omittingEmptySubsequences: false)
        let ignored = ["SET server_uri", "SET ollama_url", "SET work_dir", "SET debounce", "SET cooldown 0", "# saved"]
        func meaningful(_ lines: [Substring]) -> [Substring] {
            lines.filter { line in !ignored.contains { line.hasPrefix($0) } && !line.isEmpty }
        }
        #expect(meaningful(saved) == meaningful(documented))
        await rig.stop()
    }
}
