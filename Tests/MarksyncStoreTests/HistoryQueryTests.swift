import Foundation
import MarksyncCore
import Testing

@testable import MarksyncStore

/// `log`'s queries in the database: order, keyset paging, filters by block, author and time, and times
/// resolved to seqs, on both backends.
struct HistoryQueryTests {
    /// Events 1…20 at minute N (seq N), alternating two blocks and two authors.
    func filled(_ backend: StoreBackend) async throws -> (EventLog, URL) {
        var options = EventLog.Options()
        options.checkpointEvents = 7
        let (log, folder) = try await temporaryLog(options, on: backend)
        try await log.createDocument("d")
        let base: Int64 = 1_767_268_800_000
        for seq in 1...20 {
            var request = WriteRequest(
                document: "d", author: seq % 2 == 0 ? "even" : "odd",
                change: .full(blockID: seq % 4 < 2 ? "markpact:file=a.txt" : "markpact:file=b.txt", content: "v\(seq)\n"))
            request.timestampMs = base + Int64(seq) * 60_000
            #expect(try await log.append(request).event?.seq == seq)
        }
        return (log, folder)
    }

    @Test(arguments: StoreBackend.allCases) func pagesFiltersAndTimes(backend: StoreBackend) async throws {
        let (written, folder) = try await filled(backend)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A fresh open: history reads no state.
        let log = try await EventLog.open(database: written.path)
        func seqs(_ filter: HistoryFilter) async throws -> [Int] { try await log.history("d", filter: filter).map(\.seq) }
        #expect(try await seqs(HistoryFilter(limit: 3, newestFirst: true)) == [20, 19, 18])
        #expect(try await seqs(HistoryFilter(limit: 3)) == [1, 2, 3])
        #expect(try await seqs(HistoryFilter(limit: 3, offset: 2, newestFirst: true)) == [18, 17, 16])
        #expect(try await seqs(HistoryFilter(from: 5, to: 8, newestFirst: true)) == [8, 7, 6, 5])
        #expect(try await seqs(HistoryFilter(author: "even", limit: 4, newestFirst: true)) == [20, 18, 16, 14])
        #expect(try await seqs(HistoryFilter(block: "markpact:file=b.txt", to: 12)) == [2, 3, 6, 7, 10, 11])
        #expect(try await seqs(HistoryFilter(block: "markpact:file=nope")).isEmpty)
        #expect(try await seqs(HistoryFilter(author: "nobody")).isEmpty)
        let base: Int64 = 1_767_268_800_000
        #expect(try await seqs(HistoryFilter(sinceMs: base + 5 * 60_000, untilMs: base + 7 * 60_000)) == [5, 6, 7])
        #expect(try await seqs(HistoryFilter(author: "odd", sinceMs: base + 15 * 60_000, newestFirst: true)) == [19, 17, 15])
        #expect(try await seqs(HistoryFilter(kinds: [.blockCreated])) == [1, 2])
        // Times as revisions: the last event at or before.
        #expect(try await log.seq("d", atOrBeforeMs: base + 5 * 60_000 + 30_000) == 5)
        #expect(try await log.seq("d", atOrBeforeMs: base) == 0)
        #expect(try await log.resolve(.time(ms: base + 100 * 60_000), in: "d") == 20)
        #expect(try await log.resolve(.head(back: 3), in: "d") == 17)
        #expect(try await log.knownBlockIDs("d").sorted() == ["markpact:file=a.txt", "markpact:file=b.txt"])
        // What each event changed, for log -p / --stat.
        let changes = try await log.textChanges("d", seqs: [2, 3, 20])
        #expect(changes[3] == EventTextChange(seq: 3, name: "markpact:file=b.txt", old: "v2\n", new: "v3\n"))
        #expect(changes[2] == EventTextChange(seq: 2, name: "markpact:file=b.txt", old: "", new: "v2\n"))
        #expect(changes[20] == EventTextChange(seq: 20, name: "markpact:file=a.txt", old: "v17\n", new: "v20\n"))
        await log.close()
        await written.close()
    }
}
