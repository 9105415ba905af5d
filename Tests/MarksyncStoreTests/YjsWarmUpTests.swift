import Foundation
import GRDB
import MarksyncCore
import MarksyncStore
import MarksyncTestSupport
import Testing

/// The Yjs checkpoints follow the log's without an export asking (EventLog+YjsWarmUp.swift): commits that
/// write log checkpoints queue a background warm-up; `warmYjsCheckpoints()` fills a log written without
/// them; exports then replay at most the events since the last checkpoint.
@Suite struct YjsWarmUpTests {
    static func path(_ folder: URL) -> String { folder.appendingPathComponent("log.db").path }

    /// The export at `seq` of a projection replayed from seq 0, in memory.
    static func fullReplay(_ log: EventLog, to seq: Int) async throws -> [UInt8] {
        try await YjsCheckpointTests.replayed(log, to: seq).encodeStateAsUpdate()
    }

    /// `count` full replacements of a block `extra` (a checkpoint every `checkpointEvents` of them).
    static func appendExtra(_ log: EventLog, count: Int, author: String = "carol") async throws {
        let requests = (0..<count).map {
            WriteRequest(document: "demo", author: author, change: .full(blockID: "markpact:file=extra.txt", content: "v\($0) 😀"))
        }
        for outcome in try await log.append(requests) { #expect(outcome.isAppended) }
    }

    @Test func checkpointsAreWrittenWithTheLogsWithoutAnExport() async throws {
        // 1050 events in commits of 37: a log checkpoint every 100 events, in the commit that reaches it.
        let (log, folder) = try await YjsCheckpointTests.randomLog(count: 1050, checkpointEvents: 100, warmUp: true, batch: 37)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = Self.path(folder)
        let logSeqs = try await log.checkpointSeqs("demo", after: 0, through: 1050)
        #expect(logSeqs == Array(stride(from: 100, through: 1000, by: 100)))
        // No export, no call: the Yjs checkpoints appear at exactly the log's seqs.
        let appeared = try await waitUntil(timeout: .seconds(60)) { try await YjsCheckpointTests.yjsSeqs(path) == logSeqs }
        let yjsSeqs = try await YjsCheckpointTests.yjsSeqs(path)
        #expect(appeared, "Yjs checkpoints at \(yjsSeqs), log checkpoints at \(logSeqs)")
        await log.waitForYjsWarmUp()
        let status = await log.yjsWarmUpStatus
        #expect(!status.running && status.pending.isEmpty)
        #expect(status.failures.isEmpty, "\(status.failures)")
        #expect(status.checkpointsWritten == logSeqs.count)
        // Each warm-up went on from where the previous one stopped: every event up to the last checkpoint was
        // replayed once, none twice.
        #expect(status.eventsReplayed == 1000)

        // Exports, from a fresh open, equal a replay from seq 0, at and between checkpoints.
        let fresh = try await EventLog.open(path: path)
        var expected = [Int: [UInt8]]()
        for seq in [1, 99, 100, 101, 555, 999, 1000, 1020, 1050] {
            expected[seq] = try await Self.fullReplay(log, to: seq)
            #expect(try await fresh.yjsUpdate("demo", at: seq) == expected[seq], "seq \(seq)")
        }
        // An export at the head starts from the last checkpoint: it replays 50 events (≤ checkpointEvents).
        #expect(try await fresh.yjsExportStart("demo") == 1000)
        #expect(try await fresh.yjsExportStart("demo", at: 1020) == 1000)
        #expect(try await fresh.yjsExportStart("demo", at: 999) == 900)

        // Proof that it replays nothing before: events 1…1000 made unreadable, the head still exports.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE events SET payload = x'ff', codec = 0 WHERE seq <= 1000")
        }
        let tampered = try await EventLog.open(path: path)
        #expect(try await tampered.yjsUpdate("demo") == expected[1050])
        #expect(try await tampered.yjsUpdate("demo", at: 1020) == expected[1020])
        // (An export that must read an unreadable event fails: the tampering is real.)
        await #expect(throws: StoreError.self) { try await tampered.yjsUpdate("demo", at: 999) }
    }

