import Foundation
import GRDB
import MarksyncCore
import MarksyncStore
import MarksyncTestSupport
import Testing

/// Issue 17: `serve` checks each document's tail (hash chain and replay from the last checkpoint to the
/// head) before serving, and refuses a damaged log unless `--allow-damaged`, naming the first bad seq.
@Suite(.timeLimit(.minutes(3)))
struct TailCheckTests {
    @Test func cleanTailPasses() async throws {
        let path = try await TraceAndTamperTests.makeLog()
        let log = try await EventLog.open(path: path)
        #expect(try await log.verifyTail("d") == nil)
        await log.close()
    }

    /// An event of the tail whose time was changed behind the store's back breaks the chain there.
    @Test func damagedTailIsFoundAndServeRefusesIt() async throws {
        let path = try await TraceAndTamperTests.makeLog()
        try await TraceAndTamperTests.tamper(path, "UPDATE events SET ts = ts + 1 WHERE seq = 290")
        let log = try await EventLog.open(path: path)
        let problem = try await log.verifyTail("d")
        #expect(problem?.seq == 290, "\(String(describing: problem))")
        await log.close()

        let binary = try marksyncBinary()
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let readme = folder.appendingPathComponent("README-\(UUID().uuidString).md").path
        let result = try await runToEnd(binary, ["serve", readme, "--port", "0", "--db", path, "--doc", "d"])
        #expect(result.status == 3, "serve on a damaged log: \(result.status) \(result.error)")
        #expect(result.error.contains("seq 290"), "\(result.error)")
        #expect(result.error.contains("--allow-damaged"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: readme), "serve wrote the README of a damaged log")
    }

    /// `--allow-damaged` serves the damaged log anyway, with a warning naming the first bad seq.
    @Test func allowDamagedServesAnyway() async throws {
        let path = try await TraceAndTamperTests.makeLog()
        try await TraceAndTamperTests.tamper(path, "UPDATE events SET ts = ts + 1 WHERE seq = 290")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let readme = folder.appendingPathComponent("README-\(UUID().uuidString).md").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try marksyncBinary())
        process.arguments = ["serve", readme, "--port", "0", "--db", path, "--doc", "d", "--allow-damaged"]
        let out = Pipe()
        let errorFile = folder.appendingPathComponent("serve-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let (port, _) = try await readListeningPort(out.fileHandleForReading, timeout: .seconds(60))
        kill(process.processIdentifier, SIGKILL)
        try await waitForExit(process)
        #expect(port > 0, "serve --allow-damaged did not listen")
        let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        #expect(stderr.contains("seq 290"), "\(stderr)")
    }
}
