import Foundation
import MarksyncAgents
import MarksyncCLI
import MarksyncCore
import Testing

/// The example projects: READMEs with blocks and agents.yml files that hold together.
struct ExamplesTests {
    static func folders() -> [URL] {
        let examples = repoRoot.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        return names.sorted().map { examples.appendingPathComponent($0) }.filter {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("agents.yml").path)
        }
    }

    @Test func threeExamples() { #expect(Self.folders().count >= 3) }

    @Test(arguments: folders())
    func agentsFileMatchesItsReadme(_ folder: URL) throws {
        let plan = try AgentsFile.parse(try String(contentsOf: folder.appendingPathComponent("agents.yml"), encoding: .utf8))
        let readme = MarkpactDocument(parsing: try String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8))
        let ids = readme.blocks.map(\.id)
        #expect(plan.agents.count >= 3)
        #expect(plan.agents.contains { $0.role == "editor" && $0.autoEdit })
        #expect(plan.agents.contains { $0.role == "reviewer" })
        #expect(plan.agents.contains { $0.role == "monitor" })
        #expect(!plan.pipelines.isEmpty && plan.pipelines.allSatisfy { !$0.stages.isEmpty })
        #expect(plan.problems.isEmpty, "\(plan.problems)")
        for route in plan.routes {
            #expect(ids.contains(where: route.matches), "route \(route.pattern) matches no block of \(folder.lastPathComponent)")
        }
        for agent in plan.agents {
            for watched in agent.watch {
                #expect(ids.contains { Glob.matches(watched, $0) }, "\(agent.name) watches \(watched), which is not a block")
            }
        }
    }

    @Test func seedSchemaDefaults() throws {
        let plan = try AgentsFile.parse(
            """
            agents:
              a:
              b: {role: editor, auto_edit: true, model: m, watch: [x]}
            pipelines:
              p: {stages: [a, b]}
              q: {steps: [{name: s}]}
            routes:
              - {pattern: "markpact:file=*", agent: b}
            """)
        #expect(plan.agents == [.init(name: "a"), .init(name: "b", role: "editor", model: "m", autoEdit: true, watch: ["x"])])
        #expect(plan.pipelines == [.init(name: "p", stages: ["a", "b"]), .init(name: "q", stages: [])])
        #expect(plan.routes == [.init(pattern: "markpact:file=*", agent: "b")])
        #expect(throws: AgentsFile.Failure.self) { try AgentsFile.parse("routes:\n  - {pattern: x}\n") }
    }

    @Test(arguments: [
        ("markpact:file=*", "markpact:file=app/main.py", true),
        ("markpact:file=app/*", "markpact:file=app/models.py", true),
        ("markpact:deps", "markpact:deps=python", false),
        ("markpact:run", "markpact:run", true),
        ("markpact:file=?.py", "markpact:file=a.py", true),
        ("markpact:[dr]*", "markpact:run", true),
        ("markpact:[!dr]*", "markpact:run", false),
        ("*main*", "markpact:file=app/main.py", true),
    ])
    func globsMatchLikeFnmatch(_ pattern: String, _ text: String, _ expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }
}
