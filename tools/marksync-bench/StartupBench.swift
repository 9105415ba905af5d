import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-bench startup --binary .build/release/marksync-log`: the time from starting `serve` to its
/// `listening` line for a large document whose README on disk is stale (issue 17): a README of about
/// `--kb` KB written by `serve` at some seq (recorded in the log as `serve` records it), then `--events`
/// acked writes it never saw. Each run puts the stale README back first.
struct StartupBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup", abstract: "Start-up of `serve` to listening, with a large document and a stale README.")

    @Option(help: "The marksync-log binary to start (build it in release first).") var binary = ".build/release/marksync-log"
    @Option(help: "Size of the README, KB.") var kb = 500
    @Option(help: "Events appended after the README was written.") var events = 5000
    @Option(help: "Runs (the figure is the median).") var runs = 3
    @Flag(help: "Print the figures as JSON.") var json = false

    func run() async throws {
        let report = Report(json: json)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("startup-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md").path
        let db = folder.appendingPathComponent("log.db").path
        let document = "startup"

        // A README of `kb` KB: blocks of about 5 KB.
        var markdown = "# Start-up benchmark\n\n"
        var block = 0
        while markdown.utf8.count < kb * 1024 {
            markdown += "```python markpact:file path=src/m\(block).py\n"
            for line in 0..<80 { markdown += "def f\(block)_\(line)(x): return x * \(line) + \(block)  # padding padding\n" }
            markdown += "```\n\nProse after block \(block).\n\n"
            block += 1
        }
        let log = try await EventLog.open(path: db)
        _ = try await log.ingest(document: document, markdown: markdown, author: "file")
        let head = try await log.head(document)
        let stale = head.render()
        try await log.recordProjection(document: document, path: readme, seq: head.seq, sha256: SHA256.hexDigest(of: Array(stale.utf8)))
        try await log.confirmProjection(document: document, path: readme, seq: head.seq)
        var requests = [WriteRequest]()
        for index in 0..<events {
            let id = "markpact:file=src/m\(index % block).py"
            let content = (try await log.head(document)).block(id)?.content ?? ""
            requests.append(WriteRequest(document: document, author: "writer", change: .full(blockID: id, content: content + "\n# write \(index)")))
            if requests.count == 250 {
                _ = try await log.append(requests)
                requests.removeAll()
            }
        }
        if !requests.isEmpty { _ = try await log.append(requests) }
        let finalSeq = try await log.headSeq(document)
        await log.close()
        report.section("serve start-up: \(stale.utf8.count / 1024) KB README at seq \(head.seq), head \(finalSeq) (\(events) events later)")

        var times = [Double]()
        for _ in 0..<runs {
            try stale.write(toFile: readme, atomically: true, encoding: .utf8)
            times.append(try Self.timeToListening(binary: binary, arguments: ["serve", readme, "--db", db, "--doc", document, "--port", "0"]))
            let text = try String(contentsOfFile: readme, encoding: .utf8)
            let check = try await EventLog.open(path: db)
            let now = try await check.head(document)
            await check.close()
            guard now.seq == finalSeq, text == now.render() else {
                throw ValidationError("serve changed the log or left the README stale (head \(now.seq), expected \(finalSeq))")
            }
        }
        times.sort()
        report.add("serve start to listening, stale README (median of \(runs))", times[times.count / 2], "s", target: "≤ 2 s")
        report.add("fastest", times.first ?? 0, "s")
        report.add("slowest", times.last ?? 0, "s")
        try report.finish()
    }

    /// Seconds from spawning the command to its `listening <port>` line; then stops it with SIGTERM.
    static func timeToListening(binary: String, arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "warning"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        let start = ContinuousClock.now
        try process.run()
        var printed = ""
        while !printed.contains("listening ") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { throw ValidationError("serve ended before listening") }
            printed += String(decoding: data, as: UTF8.self)
        }
        let elapsed = ContinuousClock.now - start
        process.terminate()
        process.waitUntilExit()
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
