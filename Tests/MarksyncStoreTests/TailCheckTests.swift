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
}
