import Foundation
import MarksyncTestSupport
import Testing

/// Issue 17: one `serve` per log and per README. The first `marksync-log serve` child holds the locks; a
/// second one on the same log (or the same README) exits non-zero naming the first one's pid, before it
/// reads or writes anything.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServeOwnershipTests {
    /// Runs `serve` and waits (at most 30 s) for it to exit; a child still serving then is killed and
    /// reported as nil.
    static func runExpectingExit(_ binary: String, _ arguments: [String], stderr: URL) async throws -> Int32? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let exited = try await waitUntil(timeout: .seconds(30)) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            try await waitForExit(process)
            return nil
        }
        try await waitForExit(process)
        return process.terminationStatus
    }

    @Test func secondServeOnOneLogOrReadmeExits() async throws {
        let binary = try ServerChild.binary()
        let folder = try temporaryFolder("serve-owner")
        let readme = folder.appendingPathComponent("README.md").path
        try "# Owner\n\n```bash markpact:run\necho hi\n```\n".write(toFile: readme, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("log.db").path
        let first = try await ServerChild.start(
            binary: binary, readme: readme, db: db, document: "owner", stderr: folder.appendingPathComponent("first.err"))
        defer { first.kill9() }
        let pid = first.process.processIdentifier

        // Same log, another README.
        let other = folder.appendingPathComponent("other.md").path
        try "# Other\n".write(toFile: other, atomically: true, encoding: .utf8)
        let logErr = folder.appendingPathComponent("second-log.err")
        let status = try await Self.runExpectingExit(binary, ["serve", other, "--port", "0", "--db", db, "--doc", "other"], stderr: logErr)
        let logMessage = (try? String(contentsOf: logErr, encoding: .utf8)) ?? ""
        #expect(status != nil && status != 0, "a second serve on one log kept running")
        #expect(logMessage.contains("\(pid)"), "the message does not name the holder: \(logMessage)")

        // Same README, another log.
        let readmeErr = folder.appendingPathComponent("second-readme.err")
        let other2 = folder.appendingPathComponent("other.db").path
        let status2 = try await Self.runExpectingExit(binary, ["serve", readme, "--port", "0", "--db", other2, "--doc", "owner"], stderr: readmeErr)
        let readmeMessage = (try? String(contentsOf: readmeErr, encoding: .utf8)) ?? ""
        #expect(status2 != nil && status2 != 0, "a second serve of one README kept running")
        #expect(readmeMessage.contains("\(pid)"), "the message does not name the holder: \(readmeMessage)")
        // The first one still serves, its README untouched by the second.
        #expect(first.process.isRunning)
    }
}
