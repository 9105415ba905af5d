import Foundation
import Testing

@testable import MarksyncCore

/// Rendering a parsed document gives back the input byte for byte.
struct LosslessRoundTripTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every Markdown file of the test fixtures and the examples.
    static func markdownFiles() -> [String] {
        var files = [String]()
        for folder in ["Tests/MarksyncCoreTests/Fixtures/markdown", "examples", "tools/interop/seed-examples"] {
            let root = repoRoot.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let relative as String in walker where relative.hasSuffix(".md") {
                files.append(root.appendingPathComponent(relative).path)
            }
        }
        return files.sorted()
    }

    @Test func fixtureFilesExist() {
        #expect(Self.markdownFiles().count >= 8)
    }

    @Test(arguments: markdownFiles())
    func fileRoundTrips(_ path: String) throws {
        let data = try #require(FileManager.default.contents(atPath: path))
        let text = try #require(String(data: data, encoding: .utf8))
        let document = MarkpactDocument(parsing: text)
        #expect(Array(document.render().utf8) == Array(data), "render differs for \(path)")
        // Parsing the rendered text again gives the same model.
        #expect(MarkpactDocument(parsing: document.render()) == document)
    }

    /// Random documents built from the pieces the parser cares about.
    @Test func randomDocumentsRoundTrip() {
        var generator = SplitMix64(seed: 0x5eed)
        let pieces = [
            "# Title", "", "   ", "prose line", "```", "````", "~~~", "```python markpact:file path=a.py",
            "```text markpact:deps python", "```markpact:run bash", "``` markpact:run", "~~~yaml markpact:config",
            "````markdown markpact:file path=d.md", "```c++ markpact:file path=x.cpp", "  ```", "```python", "x = 1",
            "héllo 😀 wörld", "\t\tindented", "```markpact:file=app/main.py python", "``` ", "~~~~",
        ]
        let terminators = ["\n", "\r\n", "\n", "\n"]
        for round in 0..<3000 {
            let crlfOnly = round % 5 == 0
            var text = ""
            for _ in 0..<Int(generator.next() % 30) {
                text += pieces[Int(generator.next() % UInt64(pieces.count))]
                text += crlfOnly ? "\r\n" : terminators[Int(generator.next() % UInt64(terminators.count))]
            }
            if generator.next() % 3 == 0, !text.isEmpty { text.removeLast() }
            let document = MarkpactDocument(parsing: text)
            #expect(Array(document.render().utf8) == Array(text.utf8), "round \(round): \(text.debugDescription)")
            #expect(document.prose.count == document.blocks.count + 1)
            if Array(document.render().utf8) != Array(text.utf8) { return }
        }
    }
}

/// A small deterministic random generator for tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
