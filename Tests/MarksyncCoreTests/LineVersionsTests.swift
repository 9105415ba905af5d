import Testing

@testable import MarksyncCore

struct LineVersionsTests {
    static func lcsPairs(_ a: [String], _ b: [String]) -> [(Int, Int)] {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var pairs = [(Int, Int)]()
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            if a[i] == b[j] {
                pairs.append((i, j))
                i += 1
                j += 1
            } else if table[i + 1][j] >= table[i][j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
        return pairs
    }

    /// Line edits of unique lines through patches and replacements: versions equal an LCS carry-over.
    @Test(arguments: [true, false])
    func versionsFollowLineChanges(viaPatches: Bool) throws {
        var random = SplitMix64(seed: viaPatches ? 1 : 2)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(max(n, 1))) }
        var counter = 0
        func line() -> String {
            counter += 1
            return "L\(counter) \(["a", "bb", "ccc", "😀"][pick(4)])"
        }
        let dmp = DiffMatchPatch()
        var lines = (0..<6).map { _ in line() }
        var seqs = Array(repeating: 1, count: lines.count)
        var state = DocumentState()
        try state.apply(
            .blockCreated(
                BlockCreated(
                    blockID: "markpact:file=a", index: 0, header: BlockHeader(derivedFrom: "markpact:file=a")!,
                    content: lines.joined(separator: "\n"), proseAfter: "\n")), seq: 1)
        // The same events applied the way a replay applies stored events.
        var replayed = state
        for seq in 2..<800 {
            var next = lines
            switch pick(4) {
            case 0 where !next.isEmpty:
                let at = pick(next.count)
                next[at] = next[at].split(separator: " ")[0] + " edit\(seq)"
            case 1: next.insert(contentsOf: (0..<(1 + pick(2))).map { _ in line() }, at: pick(next.count + 1))
            case 2 where next.count > 1: next.remove(at: pick(next.count))
            default:
                if next.count >= 4 {
                    let from = pick(next.count)
                    let moved = next.remove(at: from)
                    var to = pick(next.count + 1)
                    if abs(to - from) < 2 { to = from >= 2 ? from - 2 : min(next.count, from + 2) }
                    next.insert(moved, at: to)
                } else {
                    next.append(line())
                }
            }
            var expected = Array(repeating: seq, count: next.count)
            for (i, j) in Self.lcsPairs(lines, next) { expected[j] = seqs[i] }
            let old = lines.joined(separator: "\n")
            let new = next.joined(separator: "\n")
            if viaPatches {
                let body = try state.applyPatch(
                    blockID: "markpact:file=a", patchText: dmp.patchToText(dmp.patchMake(old, new)), expectedSHA256: nil, seq: seq)
                try replayed.apply(body, seq: seq)
            } else {
                try state.apply(.blockReplaced(blockID: "markpact:file=a", content: new), seq: seq)
                replayed = state
            }
            #expect(replayed.block("markpact:file=a")?.lines.versions == expected, "replayed, seq \(seq): \(old.debugDescription) → \(new.debugDescription)")
            let block = try #require(state.block("markpact:file=a"))
            #expect(block.content == new)
            #expect(block.lines.versions == expected, "seq \(seq): \(old.debugDescription) → \(new.debugDescription)")
            if block.lines.versions != expected { return }
            lines = next
            seqs = expected
        }
    }
}
