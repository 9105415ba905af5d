import Foundation
import MarksyncCore
import Testing

@testable import MarksyncStore

struct EventLogTests {
    @Test(arguments: StoreBackend.allCases) func ingestThenReplayGivesTheFileBackByteForByte(backend: StoreBackend) async throws {
        for readme in exampleReadmes() {
            let (log, _) = try await temporaryLog(on: backend)
            let text = try String(contentsOf: readme, encoding: .utf8)
            let result = try await log.ingest(document: "demo", markdown: text, author: "tester")
            #expect(result.created)
            #expect(result.appended == result.seq)
            #expect(try await log.head("demo").render() == text)
            // A second ingest of the same file appends nothing.
            let again = try await log.ingest(document: "demo", markdown: text, author: "tester")
            #expect(again.appended == 0)
            #expect(again.seq == result.seq)
        }
    }

    @Test(arguments: StoreBackend.allCases) func reopeningRebuildsTheHeadFromTheLog(backend: StoreBackend) async throws {
        let (path, _) = try await temporaryDatabase(backend)
        let text = try String(contentsOf: exampleReadmes()[0], encoding: .utf8)
        var options = EventLog.Options()
        options.checkpointEvents = 3
        do {
            let log = try await EventLog.open(database: path, options: options)
            _ = try await log.ingest(document: "demo", markdown: text, author: "tester")
            _ = try await log.append(
                WriteRequest(document: "demo", author: "editor", change: .full(blockID: "markpact:run", content: "echo reopened")))
        }
        let reopened = try await EventLog.open(database: path, options: options)
        let head = try await reopened.head("demo")
        #expect(head.block("markpact:run")?.content == "echo reopened")
        var expected = MarkpactDocument(parsing: text)
        let runIndex = try #require(expected.index(ofBlock: "markpact:run"))
        expected.blocks[runIndex].setContent("echo reopened")
        #expect(head.render() == expected.render())
        #expect(head.seq == MarkpactDocument(parsing: text).blocks.count + 2)
    }

    @Test func walModeAndSynchronousFull() async throws {
        let (log, folder) = try await temporaryLog()
        try await log.createDocument("d")
        #expect(try await log.pragma("journal_mode") == "wal")
        #expect(try await log.writerPragma("synchronous") == "2")  // FULL on the connection that commits
        #expect(try await log.writerPragma("journal_mode") == "wal")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("log.db-wal").path))
    }

    @Test(arguments: StoreBackend.allCases) func patchesAreCheckedAndRejectionsStoreNothing(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        try await log.createDocument("d")
        let create = try await log.append(
            WriteRequest(document: "d", author: "a", change: .full(blockID: "markpact:file=a.py", content: "x = 1\ny = 2\n")))
        #expect(create.isAppended)
        let dmp = DiffMatchPatch()
        let good = dmp.patchToText(dmp.patchMake("x = 1\ny = 2\n", "x = 1\ny = 3\n"))
        let sha = SHA256.hexDigest(of: "x = 1\ny = 3\n")
        let ok = try await log.append(
            WriteRequest(document: "d", author: "a", change: .patch(blockID: "markpact:file=a.py", patch: good, expectedSHA256: sha)))
        #expect(ok.event?.seq == 2)
        let wrongSHA = try await log.append(
            WriteRequest(
                document: "d", author: "a", change: .patch(blockID: "markpact:file=a.py", patch: good, expectedSHA256: String(repeating: "0", count: 64))))
        #expect(wrongSHA.rejectionCode == "patch_failed" || wrongSHA.rejectionCode == "hash_mismatch")
        let garbage = try await log.append(
            WriteRequest(document: "d", author: "a", change: .patch(blockID: "markpact:file=a.py", patch: "@@ nonsense", expectedSHA256: nil)))
        #expect(garbage.rejectionCode == "bad_patch")
        let unknown = try await log.append(
            WriteRequest(document: "d", author: "a", change: .patch(blockID: "markpact:file=nope.py", patch: good, expectedSHA256: nil)))
        #expect(unknown.rejectionCode == "unknown_block")
        #expect(try await log.headSeq("d") == 2)
        #expect(try await log.head("d").block("markpact:file=a.py")?.content == "x = 1\ny = 3\n")
    }

    @Test(arguments: StoreBackend.allCases) func idempotentWritesStoreOneEvent(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        try await log.createDocument("d")
        let request = WriteRequest(document: "d", author: "a", change: .full(blockID: "markpact:run", content: "echo 1"), clientMessageID: "m-1")
        let first = try await log.append(request)
        let second = try await log.append(request)
        let both = try await log.append([request, request])
        #expect(first.event?.seq == 1)
        guard case .duplicate(let event) = second else {
            Issue.record("expected a duplicate, got \(second)")
            return
        }
        #expect(event.seq == 1)
        #expect(both.allSatisfy { $0.event?.seq == 1 })
        #expect(try await log.headSeq("d") == 1)
    }