    @Test func warmYjsCheckpointsFillsALogWrittenWithoutThemAndAfterARebuild() async throws {
        let (log, folder) = try await YjsCheckpointTests.randomLog(count: 700, checkpointEvents: 128)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = Self.path(folder)
        let logSeqs = try await log.checkpointSeqs("demo", after: 0, through: 700)
        #expect(logSeqs == [128, 256, 384, 512, 640])
        #expect(try await YjsCheckpointTests.yjsSeqs(path).isEmpty)

        // What a server does when it starts on such a log.
        let opened = try await EventLog.open(path: path)
        let status = await opened.warmYjsCheckpoints()
        #expect(try await YjsCheckpointTests.yjsSeqs(path) == logSeqs)
        #expect(status.checkpointsWritten == 5 && status.eventsReplayed == 640 && status.failures.isEmpty)
        // Nothing missing: nothing replayed.
        #expect(await opened.warmYjsCheckpoints().eventsReplayed == 640)

        // Holes (a row dropped, a row of a rewritten event) are filled, from the checkpoint before them.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DELETE FROM yjs_checkpoints WHERE seq = 256")
            try db.execute(sql: "UPDATE yjs_checkpoints SET hash = x'00' WHERE seq = 512")
        }
        let refilled = await opened.warmYjsCheckpoints()
        #expect(refilled.checkpointsWritten == 7)
        #expect(refilled.eventsReplayed == 640 + (512 - 128))
        #expect(try await YjsCheckpointTests.yjsSeqs(path) == logSeqs)
        for seq in [256, 300, 512, 700] {
            #expect(try await EventLog.open(path: path).yjsUpdate("demo", at: seq) == (try await Self.fullReplay(log, to: seq)), "seq \(seq)")
        }

