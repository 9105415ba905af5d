import Foundation
import MarksyncCore
import Testing

@testable import MarksyncStore

/// The migration path from one node to a cluster (issue 8): a SQLite log exported and imported into
/// PostgreSQL exports the same bytes, and back again; `verify` is clean on both.
struct CrossBackendTests {
    /// Writes a log's export to a file and returns its bytes.
    static func exportBytes(_ log: EventLog, to file: URL) async throws -> Data {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        try await log.export(to: handle)
        try handle.close()
        return try Data(contentsOf: file)
    }

    static func importFile(_ file: URL, into log: EventLog) async throws -> Int {
        let text = try String(contentsOf: file, encoding: .utf8)
        return try await log.importLog(lines: text.split(separator: "\n"))
    }

    @Test func sqliteToPostgresAndBackGiveTheSameExport() async throws {
        var options = EventLog.Options()
        options.checkpointEvents = 50
        let (sqlite, folder) = try await temporaryLog(options)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Two documents: an example README, then edits by several authors (patches, replacements, a
        // delete, non-BMP text, client ids) and a consumer cursor.
        for (index, readme) in exampleReadmes().prefix(2).enumerated() {
            _ = try await sqlite.ingest(document: "doc\(index)", markdown: try String(contentsOf: readme, encoding: .utf8), author: "file")
        }
        var random = SplitMix64(seed: 8)
        let dmp = DiffMatchPatch()
        for step in 0..<300 {
            let document = "doc\(step % 2)"
            let head = try await sqlite.head(document)
            let blocks = head.blocks
            let block = blocks[Int(random.next() % UInt64(blocks.count))]
            let change: Change
            switch random.next() % 4 {
            case 0: change = .full(blockID: block.id, content: block.content + "# 😀 step \(step)\n")
            case 1 where step % 50 == 49: change = .delete(blockID: block.id)
            default:
                let edited = block.content.replacingOccurrences(of: "a", with: "å", options: [], range: nil) + "𝄞\(step)\n"
                change = .patch(blockID: block.id, patch: dmp.patchToText(dmp.patchMake(block.content, edited)), expectedSHA256: nil)
            }
            let outcome = try await sqlite.append(
                WriteRequest(document: document, author: "author-\(step % 5)", change: change, clientMessageID: "m-\(step)"))
            #expect(outcome.event != nil, "step \(step): \(outcome)")
        }
        try await sqlite.setCursor(document: "doc0", consumer: "reviewer", seq: 40)

        let first = try await Self.exportBytes(sqlite, to: folder.appendingPathComponent("sqlite.jsonl"))
        let (postgres, _) = try await temporaryLog(options, on: .postgres)
        #expect(try await Self.importFile(folder.appendingPathComponent("sqlite.jsonl"), into: postgres) > 300)
        let second = try await Self.exportBytes(postgres, to: folder.appendingPathComponent("postgres.jsonl"))
        #expect(first == second)
        #expect(first.count > 10_000)
        #expect(try await postgres.verify().isClean)
        #expect(try await postgres.head("doc1") == sqlite.head("doc1"))
        #expect(try await postgres.cursor(document: "doc0", consumer: "reviewer") == 40)

        // And back: PostgreSQL → a new SQLite file.
        let (again, _) = try await temporaryLog(options)
        _ = try await Self.importFile(folder.appendingPathComponent("postgres.jsonl"), into: again)
        #expect(try await Self.exportBytes(again, to: folder.appendingPathComponent("again.jsonl")) == first)
        #expect(try await again.verify().isClean)
        await postgres.close()
    }
}