    @Test(arguments: StoreBackend.allCases) func optimisticConcurrencyRebasesOrConflicts(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        try await log.createDocument("d")
        let base = "line one\nline two\nline three\nline four\n"
        _ = try await log.append(WriteRequest(document: "d", author: "a", change: .full(blockID: "markpact:file=a.txt", content: base)))
        let dmp = DiffMatchPatch()
        // Two writers from seq 1: non-overlapping edits both survive.
        let first = dmp.patchToText(dmp.patchMake(base, base.replacingOccurrences(of: "line one", with: "LINE ONE")))
        let second = dmp.patchToText(dmp.patchMake(base, base.replacingOccurrences(of: "line four", with: "LINE FOUR")))
        let a = try await log.append(
            WriteRequest(document: "d", author: "a", change: .patch(blockID: "markpact:file=a.txt", patch: first, expectedSHA256: nil), baseSeq: 1))
        let b = try await log.append(
            WriteRequest(document: "d", author: "b", change: .patch(blockID: "markpact:file=a.txt", patch: second, expectedSHA256: nil), baseSeq: 1))
        #expect(a == .appended(try #require(a.event), rebased: false))
        #expect(b == .appended(try #require(b.event), rebased: true))
        #expect(try await log.head("d").block("markpact:file=a.txt")?.content == "LINE ONE\nline two\nline three\nLINE FOUR\n")
        // A full replacement from the old base that overlaps: conflict with the current content.
        let overlapping = try await log.append(
            WriteRequest(
                document: "d", author: "c", change: .full(blockID: "markpact:file=a.txt", content: base.replacingOccurrences(of: "line one", with: "first")),
                baseSeq: 1))
        guard case .rejected(let error, let current) = overlapping else {
            Issue.record("expected a conflict, got \(overlapping)")
            return
        }
        #expect(error.code == "conflict")
        #expect(current?.content == "LINE ONE\nline two\nline three\nLINE FOUR\n")
        #expect(current?.seq == 3)
        // A delete based on an old version is a conflict too: a changed block is never deleted blindly.
        let delete = try await log.append(WriteRequest(document: "d", author: "c", change: .delete(blockID: "markpact:file=a.txt"), baseSeq: 1))
        #expect(delete.rejectionCode == "conflict")
        #expect(try await log.headSeq("d") == 3)
    }

    @Test(arguments: StoreBackend.allCases) func concurrentAppendersShareCommitsAndGetDenseSeqs(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        try await log.createDocument("d")
        let seqs = try await withThrowingTaskGroup(of: [Int].self) { group in
            for writer in 0..<16 {
                group.addTask {
                    var mine = [Int]()
                    for i in 0..<50 {
                        let outcome = try await log.append(
                            WriteRequest(
                                document: "d", author: "w\(writer)", change: .full(blockID: "markpact:file=w\(writer).txt", content: "v\(i)")))
                        mine.append(try #require(outcome.event).seq)
                    }
                    return mine
                }
            }
            var all = [Int]()
            for try await part in group { all += part }
            return all
        }
        #expect(seqs.sorted() == Array(1...800))
        let events = try await log.events("d", after: 0, limit: 10_000)
        #expect(events.map(\.seq) == Array(1...800))
    }

    /// Writers whose tasks are cancelled while they append (a connection going away): each of their writes is
    /// either stored and reported, or refused and not stored; the other writers' writes are never touched.
    @Test(arguments: StoreBackend.allCases) func cancelledAppendersStoreAllOrNothingAndOthersAreUnaffected(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        try await log.createDocument("d")
        typealias Outcomes = (writer: Int, stored: [(id: String, seq: Int)], refused: [String])
        var tasks = [Task<Outcomes, Never>]()
        for writer in 0..<8 {
            tasks.append(
                Task {
                    var stored = [(id: String, seq: Int)]()
                    var refused = [String]()
                    // The cancelled (odd) writers go on longer, also alone, so that some of their appends run the
                    // commit in their own (cancelled) task rather than in the log's writer task.
                    for i in 0..<(writer % 2 == 0 ? 40 : 200) {
                        let id = "w\(writer)-\(i)"
                        let request = WriteRequest(
                            document: "d", author: "w\(writer)", change: .full(blockID: "markpact:file=w\(writer).txt", content: "v\(i)"),
                            clientMessageID: id)
                        do {
                            let outcome = try await log.append(request)
                            if let event = outcome.event { stored.append((id, event.seq)) } else { refused.append(id) }
                        } catch {
                            refused.append(id)
                        }
                    }
                    return (writer, stored, refused)
                })
        }
        try await Task.sleep(for: .milliseconds(15))
        for (writer, task) in tasks.enumerated() where writer % 2 == 1 { task.cancel() }
        var outcomes = [Outcomes]()
        for task in tasks { outcomes.append(await task.value) }

        let events = try await log.events("d", after: 0, limit: 10_000)
        let storedIDs = Dictionary(uniqueKeysWithValues: events.compactMap { event in event.clientMessageID.map { ($0, event.seq) } })
        #expect(events.map(\.seq) == Array(1..<(events.count + 1)))
        for outcome in outcomes {
            for write in outcome.stored { #expect(storedIDs[write.id] == write.seq, "acked \(write.id) must be stored at \(write.seq)") }
            for id in outcome.refused { #expect(storedIDs[id] == nil, "refused \(id) must not be stored") }
            if outcome.writer % 2 == 0 { #expect(outcome.stored.count == 40, "writer \(outcome.writer) was not cancelled") }
        }
        #expect(events.count == outcomes.map(\.stored.count).reduce(0, +))
        #expect(outcomes.filter { $0.writer % 2 == 1 }.contains { !$0.refused.isEmpty }, "the cancellation came too late to test anything")
        #expect(try await log.verify().isClean)
    }
}
