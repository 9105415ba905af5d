import Testing

@testable import MarksyncCore

// The behaviour checks of the official diff-match-patch test suite, written anew for the
// Swift port (code points instead of UTF-16 where the Python 3 port differs), plus checks
// of the Python port's quirks that the Swift port keeps.

private func cp(_ string: String) -> [UInt32] { string.unicodeScalars.map(\.value) }
private func eq(_ text: String) -> Diff { Diff(.equal, text) }
private func del(_ text: String) -> Diff { Diff(.delete, text) }
private func ins(_ text: String) -> Diff { Diff(.insert, text) }

/// Rebuilds both texts of a diff.
private func rebuildTexts(_ diffs: [Diff]) -> (String, String) {
    let dmp = DiffMatchPatch()
    return (DMPCodePoints.string(dmp.diffText1(diffs)), DMPCodePoints.string(dmp.diffText2(diffs)))
}

@Suite("diff-match-patch: diff")
struct DiffMatchPatchDiffBehaviourTests {
    let dmp = DiffMatchPatch()

    @Test func commonPrefix() {
        #expect(dmp.diffCommonPrefix(cp("abc"), cp("xyz")) == 0)
        #expect(dmp.diffCommonPrefix(cp("1234abcdef"), cp("1234xyz")) == 4)
        #expect(dmp.diffCommonPrefix(cp("1234"), cp("1234xyz")) == 4)
    }

    @Test func commonSuffix() {
        #expect(dmp.diffCommonSuffix(cp("abc"), cp("xyz")) == 0)
        #expect(dmp.diffCommonSuffix(cp("abcdef1234"), cp("xyz1234")) == 4)
        #expect(dmp.diffCommonSuffix(cp("1234"), cp("xyz1234")) == 4)
    }

    @Test func commonOverlap() {
        #expect(dmp.diffCommonOverlap(cp(""), cp("abcd")) == 0)
        #expect(dmp.diffCommonOverlap(cp("abc"), cp("abcd")) == 3)
        #expect(dmp.diffCommonOverlap(cp("123456"), cp("abcd")) == 0)
        #expect(dmp.diffCommonOverlap(cp("123456xxx"), cp("xxxabcd")) == 3)
        // A ligature is not its component letters.
        #expect(dmp.diffCommonOverlap(cp("fi"), cp("\u{FB01}i")) == 0)
    }

    private func halfMatch(_ dmp: DiffMatchPatch, _ a: String, _ b: String) -> [String]? {
        guard let hm = dmp.diffHalfMatch(cp(a), cp(b)) else { return nil }
        return [hm.text1A, hm.text1B, hm.text2A, hm.text2B, hm.midCommon].map { DMPCodePoints.string($0) }
    }

