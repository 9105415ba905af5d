import Foundation
import GRDB
import MarksyncCore
import MarksyncStore
import Testing

/// The Yjs checkpoints of the log (`yjs_checkpoints`, migration 0003): stored at the log's checkpoint
/// seqs by the first projection that passes them (these tests turn the background warm-up off; see
/// YjsWarmUpTests), used by later exports, and only a cache.
@Suite struct YjsCheckpointTests {
    /// A log of `count` random changes (creates, patches, replacements, deletes; emoji included), appended
    /// `batch` at a time. Without `warmUp`, Yjs checkpoints are written only by exports (the lazy path).
    static func randomLog(count: Int, checkpointEvents: Int, warmUp: Bool = false, batch: Int = .max) async throws -> (EventLog, URL) {
        var options = EventLog.Options()
        options.checkpointEvents = checkpointEvents
        options.synchronousFull = false
        options.warmsYjsCheckpoints = warmUp
        let (log, folder) = try await temporaryLog(options)
        try await log.createDocument("demo")
        var rng = SplitMix64(seed: 3)
        var state = DocumentState()
        let pieces = ["a", "bc", " ", "\n", "😀", "é", "👍🏽", "中"]
        let dmp = DiffMatchPatch()
        var requests = [WriteRequest]()
        while state.seq < count {
            var change: Change
            let roll = Int(rng.next() % 100)
            if state.blocks.isEmpty || roll < 8 {
                change = .create(blockID: "markpact:file=f\(state.seq).txt", index: Int(rng.next() % UInt64(state.blocks.count + 1)), header: nil, content: "x😀")
            } else {
                let block = state.blocks[Int(rng.next() % UInt64(state.blocks.count))]
                var scalars = Array(block.content.unicodeScalars)
                let at = Int(rng.next() % UInt64(scalars.count + 1))
                let cut = min(scalars.count - at, Int(rng.next() % 3))
                scalars.replaceSubrange(at..<(at + cut), with: pieces[Int(rng.next() % UInt64(pieces.count))].unicodeScalars)
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                let new = String(view)
                if roll < 85 {
                    change = .patch(blockID: block.id, patch: dmp.patchToText(dmp.patchMake(block.content, new)), expectedSHA256: nil)
                } else if roll < 95 {
                    change = .full(blockID: block.id, content: new + "!")
                } else {
                    change = .delete(blockID: block.id)
                }
            }
            _ = try state.prepare(change, seq: state.seq + 1)
            requests.append(WriteRequest(document: "demo", author: ["alice", "bob"][Int(rng.next() % 2)], change: change, timestampMs: 1000))
        }
        var start = 0
        while start < requests.count {
            let end = min(requests.count, start + batch)
            for outcome in try await log.append(Array(requests[start..<end])) { #expect(outcome.isAppended) }
            start = end
        }
        return (log, folder)
    }

    static func yjsSeqs(_ path: String) async throws -> [Int] {
        try await DatabaseQueue(path: path).read { db in try Int.fetchAll(db, sql: "SELECT seq FROM yjs_checkpoints ORDER BY seq") }
    }

    /// The projection at `seq` replayed from seq 0, in memory.
    static func replayed(_ log: EventLog, to seq: Int) async throws -> YjsProjection {
        var projection = YjsProjection(document: "demo")
        for event in try await log.yjsReplayEvents("demo", after: 0, limit: seq) { try projection.apply(event, encoding: false) }
        return projection
    }

    @Test func checkpointsFollowTheLogsAndServeLaterExports() async throws {
        let (log, folder) = try await Self.randomLog(count: 700, checkpointEvents: 128)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log.db").path
        let logSeqs = try await log.checkpointSeqs("demo", after: 0, through: 700)
        #expect(logSeqs.count >= 5)
        #expect(try await Self.yjsSeqs(path).isEmpty)
        let atHead = try await log.yjsUpdate("demo")
        #expect(try await Self.yjsSeqs(path) == logSeqs)
        #expect(atHead == (try await Self.replayed(log, to: 700)).encodeStateAsUpdate())
        // From a fresh open, exports at and between checkpoints equal a replay from seq 0.
        let reopened = try await EventLog.open(path: path)
        var scratch = YjsProjection(document: "demo")
        for event in try await log.yjsReplayEvents("demo", after: 0, limit: 700) {
            try scratch.apply(event, encoding: false)
            if logSeqs.contains(scratch.seq) || scratch.seq % 97 == 0 {
                #expect(try await reopened.yjsUpdate("demo", at: scratch.seq) == scratch.encodeStateAsUpdate(), "seq \(scratch.seq)")
            }
        }
        // Per-event updates from the middle of the log equal those of a straight replay.
        var straight = YjsProjection(document: "demo")
        var updates = [[UInt8]]()
        for event in try await log.yjsReplayEvents("demo", after: 0, limit: 400) {
            let update = try straight.apply(event)
            if event.seq > 300 { updates.append(update) }
        }
        #expect(try await reopened.yjsEventUpdates("demo", after: 300, through: 400).map(\.update) == updates)
        await #expect(throws: StoreError.self) { try await reopened.yjsEventUpdates("demo", after: 10, through: 701) }
    }

    @Test func damagedOrStaleCheckpointsAreSkipped() async throws {
        let (log, folder) = try await Self.randomLog(count: 600, checkpointEvents: 128)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log.db").path
        _ = try await log.yjsUpdate("demo")
        let seqs = try await Self.yjsSeqs(path)
        #expect(seqs.count == 4)
        try await DatabaseQueue(path: path).write { db in
            // A row that cannot be read, and one whose event hash is not the log's.
            try db.execute(sql: "UPDATE yjs_checkpoints SET model = x'0102' WHERE seq = ?", arguments: [seqs[3]])
            try db.execute(sql: "UPDATE yjs_checkpoints SET hash = x'00' WHERE seq = ?", arguments: [seqs[2]])
        }
        let reopened = try await EventLog.open(path: path)
        for seq in [seqs[3] + 7, seqs[2] + 3, 600] {
            #expect(try await reopened.yjsUpdate("demo", at: seq) == (try await Self.replayed(log, to: seq)).encodeStateAsUpdate())
        }
        // Both rows were written again, sound, by the exports that passed them.
        let rows = try await DatabaseQueue(path: path).read { db in
            try Int.fetchAll(db, sql: "SELECT y.seq FROM yjs_checkpoints y JOIN events e ON e.doc = y.doc AND e.seq = y.seq AND e.hash = y.hash")
        }
        #expect(rows.count == 4)
        #expect(try await EventLog.open(path: path).yjsUpdate("demo", at: seqs[3]) == (try await Self.replayed(log, to: seqs[3])).encodeStateAsUpdate())
        // Dropping the cache loses nothing.
        try await DatabaseQueue(path: path).write { db in try db.execute(sql: "DELETE FROM yjs_checkpoints") }
        #expect(try await EventLog.open(path: path).yjsUpdate("demo") == (try await Self.replayed(log, to: 600)).encodeStateAsUpdate())
    }
}
