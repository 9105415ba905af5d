import Testing

@testable import MarksyncCore

/// `SeedContent` is Python's `str.strip()` (the seed's parser keeps `body.strip()`) and the sha the seed
/// computes from it.
struct SeedContentTests {
    @Test func stripIsPythons() {
        #expect(SeedContent.strip("x = 1\n") == "x = 1")
        #expect(SeedContent.strip("\n  x = 1  \n\n") == "x = 1")
        #expect(SeedContent.strip("\u{A0}\u{3000}x\u{2028}\u{85}") == "x")
        #expect(SeedContent.strip("a\r\n") == "a")
        #expect(SeedContent.strip(" \n\t") == "")
        #expect(SeedContent.strip("") == "")
        #expect(SeedContent.strip("a\n\nb") == "a\n\nb")
        // Not whitespace for Python: zero-width space and BOM.
        #expect(SeedContent.strip("\u{200B}x\u{FEFF}") == "\u{200B}x\u{FEFF}")
    }

    @Test func splitAndRewrap() {
        let (leading, core, trailing) = SeedContent.split("  x\ny\n\n")
        #expect(leading == "  " && core == "x\ny" && trailing == "\n\n")
        #expect(SeedContent.rewrap("z", like: "  x\ny\n\n") == "  z\n\n")
        #expect(SeedContent.rewrap("z", like: "x") == "z")
        #expect(SeedContent.rewrap(" z ", like: "x\n") == " z ")
        #expect(!SeedContent.differs("x") && SeedContent.differs("x\n") && !SeedContent.differs(""))
    }

    @Test func shaIsOfTheStrippedContent() {
        #expect(SeedContent.sha256(of: "print(1)\n\n") == SHA256.hexDigest(of: "print(1)"))
        let block = MarkpactDocument(parsing: "```python markpact:file path=a.py\nprint(1)\n\n```\n").blocks[0]
        #expect(block.content == "print(1)\n")
        #expect(block.seedSHA256 == SHA256.hexDigest(of: "print(1)"))
        #expect(block.sha256 != block.seedSHA256)
    }
}