    @Test func halfMatch() {
        var dmp = DiffMatchPatch()
        dmp.diffTimeout = 1
        // No match.
        #expect(halfMatch(dmp, "1234567890", "abcdef") == nil)
        #expect(halfMatch(dmp, "12345", "23") == nil)
        // Single match.
        #expect(halfMatch(dmp, "1234567890", "a345678z") == ["12", "90", "a", "z", "345678"])
        #expect(halfMatch(dmp, "a345678z", "1234567890") == ["a", "z", "12", "90", "345678"])
        #expect(halfMatch(dmp, "abc56789z", "1234567890") == ["abc", "z", "1234", "0", "56789"])
        #expect(halfMatch(dmp, "a23456xyz", "1234567890") == ["a", "xyz", "1", "7890", "23456"])
        // Multiple matches.
        #expect(
            halfMatch(dmp, "121231234123451234123121", "a1234123451234z")
                == ["12123", "123121", "a", "z", "1234123451234"])
        #expect(
            halfMatch(dmp, "x-=-=-=-=-=-=-=-=-=-=-=-=", "xx-=-=-=-=-=-=-=")
                == ["", "-=-=-=-=-=", "x", "", "x-=-=-=-=-=-=-="])
        #expect(
            halfMatch(dmp, "-=-=-=-=-=-=-=-=-=-=-=-=y", "-=-=-=-=-=-=-=yy")
                == ["-=-=-=-=-=", "", "", "y", "-=-=-=-=-=-=-=y"])
        // Non-optimal half match.
        #expect(halfMatch(dmp, "qHilloHelloHew", "xHelloHeHulloy") == ["qHillo", "w", "x", "Hulloy", "HelloHe"])
        // Optimal: no half match without a timeout.
        dmp.diffTimeout = 0
        #expect(halfMatch(dmp, "qHilloHelloHew", "xHelloHeHulloy") == nil)
    }

    @Test func linesToChars() {
        var r = dmp.diffLinesToChars(cp("alpha\nbeta\nalpha\n"), cp("beta\nalpha\nbeta\n"))
        #expect(r.chars1 == [1, 2, 1])
        #expect(r.chars2 == [2, 1, 2])
        #expect(r.lineArray == [[], cp("alpha\n"), cp("beta\n")])

        r = dmp.diffLinesToChars(cp(""), cp("alpha\r\nbeta\r\n\r\n\r\n"))
        #expect(r.chars1 == [])
        #expect(r.chars2 == [1, 2, 3, 3])
        #expect(r.lineArray == [[], cp("alpha\r\n"), cp("beta\r\n"), cp("\r\n")])

        r = dmp.diffLinesToChars(cp("a"), cp("b"))
        #expect(r.chars1 == [1])
        #expect(r.chars2 == [2])
        #expect(r.lineArray == [[], cp("a"), cp("b")])

        // More than 256 lines, to reveal any 8-bit limitation.
        let n = 300
        var lines = [[UInt32]]()
        var text = [UInt32]()
        for i in 1...n {
            lines.append(cp("\(i)\n"))
            text.append(contentsOf: cp("\(i)\n"))
        }
        r = dmp.diffLinesToChars(text, [])
        #expect(r.chars1 == (1...n).map { UInt32($0) })
        #expect(r.chars2 == [])
        #expect(r.lineArray == [[]] + lines)
    }

    @Test func linesToCharsUsesSurrogateRangeAndLimits() {
        // More than 1,114,112 lines: text1 is limited to 666,666 table entries (the rest
        // becomes one line) and "characters" pass through 0xD800...0xDFFF.
        var text = [UInt32]()
        text.reserveCapacity(8_000_000)
        for i in 1...1_115_000 { text.append(contentsOf: cp("\(i)\n")) }
        let r = dmp.diffLinesToChars(text, [])
        #expect(r.chars1.count == 666_666)
        #expect(r.chars1.contains(0xD800))
        #expect(r.lineArray.count == 666_667)
        var diffs = [Diff(.insert, r.chars1)]
        dmp.diffCharsToLines(&diffs, r.lineArray)
        #expect(diffs[0].text == text)
    }

    @Test func charsToLines() {
        var diffs = [Diff(.equal, [1, 2, 1]), Diff(.insert, [2, 1, 2])]
        dmp.diffCharsToLines(&diffs, [[], cp("alpha\n"), cp("beta\n")])
        #expect(diffs == [eq("alpha\nbeta\nalpha\n"), ins("beta\nalpha\nbeta\n")])

        let n = 300
        var lines: [[UInt32]] = [[]]
        var text = [UInt32]()
        for i in 1...n {
            lines.append(cp("\(i)\n"))
            text.append(contentsOf: cp("\(i)\n"))
        }
        diffs = [Diff(.delete, (1...n).map { UInt32($0) })]
        dmp.diffCharsToLines(&diffs, lines)
        #expect(diffs == [Diff(.delete, text)])
    }

    private func merged(_ diffs: [Diff]) -> [Diff] {
        var diffs = diffs
        dmp.diffCleanupMerge(&diffs)
        return diffs
    }

    @Test func cleanupMerge() {
        #expect(merged([]) == [])
        // No change.
        #expect(merged([eq("a"), del("b"), ins("c")]) == [eq("a"), del("b"), ins("c")])
        // Merge equalities, deletions, insertions.
        #expect(merged([eq("a"), eq("b"), eq("c")]) == [eq("abc")])
        #expect(merged([del("a"), del("b"), del("c")]) == [del("abc")])
        #expect(merged([ins("a"), ins("b"), ins("c")]) == [ins("abc")])
        // Merge interweave.
        #expect(merged([del("a"), ins("b"), del("c"), ins("d"), eq("e"), eq("f")]) == [del("ac"), ins("bd"), eq("ef")])
        // Prefix and suffix detection.
        #expect(merged([del("a"), ins("abc"), del("dc")]) == [eq("a"), del("d"), ins("b"), eq("c")])
        #expect(
            merged([eq("x"), del("a"), ins("abc"), del("dc"), eq("y")]) == [eq("xa"), del("d"), ins("b"), eq("cy")])
        // Slide edit left / right, also recursively.
        #expect(merged([eq("a"), ins("ba"), eq("c")]) == [ins("ab"), eq("ac")])
        #expect(merged([eq("c"), ins("ab"), eq("a")]) == [eq("ca"), ins("ba")])
        #expect(merged([eq("a"), del("b"), eq("c"), del("ac"), eq("x")]) == [del("abc"), eq("acx")])
        #expect(merged([eq("x"), del("ca"), eq("c"), del("b"), eq("a")]) == [eq("xca"), del("cba")])
        // Empty merge and empty equality.
        #expect(merged([del("b"), ins("ab"), eq("c")]) == [ins("a"), eq("bc")])
        #expect(merged([eq(""), ins("a"), eq("b")]) == [ins("a"), eq("b")])
    }

    private func lossless(_ diffs: [Diff]) -> [Diff] {
        var diffs = diffs
        dmp.diffCleanupSemanticLossless(&diffs)
        return diffs
    }

    @Test func cleanupSemanticLossless() {
        #expect(lossless([]) == [])
        // Blank lines.
        #expect(
            lossless([eq("AAA\r\n\r\nBBB"), ins("\r\nDDD\r\n\r\nBBB"), eq("\r\nEEE")])
                == [eq("AAA\r\n\r\n"), ins("BBB\r\nDDD\r\n\r\n"), eq("BBB\r\nEEE")])
        // Line boundaries.
        #expect(
            lossless([eq("AAA\r\nBBB"), ins(" DDD\r\nBBB"), eq(" EEE")])
                == [eq("AAA\r\n"), ins("BBB DDD\r\n"), eq("BBB EEE")])
        // Word boundaries.
        #expect(
            lossless([eq("The c"), ins("ow and the c"), eq("at.")]) == [eq("The "), ins("cow and the "), eq("cat.")])
        // Alphanumeric boundaries.
        #expect(
            lossless([eq("The-c"), ins("ow-and-the-c"), eq("at.")]) == [eq("The-"), ins("cow-and-the-"), eq("cat.")])
        // Hitting the start and the end.
        #expect(lossless([eq("a"), del("a"), eq("ax")]) == [del("a"), eq("aax")])
        #expect(lossless([eq("xa"), del("a"), eq("a")]) == [eq("xaa"), del("a")])
        // Sentence boundaries.
        #expect(
            lossless([eq("The xxx. The "), ins("zzz. The "), eq("yyy.")])
                == [eq("The xxx."), ins(" The zzz."), eq(" The yyy.")])
        // Python's isalnum: non-ASCII letters are word characters, U+3000 is whitespace.
        #expect(lossless([eq("été c"), ins("afé\u{3000}c"), eq("afé")]) == [eq("été café"), ins("\u{3000}café")])
    }

    private func semantic(_ diffs: [Diff]) -> [Diff] {
        var diffs = diffs
        dmp.diffCleanupSemantic(&diffs)
        return diffs
    }

    @Test func cleanupSemantic() {
        #expect(semantic([]) == [])
        // No elimination.
        #expect(semantic([del("ab"), ins("cd"), eq("12"), del("e")]) == [del("ab"), ins("cd"), eq("12"), del("e")])
        #expect(
            semantic([del("abc"), ins("ABC"), eq("1234"), del("wxyz")])
                == [del("abc"), ins("ABC"), eq("1234"), del("wxyz")])
        // Simple, backpass and multiple eliminations.
        #expect(semantic([del("a"), eq("b"), del("c")]) == [del("abc"), ins("b")])
        #expect(semantic([del("ab"), eq("cd"), del("e"), eq("f"), ins("g")]) == [del("abcdef"), ins("cdfg")])
        #expect(
            semantic([ins("1"), eq("A"), del("B"), ins("2"), eq("_"), ins("1"), eq("A"), del("B"), ins("2")])
                == [del("AB_AB"), ins("1A2_1A2")])
        // Word boundaries.
        #expect(
            semantic([eq("The c"), del("ow and the c"), eq("at.")]) == [eq("The "), del("cow and the "), eq("cat.")])
        // Overlap elimination.
        #expect(semantic([del("abcxx"), ins("xxdef")]) == [del("abcxx"), ins("xxdef")])
        #expect(semantic([del("abcxxx"), ins("xxxdef")]) == [del("abc"), eq("xxx"), ins("def")])
        #expect(semantic([del("xxxabc"), ins("defxxx")]) == [ins("def"), eq("xxx"), del("abc")])
        #expect(
            semantic([del("abcd1212"), ins("1212efghi"), eq("----"), del("A3"), ins("3BC")])
                == [del("abcd"), eq("1212"), ins("efghi"), eq("----"), del("A"), eq("3"), ins("BC")])
    }

    @Test func cleanupEfficiency() {
        var dmp = DiffMatchPatch()
        dmp.diffEditCost = 4
        func efficient(_ diffs: [Diff]) -> [Diff] {
            var diffs = diffs
            dmp.diffCleanupEfficiency(&diffs)
            return diffs
        }
        #expect(efficient([]) == [])
        #expect(
            efficient([del("ab"), ins("12"), eq("wxyz"), del("cd"), ins("34")])
                == [del("ab"), ins("12"), eq("wxyz"), del("cd"), ins("34")])
        // Four-edit, three-edit and backpass elimination.
        #expect(efficient([del("ab"), ins("12"), eq("xyz"), del("cd"), ins("34")]) == [del("abxyzcd"), ins("12xyz34")])
        #expect(efficient([ins("12"), eq("x"), del("cd"), ins("34")]) == [del("xcd"), ins("12x34")])
        #expect(
            efficient([del("ab"), ins("12"), eq("xy"), ins("34"), eq("z"), del("cd"), ins("56")])
                == [del("abxyzcd"), ins("12xy34z56")])
        // High cost elimination.
        dmp.diffEditCost = 5
        #expect(
            efficient([del("ab"), ins("12"), eq("wxyz"), del("cd"), ins("34")]) == [del("abwxyzcd"), ins("12wxyz34")])
    }

    @Test func prettyHtml() {
        let diffs = [eq("a\n"), del("<B>b</B>"), ins("c&d")]
        #expect(
            dmp.diffPrettyHtml(diffs)
                == "<span>a&para;<br></span><del style=\"background:#ffe6e6;\">&lt;B&gt;b&lt;/B&gt;</del>"
                + "<ins style=\"background:#e6ffe6;\">c&amp;d</ins>")
    }

    @Test func text() {
        let diffs = [eq("jump"), del("s"), ins("ed"), eq(" over "), del("the"), ins("a"), eq(" lazy")]
        #expect(dmp.diffText1(diffs) == cp("jumps over the lazy"))
        #expect(dmp.diffText2(diffs) == cp("jumped over a lazy"))
    }

    @Test func delta() throws {
        var diffs = [eq("jump"), del("s"), ins("ed"), eq(" over "), del("the"), ins("a"), eq(" lazy"), ins("old dog")]
        var text1 = dmp.diffText1(diffs)
        #expect(text1 == cp("jumps over the lazy"))
        var delta = dmp.diffToDelta(diffs)
        #expect(delta == "=4\t-1\t+ed\t=6\t-3\t+a\t=5\t+old dog")
        #expect(try dmp.diffFromDelta(text1, delta) == diffs)
        // Too long and too short source texts.
        #expect(throws: DiffDeltaError.self) { try dmp.diffFromDelta(text1 + cp("x"), delta) }
        #expect(throws: DiffDeltaError.self) { try dmp.diffFromDelta(Array(text1.dropFirst()), delta) }

        // Special characters.
        diffs = [eq("\u{0680} \u{0} \t %"), del("\u{0681} \u{1} \n ^"), ins("\u{0682} \u{2} \\ |")]
        text1 = dmp.diffText1(diffs)
        #expect(text1 == cp("\u{0680} \u{0} \t %\u{0681} \u{1} \n ^"))
        delta = dmp.diffToDelta(diffs)
        #expect(delta == "=7\t-7\t+%DA%82 %02 %5C %7C")
        #expect(try dmp.diffFromDelta(text1, delta) == diffs)

        // Counts are UTF-16 code units, as in Python 3.
        diffs = dmp.diffMain("\u{1F64B}\u{1F64B}", "\u{1F64B}\u{1F64C}\u{1F64B}")
        delta = dmp.diffToDelta(diffs)
        #expect(delta == "=2\t+%F0%9F%99%8C\t=2")
        #expect(try dmp.diffFromDelta("\u{1F64B}\u{1F64B}", delta) == diffs)
        // A count that ends inside a surrogate pair is an error.
        #expect(throws: DiffDeltaError.self) { try dmp.diffFromDelta("\u{1F64B}\u{1F64B}", "=1\t+x\t=3") }

        // Unchanged characters.
        diffs = [ins("A-Z a-z 0-9 - _ . ! ~ * ' ( ) ; / ? : @ & = + $ , # ")]
        delta = dmp.diffToDelta(diffs)
        #expect(delta == "+A-Z a-z 0-9 - _ . ! ~ * ' ( ) ; / ? : @ & = + $ , # ")
        #expect(try dmp.diffFromDelta("", delta) == diffs)

        // Non-BMP characters are diffed whole.
        #expect(
            dmp.diffToDelta(dmp.diffMain("\u{1F170}\u{1F171}", "\u{1F171}\u{1F170}\u{1F171}"))
                == dmp.diffToDelta([ins("\u{1F171}"), eq("\u{1F170}\u{1F171}")]))
        #expect(
            dmp.diffToDelta(dmp.diffMain("\u{1F170}\u{1F171}", "\u{1F170}\u{1F172}\u{1F171}"))
                == dmp.diffToDelta([eq("\u{1F170}"), ins("\u{1F172}"), eq("\u{1F171}")]))
        #expect(
            dmp.diffToDelta(dmp.diffMain("\u{1F171}\u{1F170}\u{1F171}", "\u{1F170}\u{1F171}"))
                == dmp.diffToDelta([del("\u{1F171}"), eq("\u{1F170}\u{1F171}")]))
        #expect(
            dmp.diffToDelta(dmp.diffMain("\u{1F170}\u{1F172}\u{1F171}", "\u{1F170}\u{1F171}"))
                == dmp.diffToDelta([eq("\u{1F170}"), del("\u{1F172}"), eq("\u{1F171}")]))
        #expect(
            dmp.diffToDelta(dmp.diffMain("\u{1F170}", "\u{1F171}"))
                == dmp.diffToDelta([del("\u{1F170}"), ins("\u{1F171}")]))

        // 160 kB string.
        var a = "abcdefghij"
        for _ in 0..<14 { a += a }
        diffs = [ins(a)]
        delta = dmp.diffToDelta(diffs)
        #expect(delta == "+" + a)
        #expect(try dmp.diffFromDelta("", delta) == diffs)
    }

    @Test func deltaErrors() {
        func reason(_ text1: String, _ delta: String) -> DiffDeltaError.Reason? {
            do {
                _ = try dmp.diffFromDelta(text1, delta)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason("abc", "=x") == .invalidNumber)
        #expect(reason("abc", "=-3") == .negativeNumber)
        #expect(reason("abc", "*3") == .invalidOperation)
        #expect(reason("abc", "=5") == .lengthMismatch)
        #expect(reason("a\u{1F600}b", "=2\t=2") == .splitSurrogatePair)
        // Python's int(): whitespace, sign and underscores are accepted.
        #expect(reason("abc", "= 3") == nil)
        #expect(reason("abc", "=+3") == nil)
        #expect(reason("abc", "=0_3") == nil)
        #expect(reason("abc", "=\u{0663}") == nil)
    }

    @Test func xIndex() {
        #expect(dmp.diffXIndex([del("a"), ins("1234"), eq("xyz")], 2) == 5)
        #expect(dmp.diffXIndex([eq("a"), del("1234"), eq("xyz")], 3) == 1)
        // Python quirk past the end: a final deletion maps to the end of the new text.
        #expect(dmp.diffXIndex([eq("ab"), del("cd")], 10) == 2)
        #expect(dmp.diffXIndex([eq("ab"), ins("cd")], 10) == 12)
    }

    @Test func levenshtein() {
        #expect(dmp.diffLevenshtein([del("abc"), ins("1234"), eq("xyz")]) == 4)
        #expect(dmp.diffLevenshtein([eq("xyz"), del("abc"), ins("1234")]) == 4)
        #expect(dmp.diffLevenshtein([del("abc"), eq("xyz"), ins("1234")]) == 7)
    }

    @Test func bisect() {
        // The order of the insertion/deletion pairs is Python's.
        #expect(
            dmp.diffBisect(cp("cat"), cp("map"), deadline: nil) == [del("c"), ins("m"), eq("a"), del("t"), ins("p")])
        // Timeout: a deadline in the past gives up at once.
        let past = ContinuousClock.now.advanced(by: .seconds(-1))
        #expect(dmp.diffBisect(cp("cat"), cp("map"), deadline: past) == [del("cat"), ins("map")])
    }

    @Test func main() {
        // Trivial diffs.
        #expect(dmp.diffMain("", "", checkLines: false) == [])
        #expect(dmp.diffMain("abc", "abc", checkLines: false) == [eq("abc")])
        #expect(dmp.diffMain("abc", "ab123c", checkLines: false) == [eq("ab"), ins("123"), eq("c")])
        #expect(dmp.diffMain("a123bc", "abc", checkLines: false) == [eq("a"), del("123"), eq("bc")])
        #expect(
            dmp.diffMain("abc", "a123b456c", checkLines: false) == [eq("a"), ins("123"), eq("b"), ins("456"), eq("c")])
        #expect(
            dmp.diffMain("a123b456c", "abc", checkLines: false) == [eq("a"), del("123"), eq("b"), del("456"), eq("c")])

        // Real diffs, without a timeout.
        var dmp = DiffMatchPatch()
        dmp.diffTimeout = 0
        #expect(dmp.diffMain("a", "b", checkLines: false) == [del("a"), ins("b")])
        #expect(
            dmp.diffMain("Apples are a fruit.", "Bananas are also fruit.", checkLines: false)
                == [del("Apple"), ins("Banana"), eq("s are a"), ins("lso"), eq(" fruit.")])
        #expect(
            dmp.diffMain("ax\t", "\u{0680}x\u{0}", checkLines: false)
                == [del("a"), ins("\u{0680}"), eq("x"), del("\t"), ins("\u{0}")])
        // Overlaps.
        #expect(
            dmp.diffMain("1ayb2", "abxab", checkLines: false)
                == [del("1"), eq("a"), del("y"), eq("b"), del("2"), ins("xab")])
        #expect(dmp.diffMain("abcy", "xaxcxabc", checkLines: false) == [ins("xaxcx"), eq("abc"), del("y")])
        #expect(
            dmp.diffMain("ABCDa=bcd=efghijklmnopqrsEFGHIJKLMNOefg", "a-bcd-efghijklmnopqrs", checkLines: false)
                == [
                    del("ABCD"), eq("a"), del("="), ins("-"), eq("bcd"), del("="), ins("-"),
                    eq("efghijklmnopqrs"), del("EFGHIJKLMNOefg"),
                ])
        // Large equality.
        #expect(
            dmp.diffMain("a [[Pennsylvania]] and [[New", " and [[Pennsylvania]]", checkLines: false)
                == [ins(" "), eq("a"), ins("nd"), eq(" [[Pennsylvania]]"), del(" and [[New")])
    }

    @Test func mainTimeout() {
        // With a short timeout the diff gives up early; only its validity is checked here
        // (no timing assertions).
        var dmp = DiffMatchPatch()
        dmp.diffTimeout = 0.1
        var a =
            "`Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.\n"
        var b =
            "I am the very model of a modern major general,\nI've information vegetable, animal, and mineral,\nI know the kings of England, and I quote the fights historical,\nFrom Marathon to Waterloo, in order categorical.\n"
        for _ in 0..<10 {
            a += a
            b += b
        }
        let diffs = dmp.diffMain(a, b)
        let (text1, text2) = rebuildTexts(diffs)
        #expect(text1 == a)
        #expect(text2 == b)
    }

    @Test func lineMode() {
        var dmp = DiffMatchPatch()
        dmp.diffTimeout = 0
        // Simple line mode.
        var a = String(repeating: "1234567890\n", count: 13)
        var b = String(repeating: "abcdefghij\n", count: 13)
        #expect(dmp.diffMain(a, b, checkLines: false) == dmp.diffMain(a, b, checkLines: true))
        // Single line mode.
        a = String(repeating: "1234567890", count: 13)
        b = String(repeating: "abcdefghij", count: 13)
        #expect(dmp.diffMain(a, b, checkLines: false) == dmp.diffMain(a, b, checkLines: true))
        // Overlap line mode.
        a = String(repeating: "1234567890\n", count: 13)
        b =
            "abcdefghij\n1234567890\n1234567890\n1234567890\nabcdefghij\n1234567890\n1234567890\n1234567890\nabcdefghij\n1234567890\n1234567890\n1234567890\nabcdefghij\n"
        let lineTexts = rebuildTexts(dmp.diffMain(a, b, checkLines: true))
        let charTexts = rebuildTexts(dmp.diffMain(a, b, checkLines: false))
        #expect(lineTexts == charTexts)
    }

    @Test func codePointsNotUTF16() {
        // Positions count code points, like Python str indices.
        #expect(dmp.diffMain("😀a𝄞", "😀b𝄞") == [eq("😀"), del("a"), ins("b"), eq("𝄞")])
        #expect(dmp.diffToDelta(dmp.diffMain("😀a𝄞", "😀b𝄞")) == "=2\t-1\t+b\t=2")
    }
}

