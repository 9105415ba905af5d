import Foundation
import MarksyncCLI
import MarksyncCore
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Testing

/// The built `marksync-log` executable.
func builtBinary() throws -> String { try marksyncBinary() }

struct CrashSafetyTests {
    /// A child appends in a loop and is killed with SIGKILL at random moments, 24 times: every append that
    /// had returned (its ack was printed) is in the log afterwards, and verify is clean.
    @Test func killedAppenderLosesNoAckedEvent() async throws {
        let binary = try builtBinary()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let db = folder.appendingPathComponent("log.db").path
        var random = SystemRandomNumberGenerator()
        var acked = [(seq: Int, id: String)]()
        for round in 0..<24 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["debug", "append-loop", "--db", db, "--doc", "crash", "--writers", "4", "--prefix", "r\(round)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Let it run between 40 and 400 ms, then kill it without warning.
            try await Task.sleep(for: .milliseconds(Int.random(in: 40...400, using: &random)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            for line in output.split(separator: "\n") {
                let parts = line.split(separator: " ")
                // A line cut by the kill is not a complete ack.
                guard parts.count == 3, parts[0] == "acked", let seq = Int(parts[1]), parts[2].hasPrefix("r\(round)-") else { continue }
                acked.append((seq, String(parts[2])))
            }
            #expect(process.terminationReason == .uncaughtSignal)
            // After each kill: every ack printed so far is in the log, and verify is clean.
            let log = try await EventLog.open(path: db)
            if try await log.hasDocument("crash") {
                var stored = [Int: String]()
                for event in try await log.history("crash") { stored[event.seq] = event.clientMessageID.map(MessageIDScope.unscoped) }
                let lost = acked.filter { stored[$0.seq] != $0.id }
                #expect(lost.isEmpty, "round \(round): acked events missing after SIGKILL: \(lost.prefix(5))")
                let report = try await log.verify()
                #expect(report.isClean, "round \(round): \(report.problems)")
            }
        }
        #expect(acked.count > 100, "the appender acked only \(acked.count) events in 24 runs")
        let log = try await EventLog.open(path: db)
        let events = try await log.history("crash")
        var stored = [Int: String]()
        for event in events { stored[event.seq] = event.clientMessageID.map(MessageIDScope.unscoped) }
        let lost = acked.filter { stored[$0.seq] != $0.id }
        #expect(lost.isEmpty, "acked events missing after SIGKILL: \(lost.prefix(5))")
        #expect(events.map(\.seq) == Array(1...events.count), "seqs are not dense")
        let report = try await log.verify()
        #expect(report.isClean, "\(report.problems)")
    }
}
