import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore
import MarksyncTraces

/// `marksync-bench yjs`: the Yjs projection of the automerge-paper log (docs/crdt.md).
struct YjsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yjs",
        abstract: "Yjs export of the automerge-paper log: at the head, at random seqs, per-event updates, full-state size."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Random seqs exported (p50/p99).")
    var samples: Int = 200

    @Option(help: "Where to put the log (a temporary folder by default; removed afterwards).")
    var folder: String?

    func run() async throws {
        let report = Report(json: options.json)
        let base = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("marksync-bench-yjs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: base) } }
        let path = base + "/trace.db"

        let trace = try EditingTrace.load(path: try options.tracePath("automerge-paper.json.gz"))
        let edits = scalarEdits(trace)
        let blockID = "markpact:file=paper.tex"
        report.section("automerge-paper log: \(edits.count + 1) events (one block), Yjs projection \(YjsProjection.format):")
        if !FileManager.default.fileExists(atPath: path) {
            // The log as `marksync-bench log` makes it: one block created, then one patch event per trace edit.
            // The Yjs checkpoints are written in the background as the commits write the log's checkpoints.
            let patches = tracePatchTexts(edits)
            var setup = EventLog.Options()
            setup.synchronousFull = false
            let log = try await EventLog.open(path: path, options: setup)
            try await log.createDocument("paper")
            _ = try await log.append(WriteRequest(document: "paper", author: "setup", change: .full(blockID: blockID, content: trace.startContent)))
            let ingest = try await seconds { try await appendTracePatches(patches, blockID: blockID, to: log, batch: 2000) }
            report.add("ingest, synchronous=NORMAL, Yjs warm-up alongside", ingest, "s")
            let lag = await seconds { await log.waitForYjsWarmUp() }
            report.add("Yjs warm-up still running after the last ack", lag, "s")
            let status = await log.yjsWarmUpStatus
            guard status.failures.isEmpty else { throw ValidationError("the Yjs warm-up failed: \(status.failures)") }
            report.add("  warm-ups run", Double(status.runs), "")
            report.add("  events they replayed", Double(status.eventsReplayed), "events")
            report.add("  time they took, end to end, all runs", status.seconds, "s")
        } else {
            let log = try await EventLog.open(path: path)
            let warm = await seconds { _ = await log.warmYjsCheckpoints() }
            report.add("Yjs warm-up of the existing log file", warm, "s")
        }
        let logCheckpoints = try await EventLog.open(path: path).stats().checkpoints
        let warmed = try await EventLog.open(path: path).yjsCheckpointStats("paper").count
        report.add("log checkpoints", Double(logCheckpoints), "")
        report.add("Yjs checkpoints after the warm-up", Double(warmed), "")

        // 1. The first export at the head in a fresh process (a new EventLog on the file; the OS file cache
        // is warm): load the head, the nearest Yjs checkpoint, replay the events after it, encode.
        let first = try await EventLog.open(path: path)
        var full = [UInt8]()
        let firstExport = try await seconds { full = try await first.yjsUpdate("paper") }
        report.add("export at head, first in a fresh process", firstExport, "s", target: "≤ 1 s")
        let head = try await first.headSeq("paper")
        let start = try await first.yjsExportStart("paper")
        report.add("  events it replayed (head − its Yjs checkpoint)", Double(head - start), "events")
        let split = try await EventLog.open(path: path)
        let headLoad = try await seconds { _ = try await split.headSeq("paper") }
        let yjsPart = try await seconds { _ = try await split.yjsUpdate("paper") }
        report.add("  same, again: the log's head (checkpoint + replay)", headLoad * 1000, "ms")
        report.add("  same, again: the Yjs export (checkpoint + replay + encode)", yjsPart * 1000, "ms")

        // 2. Warm: the same instance, head in memory.
        var heads = [Double]()
        for _ in 0..<5 {
            let time = try await seconds { full = try await first.yjsUpdate("paper") }
            heads.append(time)
        }
        report.add("export at head, warm: median of 5", percentile(heads, 0.5), "s", target: "≤ 1 s")
        report.add("full-state update at head", Double(full.count), "bytes", target: "Yjs: 159,929")
        let parsed = try YjsUpdate(decoding: full)
        report.add("structs in the full state", Double(parsed.structs.count), "")

        // 3. Fully cold, for comparison: no Yjs checkpoint at all (cleared), so the export replays the whole log
        // and stores them again (what the first export cost before checkpoints followed the log's).
        let cold = try await EventLog.open(path: path)
        _ = try await cold.headSeq("paper")
        try await cold.clearYjsCheckpoints("paper")
        var coldBytes = [UInt8]()
        let coldTime = try await seconds { coldBytes = try await cold.yjsUpdate("paper") }
        report.add("export at head, fully cold (Yjs checkpoints cleared)", coldTime, "s")
        guard coldBytes == full else { throw ValidationError("the export from the warmed checkpoints differs from a replay from 0") }

        let reader = try await EventLog.open(path: path)
        let projection = try await reader.yjsProjection("paper")
        guard projection.yjs.text(.blocks, blockID) == trace.endContent, projection.content(of: blockID) == trace.endContent else {
            throw ValidationError("the Yjs projection's text differs from the trace's endContent")
        }

        // 3. Random seqs.
        var state = UInt64(42)
        var randoms = [Double]()
        var plain = [Double]()
        for _ in 0..<samples {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let n = 1 + Int((state >> 33) % UInt64(head))
            let time = try await seconds { _ = try await reader.yjsUpdate("paper", at: n) }
            randoms.append(time * 1000)
            plain.append(try await seconds { _ = try await reader.state("paper", at: n) } * 1000)
            if ProcessInfo.processInfo.environment["BENCH_DEBUG"] != nil { print("yjs export at", n, time * 1000, "ms") }
        }
        report.add("export at a random seq: p50", percentile(randoms, 0.5), "ms")
        report.add("export at a random seq: p99", percentile(randoms, 0.99), "ms", target: "≤ 50 ms")
        report.add("  the log's own state(at:), same seqs: p50", percentile(plain, 0.5), "ms")
        report.add("  the log's own state(at:), same seqs: p99", percentile(plain, 0.99), "ms")

        // 4. Per-event cost, in memory: the whole log replayed through the projection, with and without
        // encoding each event's update.
        var events = [YjsReplayEvent]()
        events.reserveCapacity(head)
        while events.count < head {
            let page = try await reader.yjsReplayEvents("paper", after: events.count, limit: 8192)
            if page.isEmpty { break }
            events += page
        }
        var updateBytes = 0
        let withUpdates = try seconds {
            var replay = YjsProjection(document: "paper")
            for event in events { updateBytes += try replay.apply(event, encoding: true).count }
        }
        let withoutUpdates = try seconds {
            var replay = YjsProjection(document: "paper")
            for event in events { try replay.apply(event, encoding: false) }
        }
        var stateOnly = DocumentState()
        let stateTime = try seconds {
            for event in events {
                switch event {
                case .patch(let seq, _, _, let id, let patches, let length, let sha):
                    try stateOnly.applyStoredPatch(blockID: id, patches: patches, resultLength: length, resultSHA256: sha, seq: seq)
                case .event(let event): try stateOnly.apply(event.body, seq: event.seq)
                }
            }
        }
        let perEvent = Double(events.count)
        report.add("replay of one event, with its update", withUpdates / perEvent * 1e6, "µs")
        report.add("replay of one event, without its update", withoutUpdates / perEvent * 1e6, "µs")
        report.add("  DocumentState replay alone, per event", stateTime / perEvent * 1e6, "µs")
        report.add("encoding one event's update", max(0, withUpdates - withoutUpdates) / perEvent * 1e6, "µs")
        report.add("per-event updates, mean size", Double(updateBytes) / perEvent, "bytes")

        var tail = [(seq: Int, update: [UInt8])]()
        let lastThousand = try await seconds { tail = try await reader.yjsEventUpdates("paper", after: head - 1000, through: head) }
        report.add("updates of the last 1000 events, from the log", lastThousand * 1000, "ms")
        guard tail.count == 1000 else { throw ValidationError("expected 1000 updates") }

        let stats = try await reader.stats()
        report.add("log checkpoints", Double(stats.checkpoints), "")
        let yjsStats = try await reader.yjsCheckpointStats("paper")
        report.add("Yjs checkpoints", Double(yjsStats.count), "")
        report.add("Yjs checkpoint bytes (LZ4), all of them", Double(yjsStats.bytes), "bytes")
        report.add("log file + WAL", Double(stats.fileBytes + stats.walBytes), "bytes")
        report.add("peak memory (VmHWM)", peakRSSMegabytes(), "MB")
        try report.finish()
    }
}