@Suite("diff-match-patch: match")
struct DiffMatchPatchMatchBehaviourTests {
    @Test func alphabet() {
        let dmp = DiffMatchPatch()
        #expect(dmp.matchAlphabet(cp("abc")) == [0x61: 4, 0x62: 2, 0x63: 1])
        #expect(dmp.matchAlphabet(cp("abcaba")) == [0x61: 37, 0x62: 18, 0x63: 8])
    }

    @Test func bitap() {
        var dmp = DiffMatchPatch()
        dmp.matchDistance = 100
        dmp.matchThreshold = 0.5
        // Exact matches.
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("fgh"), 5) == 5)
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("fgh"), 0) == 5)
        // Fuzzy matches.
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("efxhi"), 0) == 4)
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("cdefxyhijk"), 5) == 2)
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("bxy"), 1) == -1)
        // Overflow.
        #expect(dmp.matchBitap(cp("123456789xx0"), cp("3456789x0"), 2) == 2)
        #expect(dmp.matchBitap(cp("abcdef"), cp("xxabc"), 4) == 0)
        #expect(dmp.matchBitap(cp("abcdef"), cp("defyy"), 4) == 3)
        #expect(dmp.matchBitap(cp("abcdef"), cp("xabcdefy"), 0) == 0)
        // Threshold.
        dmp.matchThreshold = 0.4
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("efxyhi"), 1) == 4)
        dmp.matchThreshold = 0.3
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("efxyhi"), 1) == -1)
        dmp.matchThreshold = 0.0
        #expect(dmp.matchBitap(cp("abcdefghijk"), cp("bcdef"), 1) == 1)
        dmp.matchThreshold = 0.5
        // Multiple select.
        #expect(dmp.matchBitap(cp("abcdexyzabcde"), cp("abccde"), 3) == 0)
        #expect(dmp.matchBitap(cp("abcdexyzabcde"), cp("abccde"), 5) == 8)
        // Distance.
        dmp.matchDistance = 10
        #expect(dmp.matchBitap(cp("abcdefghijklmnopqrstuvwxyz"), cp("abcdefg"), 24) == -1)
        #expect(dmp.matchBitap(cp("abcdefghijklmnopqrstuvwxyz"), cp("abcdxxefg"), 1) == 0)
        dmp.matchDistance = 1000
        #expect(dmp.matchBitap(cp("abcdefghijklmnopqrstuvwxyz"), cp("abcdefg"), 24) == 0)
    }

    @Test func bitapLongPattern() {
        // Python uses big integers; patterns longer than 64 code points use several words here.
        let dmp = DiffMatchPatch()
        let body = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
        let text = cp(String(repeating: "x", count: 50) + body + String(repeating: "y", count: 50))
        let pattern = cp("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIZ")
        #expect(pattern.count == 82)
        #expect(dmp.matchMain(text, pattern, 45) == 50)
    }

    @Test func main() {
        var dmp = DiffMatchPatch()
        // Shortcut matches.
        #expect(dmp.matchMain("abcdef", "abcdef", 1000) == 0)
        #expect(dmp.matchMain("", "abcdef", 1) == -1)
        #expect(dmp.matchMain("abcdef", "", 3) == 3)
        #expect(dmp.matchMain("abcdef", "de", 3) == 3)
        #expect(dmp.matchMain("abcdef", "defy", 4) == 3)
        #expect(dmp.matchMain("abcdef", "abcdefy", 0) == 0)
        // Complex match.
        dmp.matchThreshold = 0.7
        #expect(dmp.matchMain("I am the very model of a modern major general.", " that berry ", 5) == 4)
    }
}

