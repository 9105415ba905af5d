import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore
import MarksyncTraces

/// `marksync-bench log`: the event log on the automerge-paper trace, and the append rate.
struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Ingest, replay, rebuild, verify, blame and size of the automerge-paper log; append rates."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Events per durable batch during the ingest.")
    var batch: Int = 1000

    @Option(help: "Seconds per append-rate run.")
    var appendSeconds: Double = 3

    @Option(help: "Where to put the log (a temporary folder by default; removed afterwards).")
    var folder: String?

    @Flag(help: "Ingest without the background Yjs warm-up (to measure what it costs the writer).")
    var noYjsWarmUp = false

    func run() async throws {
        let report = Report(json: options.json)
        let base = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("marksync-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: base) } }
        let path = base + "/trace.db"

        let trace = try EditingTrace.load(path: try options.tracePath("automerge-paper.json.gz"))
        let edits = scalarEdits(trace)
        let blockID = "markpact:file=paper.tex"

        let patches = tracePatchTexts(edits)

        report.section(
            "automerge-paper as \(edits.count) patch events, one block, durable batches of \(batch), "
                + (noYjsWarmUp ? "without the Yjs warm-up:" : "Yjs checkpoints warmed alongside:"))
        var ingestOptions = EventLog.Options()
        ingestOptions.warmsYjsCheckpoints = !noYjsWarmUp
        let log = try await EventLog.open(path: path, options: ingestOptions)
        try await log.createDocument("paper")
        _ = try await log.append(WriteRequest(document: "paper", author: "setup", change: .full(blockID: blockID, content: trace.startContent)))
        let ingest = try await seconds { try await appendTracePatches(patches, blockID: blockID, to: log, batch: batch) }
        let head = try await log.head("paper")
        guard head.block(blockID)?.content == trace.endContent else { throw ValidationError("the log's head differs from endContent") }
        report.add("ingest (parse, apply, encode, hash, append, fsync)", ingest, "s", target: "≤ 6 s")
        report.add("ingest rate", Double(edits.count) / ingest, "events/s")
        // The Yjs checkpoints follow the log's in the background; the figures below are taken without it.
        let warmUp = await seconds { await log.waitForYjsWarmUp() }
        report.add("Yjs warm-up still running after the last ack", warmUp, "s")
        if !noYjsWarmUp { report.add("  time the warm-ups took, all runs", await log.yjsWarmUpStatus.seconds, "s") }

        try await log.checkpointWAL()
        let stats = try await log.stats()
        report.add("bytes on disk per event", stats.bytesPerEvent, "bytes", target: "aim ≤ 64")
        report.add("checkpoints", Double(stats.checkpoints), "")
        report.add("checkpoint bytes", Double(stats.checkpointBytes), "bytes")

        // Reads from a fresh open, so nothing is cached in memory but the head.
        let reader = try await EventLog.open(path: path)
        let total = try await reader.headSeq("paper")
        var state = UInt64(42)
        var replays = [Double]()
        let samples = Int(ProcessInfo.processInfo.environment["BENCH_REPLAYS"] ?? "") ?? 200
        for _ in 0..<samples {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let n = 1 + Int((state >> 33) % UInt64(total))
            let time = try await seconds { _ = try await reader.state("paper", at: n) }
            replays.append(time * 1000)
            if ProcessInfo.processInfo.environment["BENCH_DEBUG"] != nil { print("replay", n, time * 1000) }
        }
        report.add("replay --to N, random N: p50", percentile(replays, 0.5), "ms")
        report.add("replay --to N, random N: p99", percentile(replays, 0.99), "ms", target: "≤ 20 ms")

        var lines = 0
        let blame = try await seconds { lines = try await reader.blame("paper", block: blockID).count }
        report.add("blame of the final block (\(lines) lines)", blame, "s", target: "≤ 1 s")

        let rebuild = try await seconds { _ = try await reader.rebuild() }
        report.add("rebuild", rebuild, "s", target: "≤ 3 s")

        var clean = false
        let verify = try await seconds { clean = try await reader.verify().isClean }
        guard clean else { throw ValidationError("verify found problems in the benchmark log") }
        report.add("verify (chain, replay, checkpoints, integrity)", verify, "s", target: "≤ 5 s")
        report.add("peak memory (VmHWM)", peakRSSMegabytes(), "MB")

        report.section("append rate of small events, each appender waiting for its commit:")
        for writers in [1, 4, 16] {
            let appendLog = try await EventLog.open(path: base + "/append-\(writers).db")
            try await appendLog.createDocument("d")
            let deadline = ContinuousClock.now + .milliseconds(Int(appendSeconds * 1000))
            let started = ContinuousClock.now
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            let outcome = try await appendLog.append(
                                WriteRequest(
                                    document: "d", author: "w\(writer)",
                                    change: .full(blockID: "markpact:file=w\(writer).txt", content: "value \(count)")))
                            guard outcome.event != nil else { throw ValidationError("append refused: \(outcome)") }
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - started
            let secondsTaken = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            report.add("\(writers) appender(s)", Double(counts) / secondsTaken, "appends/s")
        }
        try report.finish()
    }
}
