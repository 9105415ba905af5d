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
        await log.close()
    }
}