@Suite("diff-match-patch: patch")
struct DiffMatchPatchPatchBehaviourTests {
    let dmp = DiffMatchPatch()

    @Test func patchObject() {
        let p = Patch(
            diffs: [eq("jump"), del("s"), ins("ed"), eq(" over "), del("the"), ins("a"), eq("\nlaz")],
            start1: 20, start2: 21, length1: 18, length2: 17)
        #expect(p.description == "@@ -21,18 +22,17 @@\n jump\n-s\n+ed\n  over \n-the\n+a\n %0Alaz\n")
    }

    @Test func fromText() throws {
        #expect(try dmp.patchFromText("") == [])
        let text = "@@ -21,18 +22,17 @@\n jump\n-s\n+ed\n  over \n-the\n+a\n %0Alaz\n"
        #expect(try dmp.patchFromText(text)[0].description == text)
        #expect(try dmp.patchFromText("@@ -1 +1 @@\n-a\n+b\n")[0].description == "@@ -1 +1 @@\n-a\n+b\n")
        #expect(try dmp.patchFromText("@@ -1,3 +0,0 @@\n-abc\n")[0].description == "@@ -1,3 +0,0 @@\n-abc\n")
        #expect(try dmp.patchFromText("@@ -0,0 +1,3 @@\n+abc\n")[0].description == "@@ -0,0 +1,3 @@\n+abc\n")
        #expect(throws: PatchTextError.self) { try dmp.patchFromText("Bad\nPatch\n") }
    }