        // A rebuild with another checkpoint interval moves the log's checkpoints; the Yjs ones follow.
        var options = EventLog.Options()
        options.checkpointEvents = 100
        let rebuilt = try await EventLog.open(path: path, options: options)
        _ = try await rebuilt.rebuild()
        let newSeqs = try await rebuilt.checkpointSeqs("demo", after: 0, through: 700)
        #expect(newSeqs == [100, 200, 300, 400, 500, 600, 700])
        let followed = try await waitUntil(timeout: .seconds(60)) { Set(try await YjsCheckpointTests.yjsSeqs(path)).isSuperset(of: newSeqs) }
        let afterRebuild = try await YjsCheckpointTests.yjsSeqs(path)
        #expect(followed, "Yjs checkpoints at \(afterRebuild) after the rebuild")
        #expect(try await rebuilt.yjsExportStart("demo") == 700)
        #expect(try await rebuilt.yjsUpdate("demo") == (try await Self.fullReplay(log, to: 700)))
    }

    @Test func anImportWritesTheYjsCheckpointsWithTheLogs() async throws {
        let (log, folder) = try await YjsCheckpointTests.randomLog(count: 500, checkpointEvents: 3072)
        defer { try? FileManager.default.removeItem(at: folder) }
        let backup = folder.appendingPathComponent("backup.jsonl")
        _ = FileManager.default.createFile(atPath: backup.path, contents: nil)
        let handle = try FileHandle(forWritingTo: backup)
        try await log.export(to: handle)
        try handle.close()
        var options = EventLog.Options()
        options.checkpointEvents = 64
        let target = folder.appendingPathComponent("imported.db").path
        let imported = try await EventLog.open(path: target, options: options)
        let text = try String(contentsOf: backup, encoding: .utf8)
        #expect(try await imported.importLog(lines: text.split(separator: "\n")) == 500)
        let logSeqs = try await imported.checkpointSeqs("demo", after: 0, through: 500)
        #expect(logSeqs == [64, 128, 192, 256, 320, 384, 448])
        let appeared = try await waitUntil(timeout: .seconds(60)) { try await YjsCheckpointTests.yjsSeqs(target) == logSeqs }
        #expect(appeared)
        #expect(try await imported.yjsExportStart("demo") == 448)
        #expect(try await imported.yjsUpdate("demo") == (try await Self.fullReplay(log, to: 500)))
    }

    @Test func stopPausesTheWarmUpUntilResumed() async throws {
        let (log, folder) = try await YjsCheckpointTests.randomLog(count: 600, checkpointEvents: 128, warmUp: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = Self.path(folder)
        await log.stopYjsWarmUp()
        let stopped = await log.yjsWarmUpStatus
        #expect(!stopped.running && stopped.pending.isEmpty)
        // A commit that writes a log checkpoint (at 640) queues nothing while stopped; neither does a call.
        try await Self.appendExtra(log, count: 100)
        #expect(try await log.checkpointSeqs("demo", after: 600, through: 700) == [640])
        await log.waitForYjsWarmUp()
        #expect(await log.yjsWarmUpStatus.runs == stopped.runs)
        #expect(await log.warmYjsCheckpoints().runs == stopped.runs)
        #expect(!(try await YjsCheckpointTests.yjsSeqs(path).contains(640)))
        // Resumed, everything is written.
        await log.resumeYjsWarmUp()
        let resumed = await log.warmYjsCheckpoints()
        #expect(resumed.runs > stopped.runs && resumed.failures.isEmpty)
        #expect(try await YjsCheckpointTests.yjsSeqs(path) == [128, 256, 384, 512, 640])
        // And commits queue warm-ups again.
        try await Self.appendExtra(log, count: 128)
        #expect(try await waitUntil(timeout: .seconds(60)) { try await YjsCheckpointTests.yjsSeqs(path).last == 768 })
    }

    @Test(.timeLimit(.minutes(2))) func deletingTheLogFolderDuringAWarmUpNeitherCrashesNorHangs() async throws {
        let (log, folder) = try await YjsCheckpointTests.randomLog(count: 3000, checkpointEvents: 64, warmUp: true)
        try FileManager.default.removeItem(at: folder)
        // The warm-up ends (done on the unlinked file, or failed and recorded); it never throws at anyone.
        await log.waitForYjsWarmUp()
        let status = await log.yjsWarmUpStatus
        #expect(!status.running && status.runs >= 1)
        await log.stopYjsWarmUp()
    }

    @Test(.timeLimit(.minutes(2))) func stopReturnsWhileAWarmUpRuns() async throws {
        let (log, folder) = try await YjsCheckpointTests.randomLog(count: 4000, checkpointEvents: 50, warmUp: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        await log.stopYjsWarmUp()
        let status = await log.yjsWarmUpStatus
        #expect(!status.running && status.pending.isEmpty)
        // Whatever was written before the stop is sound: exports from it equal a replay from 0.
        #expect(try await EventLog.open(path: Self.path(folder)).yjsUpdate("demo") == (try await Self.fullReplay(log, to: 4000)))
    }

    /// Two authors whose FNV-1a ids collide (see YjsClientIDTests) write the same block; ids stay distinct
    /// through the checkpoints the warm-up writes, and exports from them equal a replay from seq 0.
    @Test func collidingAuthorsKeepTheirIDsThroughWarmedCheckpoints() async throws {
        let first = YjsClientIDCollision.first
        let second = YjsClientIDCollision.second
        var options = EventLog.Options()
        options.checkpointEvents = 16
        options.synchronousFull = false
        let (log, folder) = try await temporaryLog(options)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await log.createDocument("demo")
        var state = DocumentState()
        let dmp = DiffMatchPatch()
        var requests = [WriteRequest]()
        for n in 0..<100 {
            let author = [first, second, "alice"][n % 3]
            let change: Change
            if let block = state.block("markpact:file=a.txt") {
                var scalars = Array(block.content.unicodeScalars)
                scalars.insert(contentsOf: "\(n % 10)😀".unicodeScalars, at: (n * 7) % (scalars.count + 1))
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                change = .patch(blockID: block.id, patch: dmp.patchToText(dmp.patchMake(block.content, String(view))), expectedSHA256: nil)
            } else {
                change = .full(blockID: "markpact:file=a.txt", content: "start")
            }
            _ = try state.prepare(change, seq: n + 1)
            requests.append(WriteRequest(document: "demo", author: author, change: change, timestampMs: 1000))
            if requests.count == 10 {
                for outcome in try await log.append(requests) { #expect(outcome.isAppended) }
                requests.removeAll()
            }
        }
        await log.waitForYjsWarmUp()
        let path = Self.path(folder)
        #expect(try await YjsCheckpointTests.yjsSeqs(path) == Array(stride(from: 16, through: 96, by: 16)))
        let fresh = try await EventLog.open(path: path)
        #expect(try await fresh.yjsExportStart("demo") == 96)
        let projection = try await fresh.yjsProjection("demo")
        let ids = [YjsProjection.clientID(for: first), YjsProjection.clientID(for: second + "#1"), YjsProjection.clientID(for: "alice")]
        #expect(projection.authors.map(\.author) == [first, second, "alice"])
        #expect(projection.authors.map(\.client) == ids)
        #expect(projection.content(of: "markpact:file=a.txt") == state.block("markpact:file=a.txt")?.content)
        let update = try await fresh.yjsUpdate("demo")
        #expect(update == (try await Self.fullReplay(log, to: 100)))
        #expect(Set(try YjsUpdate(decoding: update).structs.map { UInt32($0.client) }) == Set(ids))
        // Each event's items carry its own author's id.
        for (seq, bytes) in try await fresh.yjsEventUpdates("demo", after: 90, through: 100) {
            let author = [first, second, "alice"][(seq - 1) % 3]
            let client = ids[[first, second, "alice"].firstIndex(of: author)!]
            #expect(try YjsUpdate(decoding: bytes).structs.allSatisfy { UInt32($0.client) == client }, "seq \(seq)")
        }
    }
}

/// Two author names whose FNV-1a client ids collide: the first repeated id of a birthday search over
/// `author-0`, `author-1`, … (`YjsClientIDTests.theCollidingPairIsTheFirstOfABirthdaySearch` repeats it).
enum YjsClientIDCollision {
    static let first = "author-422789"
    static let second = "author-639192"
}
