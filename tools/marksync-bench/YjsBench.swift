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
        if !FileManager.default.fileExists(atPath: path) {
            // The log as `marksync-bench log` makes it: one block created, then one patch event per trace edit.
            let patches = tracePatchTexts(edits)
            var setup = EventLog.Options()
            setup.synchronousFull = false
            let log = try await EventLog.open(path: path, options: setup)
            try await log.createDocument("paper")
            _ = try await log.append(WriteRequest(document: "paper", author: "setup", change: .full(blockID: blockID, content: trace.startContent)))
            try await appendTracePatches(patches, blockID: blockID, to: log, batch: 2000)
        }

        let log = try await EventLog.open(path: path)
        let head = try await log.headSeq("paper")
        report.section("automerge-paper log: \(head) events (one block), Yjs projection \(YjsProjection.format):")

        // 1. The first export builds the Yjs checkpoints (a replay of the whole log through the projection).
        try await log.clearYjsCheckpoints("paper")
        var full = [UInt8]()
        let cold = try await seconds { full = try await log.yjsUpdate("paper") }
        report.add("export at head, cold (builds the checkpoints)", cold, "s")

        // 2. From a fresh open: the nearest Yjs checkpoint, then the events after it.
        let reader = try await EventLog.open(path: path)
        var heads = [Double]()
        for _ in 0..<5 {
            let time = try await seconds { full = try await reader.yjsUpdate("paper") }
            heads.append(time)
        }
        report.add("export at head, warm: median of 5", percentile(heads, 0.5), "s", target: "≤ 1 s")
        report.add("full-state update at head", Double(full.count), "bytes", target: "Yjs: 159,929")
        let parsed = try YjsUpdate(decoding: full)
        report.add("structs in the full state", Double(parsed.structs.count), "")

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
