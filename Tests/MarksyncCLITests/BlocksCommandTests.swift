import Foundation
import MarksyncCLI
import Testing

/// Runs a command in-process and returns its exit code and output.
func runCLI(_ arguments: [String]) async -> (code: Int32, out: String, err: String) {
    let capture = Console.Capture()
    let code = await Console.$capture.withValue(capture) { await CommandLineRunner.run(arguments) }
    return (code, capture.standardOutput, capture.standardError)
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func temporaryFile(_ name: String, _ contents: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marksync-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(contents.utf8).write(to: url)
    return url.path
}

struct BlocksCommandTests {
    struct Row: Decodable, Equatable {
        var block_id: String
        var kind: String
        var lang: String
        var path: String?
        var line_start: Int
        var line_end: Int
        var size: Int
        var sha256: String
    }

    @Test func jsonListsEveryBlockWithItsFields() async throws {
        let path = try temporaryFile(
            "README.md",
            "# T\n\n```text markpact:deps python\nfastapi\n```\n\n```python markpact:file path=app/main.py\nprint('é')\n```\n")
        let result = await runCLI(["blocks", path, "--json"])
        #expect(result.code == 0)
        let rows = try JSONDecoder().decode([Row].self, from: Data(result.out.utf8))
        #expect(
            rows == [
                Row(
                    block_id: "markpact:deps=python", kind: "deps", lang: "text", path: nil, line_start: 3, line_end: 5,
                    size: 7, sha256: "6aee0e678a168eeae8df707e083a158fc23515bdd52eed77ec65b669baa82917"),
                Row(
                    block_id: "markpact:file=app/main.py", kind: "file", lang: "python", path: "app/main.py", line_start: 7,
                    line_end: 9, size: 11, sha256: "c2a522a8ce9d5f0fde261bd77faf83ab9c840393aec825246011fdd7afaee699"),
            ])
        // `path` is present as null, not omitted.
        #expect(result.out.contains("\"path\" : null"))
    }

    @Test func tableShowsIdsKindsLinesAndShaPrefix() async throws {
        let path = try temporaryFile("README.md", "``` markpact:run\necho hi\n```\n")
        let result = await runCLI(["blocks", path])
        #expect(result.code == 0)
        let lines = result.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("BLOCK ID") == true)
        #expect(lines[1].hasPrefix("markpact:run"))
        #expect(lines[1].contains("1-3"))
        #expect(lines[1].contains("56a79f3b1154"))  // sha256("echo hi")
        #expect(lines.last == "1 block, 7 bytes of content")
    }

    @Test func duplicateIdsWarnOnStandardError() async throws {
        let path = try temporaryFile("README.md", "``` markpact:run\na\n```\n``` markpact:run\nb\n```\n")
        let result = await runCLI(["blocks", path, "--json"])
        #expect(result.code == 0)
        #expect(result.err.contains("markpact:run#2"))
        #expect(result.out.contains("markpact:run#2"))
    }

    @Test func missingFileFailsWithExitOne() async {
        let result = await runCLI(["blocks", "/nonexistent/README.md"])
        #expect(result.code == 1)
        #expect(result.err.contains("no such README"))
    }

    @Test func usageErrorExitsTwo() async {
        let result = await runCLI(["blocks", "--no-such-flag"])
        #expect(result.code == 2)
        #expect(result.err.contains("--no-such-flag"))
    }

    @Test func helpAndVersion() async {
        let help = await runCLI(["blocks", "--help"])
        #expect(help.code == 0)
        #expect(help.out.contains("--json"))
        let version = await runCLI(["--version"])
        #expect(version.code == 0)
        #expect(version.out.contains("log format"))
    }

    @Test func examplesParse() async throws {
        let examples = repoRoot.appendingPathComponent("examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter {
            FileManager.default.fileExists(atPath: examples.appendingPathComponent("\($0)/README.md").path)
        }
        #expect(names.count >= 3)
        for name in names {
            let result = await runCLI(["blocks", examples.appendingPathComponent("\(name)/README.md").path, "--json"])
            #expect(result.code == 0, "\(name): \(result.err)")
            let rows = try JSONDecoder().decode([Row].self, from: Data(result.out.utf8))
            #expect(rows.contains { $0.kind == "run" }, "\(name) has no run block")
            #expect(rows.contains { $0.kind == "deps" }, "\(name) has no deps block")
            #expect(rows.filter { $0.kind == "file" }.count >= 2, "\(name) has fewer than 2 file blocks")
            #expect(result.err.isEmpty, "\(name) warns: \(result.err)")
        }
    }
}
