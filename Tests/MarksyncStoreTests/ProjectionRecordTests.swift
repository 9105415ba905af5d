import Foundation
import MarksyncCore
import MarksyncStore
import Testing

/// The `projections` table (issue 17) on both backends: a README write is recorded with its seq and
/// sha256, found again by the sha256 from any path, and the recent ones of a path are the candidate bases
/// of an edit.
struct ProjectionRecordTests {
    @Test(arguments: StoreBackend.allCases) func recordsAreFoundBySHAAndByPath(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        _ = try await log.ingest(document: "d", markdown: "# D\n\n```bash markpact:run\necho 1\n```\n", author: "file")
        let first = try await log.head("d")
        let sha1 = SHA256.hexDigest(of: first.render())
        try await log.recordProjection(document: "d", path: "/a/README.md", seq: first.seq, sha256: sha1)
        try await log.confirmProjection(document: "d", path: "/a/README.md", seq: first.seq)
        _ = try await log.append([WriteRequest(document: "d", author: "w", change: .full(blockID: "markpact:run", content: "echo 2"))])
        let second = try await log.head("d")
        let sha2 = SHA256.hexDigest(of: second.render())
        try await log.recordProjection(document: "d", path: "/a/README.md", seq: second.seq, sha256: sha2)
        // Recording the same seq again (a rewrite after a restart) keeps one row.
        try await log.recordProjection(document: "d", path: "/a/README.md", seq: second.seq, sha256: sha2)

        #expect(try await log.projectedSeq(document: "d", sha256: sha1) == first.seq)
        #expect(try await log.projectedSeq(document: "d", sha256: sha2) == second.seq)
        #expect(try await log.projectedSeq(document: "d", sha256: SHA256.hexDigest(of: "edited")) == nil)
        let recent = try await log.recentProjections(document: "d", path: "/a/README.md")
        #expect(recent.map(\.seq) == [second.seq, first.seq])
        #expect(recent.map(\.sha256) == [sha2, sha1])
        #expect(try await log.recentProjections(document: "d", path: "/b/README.md").isEmpty)
        #expect(try await log.recentProjections(document: "d", path: "/a/README.md", before: second.seq).map(\.seq) == [first.seq])
        await log.close()
    }

    /// A request with `expectedHeadSeq` is stored only while the document's head is at that seq when the
    /// caller's requests are taken up: a merge of a README computed from an older head (a prose write
    /// committed meanwhile) stores nothing and gets `conflict`; all the caller's requests go or none.
    @Test(arguments: StoreBackend.allCases) func expectedHeadSeqMakesAMergeAllOrNothing(backend: StoreBackend) async throws {
        let (log, _) = try await temporaryLog(on: backend)
        _ = try await log.ingest(document: "d", markdown: "# D\n\nProse.\n\n```bash markpact:run\necho 1\n```\n", author: "file")
        let head = try await log.headSeq("d")
        _ = try await log.append([WriteRequest(document: "d", author: "w", change: .event(.proseEdited(index: 0, text: "# D\n\nAcked prose.\n\n")))])
        func requests(expecting seq: Int) -> [WriteRequest] {
            let changes: [Change] = [
                .event(.proseEdited(index: 0, text: "# D\n\nFrom the file.\n\n")), .full(blockID: "markpact:run", content: "echo file"),
            ]
            return changes.map {
                var request = WriteRequest(document: "d", author: "file", change: $0, baseSeq: seq)
                request.expectedHeadSeq = seq
                return request
            }
        }
        let stale = try await log.append(requests(expecting: head))
        #expect(stale.allSatisfy { if case .rejected(let error, _) = $0 { error.code == "conflict" } else { false } })
        #expect(try await log.headSeq("d") == head + 1)
        #expect(try await log.head("d").render().contains("Acked prose."))
        let current = try await log.append(requests(expecting: head + 1))
        #expect(current.allSatisfy { if case .appended = $0 { true } else { false } })
        #expect(try await log.headSeq("d") == head + 3)
        // mergeEdit merges the file's edit onto the head that has the acked prose.
        let base = try await log.head("d").render()
        let outcome = try await log.mergeEdit(document: "d", base: base, edited: base.replacingOccurrences(of: "echo file", with: "echo merged"), author: "file")
        guard case .merged(_, let appended) = outcome else { Issue.record("not merged: \(outcome)"); return }
        #expect(appended == 1)
        await log.close()
    }
}
