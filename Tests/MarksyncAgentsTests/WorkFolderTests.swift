import Foundation
import MarksyncAgents
import MarksyncCore
import MarksyncTestSupport
import Testing

@Suite struct WorkFolderTests {
    @Test func pathsOutsideTheFolderAreRefused() throws {
        let folder = try WorkFolder(path: try temporaryFolder("workfolder").path)
        for bad in ["../../etc/x", "/etc/passwd", "a/../../b", "~/x", "", "dir/", "..", "a/\0b"] {
            #expect(throws: AgentError.self, "\(bad.debugDescription) must be refused") { try folder.destination(of: bad) }
        }
        #expect(try folder.destination(of: "app/main.py").path == folder.url.path + "/app/main.py")
        #expect(try folder.destination(of: "./a.txt").path == folder.url.path + "/a.txt")
    }

    @Test func aLinkOutOfTheFolderIsRefusedAndNothingIsWritten() throws {
        let root = try temporaryFolder("workfolder-link")
        let outside = try temporaryFolder("outside")
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("escape"), withDestinationURL: outside)
        let folder = try WorkFolder(path: work.path)
        let markdown = "```python markpact:file path=escape/evil.py\nprint('x')\n```\n"
        #expect(throws: AgentError.self) { try folder.materialise(MarkpactDocument(parsing: markdown), markdown: markdown) }
        #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("evil.py").path))
    }

    @Test func materialiseWritesEveryFileBlockAndTheReadme() throws {
        let folder = try WorkFolder(path: try temporaryFolder("workfolder-ok").path)
        let markdown = "```python markpact:file path=app/main.py\nprint('hi')\n```\n\n```text markpact:deps python\nfastapi\n```\n"
        let written = try folder.materialise(MarkpactDocument(parsing: markdown), markdown: markdown)
        #expect(written == ["app/main.py"])
        #expect(try String(contentsOf: folder.url.appendingPathComponent("app/main.py"), encoding: .utf8) == "print('hi')\n")
        #expect(try String(contentsOf: folder.url.appendingPathComponent("README.md"), encoding: .utf8) == markdown)
    }

    @Test func commandRunnerKeepsTheTailAndTheExitCode() async throws {
        let folder = try temporaryFolder("runner")
        let result = try await CommandRunner.run(
            "for i in $(seq 1 100); do echo line $i; done; echo oops >&2; exit 7", in: folder, timeout: .seconds(20), tailLines: 3)
        #expect(result.exitCode == 7)
        #expect(result.outputTail == "line 99\nline 100\noops")
        let slow = try await CommandRunner.run("sleep 30", in: folder, timeout: .milliseconds(200), tailLines: 3)
        #expect(slow.timedOut)
        #expect(slow.exitCode == 128 + 15)
    }
}