    @Test func fromTextErrorsTellWhatAndWhere() {
        do {
            _ = try dmp.patchFromText("@@ -1 +1 @@\n-a\n+b\n@@ -x +1 @@\n-c\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == .invalidHeader)
            #expect(error.lineNumber == 4)
            #expect(error.line == "@@ -x +1 @@")
            #expect(error.message.contains("@@ -x +1 @@"))
            #expect(error.message.contains("line 4"))
        }
        do {
            _ = try dmp.patchFromText("@@ -1 +1 @@\n-a\n*b\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == .invalidMode)
            #expect(error.lineNumber == 3)
            #expect(error.line == "*b")
        }
        do {
            _ = try dmp.patchFromText("@@ -99999999999999999999 +1 @@\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == .numberTooLarge)
        }
        // A header with a trailing CR or space is not a header.
        #expect(throws: PatchTextError.self) { try dmp.patchFromText("@@ -1 +1 @@\r\n-a\r\n") }
        #expect(throws: PatchTextError.self) { try dmp.patchFromText("@@ -1 +1 @@ \n-a\n") }
    }

    @Test func fromTextDecodesLikePython() throws {
        // Malformed percent sequences stay literal; invalid UTF-8 becomes U+FFFD; each ASCII
        // run is decoded separately; any Unicode decimal digits are numbers.
        func body(_ line: String) throws -> [UInt32] {
            try dmp.patchFromText("@@ -1 +1 @@\n" + line + "\n")[0].diffs[0].text
        }
        #expect(try body("+%E2%82") == [0xFFFD])
        #expect(try body("+%E2é%82%AC") == [0xFFFD, 0xE9, 0xFFFD, 0xFFFD])
        #expect(try body("+100%") == cp("100%"))
        #expect(try body("+%zz%4") == cp("%zz%4"))
        #expect(try body("+%ED%A0%80") == [0xFFFD, 0xFFFD, 0xFFFD])
        #expect(try body("+a+b%2B%c3%a9") == cp("a+b+é"))
        let patch = try dmp.patchFromText("@@ -\u{0661},\u{0662} +\u{0661} @@\n")[0]
        #expect(patch == Patch(diffs: [], start1: 0, start2: 0, length1: 2, length2: 1))
        // Blank lines are skipped.
        #expect(try dmp.patchFromText("@@ -1 +1 @@\n\n-a\n\n+b\n\n")[0].diffs == [del("a"), ins("b")])
    }

    @Test func toText() throws {
        var text = "@@ -21,18 +22,17 @@\n jump\n-s\n+ed\n  over \n-the\n+a\n  laz\n"
        #expect(dmp.patchToText(try dmp.patchFromText(text)) == text)
        text = "@@ -1,9 +1,9 @@\n-f\n+F\n oo+fooba\n@@ -7,9 +7,9 @@\n obar\n-,\n+.\n tes\n"
        #expect(dmp.patchToText(try dmp.patchFromText(text)) == text)
    }

    @Test func addContext() throws {
        var p = try dmp.patchFromText("@@ -21,4 +21,10 @@\n-jump\n+somersault\n")[0]
        dmp.patchAddContext(&p, cp("The quick brown fox jumps over the lazy dog."))
        #expect(p.description == "@@ -17,12 +17,18 @@\n fox \n-jump\n+somersault\n s ov\n")
        // Not enough trailing context.
        p = try dmp.patchFromText("@@ -21,4 +21,10 @@\n-jump\n+somersault\n")[0]
        dmp.patchAddContext(&p, cp("The quick brown fox jumps."))
        #expect(p.description == "@@ -17,10 +17,16 @@\n fox \n-jump\n+somersault\n s.\n")
        // Not enough leading context.
        p = try dmp.patchFromText("@@ -3 +3,2 @@\n-e\n+at\n")[0]
        dmp.patchAddContext(&p, cp("The quick brown fox jumps."))
        #expect(p.description == "@@ -1,7 +1,8 @@\n Th\n-e\n+at\n  qui\n")
        // Ambiguity.
        p = try dmp.patchFromText("@@ -3 +3,2 @@\n-e\n+at\n")[0]
        dmp.patchAddContext(&p, cp("The quick brown fox jumps.  The quick brown fox crashes."))
        #expect(p.description == "@@ -1,27 +1,28 @@\n Th\n-e\n+at\n  quick brown fox jumps. \n")
    }

    @Test func make() throws {
        #expect(dmp.patchToText(dmp.patchMake("", "")) == "")
        let text1 = "The quick brown fox jumps over the lazy dog."
        let text2 = "That quick brown fox jumped over a lazy dog."
        // The second patch must be "-21,17 +21,18", not "-22,17 +21,18", due to rolling context.
        var expected =
            "@@ -1,8 +1,7 @@\n Th\n-at\n+e\n  qui\n@@ -21,17 +21,18 @@\n jump\n-ed\n+s\n  over \n-a\n+the\n  laz\n"
        #expect(dmp.patchToText(dmp.patchMake(text2, text1)) == expected)
        expected =
            "@@ -1,11 +1,12 @@\n Th\n-e\n+at\n  quick b\n@@ -22,18 +22,17 @@\n jump\n-s\n+ed\n  over \n-the\n+a\n  laz\n"
        #expect(dmp.patchToText(dmp.patchMake(text1, text2)) == expected)
        let diffs = dmp.diffMain(text1, text2, checkLines: false)
        #expect(dmp.patchToText(dmp.patchMake(diffs: diffs)) == expected)
        #expect(dmp.patchToText(dmp.patchMake(text1, diffs: diffs)) == expected)

        // Character encoding.
        let patches = dmp.patchMake("`1234567890-=[]\\;',./", "~!@#$%^&*()_+{}|:\"<>?")
        #expect(
            dmp.patchToText(patches)
                == "@@ -1,21 +1,21 @@\n-%601234567890-=%5B%5D%5C;',./\n+~!@#$%25%5E&*()_+%7B%7D%7C:%22%3C%3E?\n")
        // Character decoding.
        #expect(
            try dmp.patchFromText(
                "@@ -1,21 +1,21 @@\n-%601234567890-=%5B%5D%5C;',./\n+~!@#$%25%5E&*()_+%7B%7D%7C:%22%3C%3E?\n"
            )[0].diffs == [del("`1234567890-=[]\\;',./"), ins("~!@#$%^&*()_+{}|:\"<>?")])

        // Long string with repeats.
        let long = String(repeating: "abcdef", count: 100)
        #expect(
            dmp.patchToText(dmp.patchMake(long, long + "123"))
                == "@@ -573,28 +573,31 @@\n cdefabcdefabcdefabcdefabcdef\n+123\n")

        // Non-ASCII text is percent-encoded as UTF-8, positions are code points.
        #expect(
            dmp.patchToText(dmp.patchMake("😀𝄞 e\u{301} 100% a+b #?&", "😀𝄞 é 100% a+b #?& x"))
                == "@@ -1,9 +1,8 @@\n %F0%9F%98%80%F0%9D%84%9E \n-e%CC%81\n+%C3%A9\n  100\n@@ -10,8 +10,10 @@\n  a+b #?&\n+ x\n"
        )
    }

    @Test func splitMax() {
        var patches = dmp.patchMake(
            "abcdefghijklmnopqrstuvwxyz01234567890", "XabXcdXefXghXijXklXmnXopXqrXstXuvXwxXyzX01X23X45X67X89X0")
        dmp.patchSplitMax(&patches)
        #expect(
            dmp.patchToText(patches)
                == "@@ -1,32 +1,46 @@\n+X\n ab\n+X\n cd\n+X\n ef\n+X\n gh\n+X\n ij\n+X\n kl\n+X\n mn\n+X\n op\n+X\n qr\n+X\n st\n+X\n uv\n+X\n wx\n+X\n yz\n+X\n 012345\n@@ -25,13 +39,18 @@\n zX01\n+X\n 23\n+X\n 45\n+X\n 67\n+X\n 89\n+X\n 0\n"
        )

        patches = dmp.patchMake(
            "abcdef1234567890123456789012345678901234567890123456789012345678901234567890uvwxyz", "abcdefuvwxyz")
        let oldText = dmp.patchToText(patches)
        dmp.patchSplitMax(&patches)
        #expect(dmp.patchToText(patches) == oldText)

        patches = dmp.patchMake("1234567890123456789012345678901234567890123456789012345678901234567890", "abc")
        dmp.patchSplitMax(&patches)
        #expect(
            dmp.patchToText(patches)
                == "@@ -1,32 +1,4 @@\n-1234567890123456789012345678\n 9012\n@@ -29,32 +1,4 @@\n-9012345678901234567890123456\n 7890\n@@ -57,14 +1,3 @@\n-78901234567890\n+abc\n"
        )

        patches = dmp.patchMake(
            "abcdefghij , h : 0 , t : 1 abcdefghij , h : 0 , t : 1 abcdefghij , h : 0 , t : 1",
            "abcdefghij , h : 1 , t : 1 abcdefghij , h : 1 , t : 1 abcdefghij , h : 0 , t : 1")
        dmp.patchSplitMax(&patches)
        #expect(
            dmp.patchToText(patches)
                == "@@ -2,32 +2,32 @@\n bcdefghij , h : \n-0\n+1\n  , t : 1 abcdef\n@@ -29,32 +29,32 @@\n bcdefghij , h : \n-0\n+1\n  , t : 1 abcdef\n"
        )
    }

    @Test func splitMaxKeepsPythonLoopQuirk() throws {
        // Python iterates over the original number of positions: the second long patch is
        // pushed out of that range by the pieces of the first and stays unsplit.
        var patches = try dmp.patchFromText(
            "@@ -1,40 +1,40 @@\n-abcdefghijklmnopqrstuvwxyz0123456789ABCD\n+ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn\n"
                + "@@ -101,40 +101,40 @@\n-abcdefghijklmnopqrstuvwxyz0123456789ABCD\n+ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn\n"
        )
        dmp.patchSplitMax(&patches)
        #expect(
            dmp.patchToText(patches)
                == "@@ -1,32 +1,4 @@\n-abcdefghijklmnopqrstuvwxyz01\n 2345\n@@ -29,12 +1,40 @@\n-23456789ABCD\n+ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn\n"
                + "@@ -101,40 +101,40 @@\n-abcdefghijklmnopqrstuvwxyz0123456789ABCD\n+ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn\n"
        )
    }

    @Test func addPadding() {
        // Both edges full.
        var patches = dmp.patchMake("", "test")
        #expect(dmp.patchToText(patches) == "@@ -0,0 +1,4 @@\n+test\n")
        dmp.patchAddPadding(&patches)
        #expect(dmp.patchToText(patches) == "@@ -1,8 +1,12 @@\n %01%02%03%04\n+test\n %01%02%03%04\n")
        // Both edges partial.
        patches = dmp.patchMake("XY", "XtestY")
        #expect(dmp.patchToText(patches) == "@@ -1,2 +1,6 @@\n X\n+test\n Y\n")
        dmp.patchAddPadding(&patches)
        #expect(dmp.patchToText(patches) == "@@ -2,8 +2,12 @@\n %02%03%04X\n+test\n Y%01%02%03\n")
        // Both edges none.
        patches = dmp.patchMake("XXXXYYYY", "XXXXtestYYYY")
        #expect(dmp.patchToText(patches) == "@@ -1,8 +1,12 @@\n XXXX\n+test\n YYYY\n")
        dmp.patchAddPadding(&patches)
        #expect(dmp.patchToText(patches) == "@@ -5,8 +5,12 @@\n XXXX\n+test\n YYYY\n")
    }

    @Test func apply() {
        var dmp = DiffMatchPatch()
        dmp.matchDistance = 1000
        dmp.matchThreshold = 0.5
        dmp.patchDeleteThreshold = 0.5
        // Null case.
        var patches = dmp.patchMake("", "")
        var result = dmp.patchApply(patches, to: "Hello world.")
        #expect(result.text == "Hello world." && result.applied == [])
        // Exact match.
        patches = dmp.patchMake(
            "The quick brown fox jumps over the lazy dog.", "That quick brown fox jumped over a lazy dog.")
        result = dmp.patchApply(patches, to: "The quick brown fox jumps over the lazy dog.")
        #expect(result.text == "That quick brown fox jumped over a lazy dog." && result.applied == [true, true])
        // Partial match.
        result = dmp.patchApply(patches, to: "The quick red rabbit jumps over the tired tiger.")
        #expect(result.text == "That quick red rabbit jumped over a tired tiger." && result.applied == [true, true])
        // Failed match.
        result = dmp.patchApply(patches, to: "I am the very model of a modern major general.")
        #expect(result.text == "I am the very model of a modern major general." && result.applied == [false, false])
        // Big delete, small change.
        patches = dmp.patchMake("x1234567890123456789012345678901234567890123456789012345678901234567890y", "xabcy")
        result = dmp.patchApply(
            patches, to: "x123456789012345678901234567890-----++++++++++-----123456789012345678901234567890y")
        #expect(result.text == "xabcy" && result.applied == [true, true])
        // Big delete, big change 1.
        result = dmp.patchApply(
            patches, to: "x12345678901234567890---------------++++++++++---------------12345678901234567890y")
        #expect(
            result.text == "xabc12345678901234567890---------------++++++++++---------------12345678901234567890y"
                && result.applied == [false, true])
        // Big delete, big change 2.
        dmp.patchDeleteThreshold = 0.6
        patches = dmp.patchMake("x1234567890123456789012345678901234567890123456789012345678901234567890y", "xabcy")
        result = dmp.patchApply(
            patches, to: "x12345678901234567890---------------++++++++++---------------12345678901234567890y")
        #expect(result.text == "xabcy" && result.applied == [true, true])
        dmp.patchDeleteThreshold = 0.5
        // Compensate for failed patch.
        dmp.matchThreshold = 0.0
        dmp.matchDistance = 0
        patches = dmp.patchMake(
            "abcdefghijklmnopqrstuvwxyz--------------------1234567890",
            "abcXXXXXXXXXXdefghijklmnopqrstuvwxyz--------------------1234567YYYYYYYYYY890")
        result = dmp.patchApply(patches, to: "ABCDEFGHIJKLMNOPQRSTUVWXYZ--------------------1234567890")
        #expect(
            result.text == "ABCDEFGHIJKLMNOPQRSTUVWXYZ--------------------1234567YYYYYYYYYY890"
                && result.applied == [false, true])
        dmp.matchThreshold = 0.5
        dmp.matchDistance = 1000
        // No side effects (patches are values, but check the text form anyway).
        patches = dmp.patchMake("", "test")
        var text = dmp.patchToText(patches)
        _ = dmp.patchApply(patches, to: "")
        #expect(dmp.patchToText(patches) == text)
        patches = dmp.patchMake("The quick brown fox jumps over the lazy dog.", "Woof")
        text = dmp.patchToText(patches)
        _ = dmp.patchApply(patches, to: "The quick brown fox jumps over the lazy dog.")
        #expect(dmp.patchToText(patches) == text)
        // Edge exact match.
        patches = dmp.patchMake("", "test")
        result = dmp.patchApply(patches, to: "")
        #expect(result.text == "test" && result.applied == [true])
        // Near edge exact match.
        patches = dmp.patchMake("XY", "XtestY")
        result = dmp.patchApply(patches, to: "XY")
        #expect(result.text == "XtestY" && result.applied == [true])
        // Edge partial match.
        patches = dmp.patchMake("y", "y123")
        result = dmp.patchApply(patches, to: "x")
        #expect(result.text == "x123" && result.applied == [true])
    }

    @Test func applyKeepsPythonQuirks() {
        // Texts containing the padding characters.
        let patches = dmp.patchMake("\u{1}\u{2}ab", "\u{1}\u{2}ac")
        let result = dmp.patchApply(patches, to: "\u{1}\u{2}ab")
        #expect(result.text == "\u{1}\u{2}ac" && result.applied == [true])
        // Python strips the padding with text[m:-m], which is empty for a margin of 0.
        var zero = DiffMatchPatch()
        zero.patchMargin = 0
        let zeroResult = zero.patchApply(dmp.patchMake("abc", "abd"), to: "abc")
        #expect(zeroResult.text == "" && zeroResult.applied == [true])
    }
}
