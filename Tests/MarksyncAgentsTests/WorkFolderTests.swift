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

    /// A deployed command that leaves a server behind must not hold the hub's sockets and pipes: a pipe the
    /// test opens without close-on-exec (as NIO opens its sockets) is not open in the command.
    @Test func commandsInheritNoDescriptorsButTheStandardOnes() async throws {
        let folder = try temporaryFolder("runner-fds")
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let result = try await CommandRunner.run("ls -1 /proc/self/fd", in: folder, timeout: .seconds(20), tailLines: 100)
        let open = Set(result.outputTail.split(separator: "\n").compactMap { Int32($0) })
        #expect(open.isSuperset(of: [0, 1, 2]), "the listing is \(result.outputTail)")
        #expect(open.isDisjoint(with: ends), "the command inherited the pipe \(ends): it has \(open.sorted()) open")
    }
}
