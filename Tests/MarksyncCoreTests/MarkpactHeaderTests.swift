import Testing

@testable import MarksyncCore

/// The header table of seed-marksync.md §1.2: the same README gives the same ids in both systems.
struct MarkpactHeaderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var header: String
        var kind: String
        var lang: String
        var meta: String
        var id: String
        var path: String?
        var testDescription: String { header }
    }

    // Expected values are the seed's (spec table), except `path` for the `=` form, where the seed leaves
    // it empty and marksync-log takes the embedded file path.
    static let seedTable: [Case] = [
        Case(header: "```text markpact:deps python", kind: "deps", lang: "text", meta: "python", id: "markpact:deps=python", path: nil),
        Case(header: "```markpact:deps python", kind: "deps", lang: "python", meta: "", id: "markpact:deps", path: nil),
        Case(
            header: "```python markpact:file path=app/main.py", kind: "file", lang: "python", meta: "path=app/main.py",
            id: "markpact:file=app/main.py", path: "app/main.py"),
        Case(
            header: "```markpact:file path=app/main.py", kind: "file", lang: "text", meta: "path=app/main.py",
            id: "markpact:file=app/main.py", path: "app/main.py"),
        Case(
            header: "```markpact:file python path=app/main.py", kind: "file", lang: "python", meta: "path=app/main.py",
            id: "markpact:file=app/main.py", path: "app/main.py"),
        Case(
            header: "```python markpact:file=app/main.py", kind: "file", lang: "python", meta: "app/main.py",
            id: "markpact:file=app/main.py", path: "app/main.py"),
        Case(
            header: "```markpact:file=app/main.py python", kind: "file", lang: "python", meta: "app/main.py",
            id: "markpact:file=app/main.py", path: "app/main.py"),
        Case(
            header: "```python markpact:file=app/main.py path=other.py", kind: "file", lang: "python", meta: "path=other.py",
            id: "markpact:file=other.py", path: "other.py"),
        Case(
            header: "```python markpact:file=app/main.py mode=755", kind: "file", lang: "python", meta: "mode=755",
            id: "markpact:file=mode=755", path: "app/main.py"),
        Case(header: "``` markpact:run", kind: "run", lang: "text", meta: "", id: "markpact:run", path: nil),
        Case(header: "```bash markpact:test http", kind: "test", lang: "bash", meta: "http", id: "markpact:test=http", path: nil),
        Case(header: "```yaml markpact:intent", kind: "intent", lang: "yaml", meta: "", id: "markpact:intent", path: nil),
        // Beyond the seed: lang tags with punctuation are recognised.
        Case(
            header: "```c++ markpact:file path=src/main.cpp", kind: "file", lang: "c++", meta: "path=src/main.cpp",
            id: "markpact:file=src/main.cpp", path: "src/main.cpp"),
        Case(
            header: "```objective-c markpact:file path=a.m", kind: "file", lang: "objective-c", meta: "path=a.m",
            id: "markpact:file=a.m", path: "a.m"),
        // Meta with spaces keeps them in the id, as the seed does.
        Case(header: "```text markpact:config  a b  ", kind: "config", lang: "text", meta: "a b", id: "markpact:config=a b", path: nil),
        // The seed's `path=` search matches inside longer words too.
        Case(header: "```text markpact:data xpath=foo", kind: "data", lang: "text", meta: "xpath=foo", id: "markpact:data=foo", path: "foo"),
    ]

    @Test(arguments: seedTable)
    func headerMatchesSeedTable(_ expected: Case) throws {
        let document = MarkpactDocument(parsing: expected.header + "\nbody\n```\n")
        let block = try #require(document.blocks.first, "no block recognised for \(expected.header)")
        #expect(block.kind == expected.kind)
        #expect(block.lang == expected.lang)
        #expect(block.meta == expected.meta)
        #expect(block.id == expected.id)
        #expect(block.path == expected.path)
        #expect(block.content == "body")
    }

    @Test(arguments: [
        "```python",  // no tag
        "```python markpactfile",  // not a tag
        "```python markpact:",  // empty kind
        "```python  notmarkpact:file",  // tag must be the second word
        "```markpact:file=`x`",  // backtick in info string of a backtick fence
        "``python markpact:run",  // two backticks are not a fence
        " ```python markpact:run",  // opening fences start at column 0, as in the seed
    ])
    func nonBlocks(_ header: String) {
        let text = header + "\nbody\n```\n"
        let document = MarkpactDocument(parsing: text)
        #expect(document.blocks.isEmpty)
        #expect(document.render() == text)
    }
}
