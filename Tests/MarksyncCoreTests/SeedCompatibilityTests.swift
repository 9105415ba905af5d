import Foundation
import Testing

@testable import MarksyncCore

/// The same README gives the same block ids (and kinds, langs, lines and hashes) as the seed's parser.
///
/// The oracle is `tools/seed-blocks.py`, the seed's `BlockParser.parse` restated (checked against the real
/// marksync 0.2.17 parser). It runs on every fixture and example.
struct SeedCompatibilityTests {
    struct SeedBlock: Decodable {
        var block_id: String
        var kind: String
        var lang: String
        var meta: String
        var line_start: Int
        var line_end: Int
        var sha256: String
        var content: String
    }

    /// Files where the seed is wrong on purpose (its defects), with what we expect instead.
    static let seedDefects: [String: [String]] = [
        // The seed's empty `run` block swallows the next blocks; here every block stands alone.
        "empty-and-blank-blocks.md": ["markpact:run", "markpact:config", "markpact:env", "markpact:file=a.py"],
        // The seed sees a header inside a plain ````markdown fence; CommonMark says it is code.
        "nested-fences.md": ["markpact:file=docs/guide.md", "markpact:config"],
    ]

    static func seedBlocks(_ path: String) throws -> [SeedBlock] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let oracle = LosslessRoundTripTests.repoRoot.appendingPathComponent("tools/seed-blocks.py").path
        process.arguments = ["python3", oracle, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the seed oracle failed on \(path)")
        return try JSONDecoder().decode([SeedBlock].self, from: data)
    }

    @Test(arguments: LosslessRoundTripTests.markdownFiles())
    func sameBlocksAsTheSeed(_ path: String) throws {
        let data = try #require(FileManager.default.contents(atPath: path))
        let text = try #require(String(data: data, encoding: .utf8))
        let document = MarkpactDocument(parsing: text)
        let name = URL(fileURLWithPath: path).lastPathComponent
        if let expected = Self.seedDefects[name] {
            #expect(document.blocks.map(\.id) == expected)
            return
        }
        for seed in try Self.seedBlocks(path) {
            let block = try #require(document.block(withID: seed.block_id), "\(name): seed block \(seed.block_id) missing")
            #expect(block.kind == seed.kind, "\(name) \(seed.block_id)")
            #expect(block.lang == seed.lang, "\(name) \(seed.block_id)")
            #expect(block.meta == seed.meta, "\(name) \(seed.block_id)")
            #expect(block.lineStart == seed.line_start, "\(name) \(seed.block_id)")
            #expect(block.lineEnd == seed.line_end, "\(name) \(seed.block_id)")
            // The contract: equal content (and sha256) for blocks that do not begin or end with blank space.
            if block.content == block.content.trimmingWhitespace() {
                #expect(block.content == seed.content, "\(name) \(seed.block_id)")
                #expect(block.sha256 == seed.sha256, "\(name) \(seed.block_id)")
            }
            // Always: what the seed sees (stripped) and its sha, which the server advertises to its clients.
            #expect(SeedContent.strip(block.content) == seed.content, "\(name) \(seed.block_id)")
            #expect(block.seedSHA256 == seed.sha256, "\(name) \(seed.block_id)")
        }
    }
}
