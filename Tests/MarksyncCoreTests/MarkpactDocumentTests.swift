import Foundation
import Testing

@testable import MarksyncCore

struct MarkpactDocumentTests {
    @Test func emptyBlockDoesNotSwallowTheNextOne() throws {
        let text = "# T\n\n```bash markpact:run\n```\n\nprose\n\n```python markpact:file path=a.py\ncode\n```\n"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks.map(\.id) == ["markpact:run", "markpact:file=a.py"])
        #expect(document.blocks[0].content == "")
        #expect(document.blocks[1].content == "code")
        #expect(document.prose[1] == "\n\nprose\n\n")
        #expect(document.render() == text)
    }

    @Test func contentKeepsSurroundingBlankLinesAndSpaces() throws {
        let text = "```python markpact:file path=a.py\n\n  x = 1  \n\n```"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks[0].content == "\n  x = 1  \n")
        #expect(document.render() == text)
    }

    @Test func oneEmptyLineBodyIsDistinguishedFromNoBody() {
        let noBody = "```text markpact:a\n```\n"
        let emptyLine = "```text markpact:a\n\n```\n"
        let first = MarkpactDocument(parsing: noBody)
        let second = MarkpactDocument(parsing: emptyLine)
        #expect(first.blocks[0].content == "")
        #expect(second.blocks[0].content == "")
        #expect(first.render() == noBody)
        #expect(second.render() == emptyLine)
    }

    @Test func lineRangesAreThoseOfTheFences() {
        let text = "a\nb\n```text markpact:deps python\nx\ny\n```\nc\n``` markpact:run\n```\n"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks[0].lineStart == 3)
        #expect(document.blocks[0].lineEnd == 6)
        #expect(document.blocks[1].lineStart == 8)
        #expect(document.blocks[1].lineEnd == 9)
    }

    @Test func crlfFilesAreModelledAsLFAndRenderedBack() throws {
        let lf = "# T\n\n```python markpact:file path=a.py\nprint(1)\nprint(2)\n```\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        let document = MarkpactDocument(parsing: crlf)
        #expect(document.lineEnding == .crlf)
        #expect(document.blocks[0].content == "print(1)\nprint(2)")
        #expect(document.blocks[0].sha256 == MarkpactDocument(parsing: lf).blocks[0].sha256)
        #expect(document.render() == crlf)
    }

    @Test func mixedLineEndsAreKeptAsWritten() {
        let text = "```text markpact:a\r\nx\r\ny\n```\r\nz\n"
        let document = MarkpactDocument(parsing: text)
        #expect(document.lineEnding == .lf)
        #expect(document.blocks[0].content == "x\r\ny")
        #expect(document.render() == text)
    }

    @Test func noTrailingNewline() {
        let text = "intro\n```text markpact:a\nx\n```"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks[0].content == "x")
        #expect(document.prose.last == "")
        #expect(document.render() == text)
    }

    @Test func tildeAndLongerFences() {
        let text = """
            ~~~python markpact:file path=a.py
            ```not a close
            ```
            ~~~
            ````markdown markpact:file path=doc.md
            ```python
            inner
            ```
            ````

            """
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks.map(\.id) == ["markpact:file=a.py", "markpact:file=doc.md"])
        #expect(document.blocks[0].content == "```not a close\n```")
        #expect(document.blocks[1].content == "```python\ninner\n```")
        #expect(document.render() == text)
    }

    @Test func plainFencesHideMarkpactLookalikes() {
        // A README that documents the syntax inside a plain fence: the inner header is not a block.
        let text = "````markdown\n```python markpact:file path=x.py\nx\n```\n````\n"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks.isEmpty)
        #expect(document.render() == text)
    }

    @Test func duplicateIdsAreKeptWithSuffixAndWarning() {
        let text = "``` markpact:run\na\n```\n``` markpact:run\nb\n```\n``` markpact:run\nc\n```\n"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks.map(\.id) == ["markpact:run", "markpact:run#2", "markpact:run#3"])
        #expect(document.blocks.map(\.content) == ["a", "b", "c"])
        #expect(document.warnings.map(\.code) == ["duplicate_id", "duplicate_id"])
        #expect(document.warnings.map(\.line) == [4, 7])
        #expect(document.render() == text)
    }

    @Test func unclosedFenceStaysProseWithWarning() {
        let text = "```text markpact:a\nx\n``` markpact:b\n"
        // The second line with ``` and info does not close; the fence never closes.
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks.isEmpty)
        #expect(document.warnings.first?.code == "unclosed_fence")
        #expect(document.render() == text)
    }

    @Test func setContentGuardsAgainstFenceInjection() throws {
        var document = MarkpactDocument(parsing: "```python markpact:file path=a.py\nx\n```\nafter\n")
        let injected = "```python\nprint(1)\n```\n\nprose that must stay in the block"
        document.blocks[0].setContent(injected)
        let rendered = document.render()
        let reparsed = MarkpactDocument(parsing: rendered)
        #expect(reparsed.blocks.count == 1)
        #expect(reparsed.blocks[0].id == "markpact:file=a.py")
        #expect(reparsed.blocks[0].content == injected)
        #expect(reparsed.prose.last == "\nafter\n")
    }

    @Test func editingOneBlockLeavesEverythingElse() {
        // The seed's global str.replace changed prose and twin blocks; rendering from the model does not.
        let text = """
            Run with `print(1)` in a paragraph.

            ```python markpact:file path=a.py
            print(1)
            ```

            ```python markpact:file path=b.py
            print(1)
            ```

            """
        var document = MarkpactDocument(parsing: text)
        document.blocks[1].setContent("print(2)")
        let expected = text.replacingOccurrences(of: "path=b.py\nprint(1)", with: "path=b.py\nprint(2)")
        #expect(document.render() == expected)
    }

    @Test func manifestMapsIdsToSha256() {
        let document = MarkpactDocument(parsing: "```text markpact:a\nhello\n```\n")
        #expect(document.manifest == ["markpact:a": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"])
    }
}
