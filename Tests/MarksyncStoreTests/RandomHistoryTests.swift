import Foundation
import MarksyncCore
import Testing

@testable import MarksyncStore

/// Random edit histories: replay, diff and blame agree with a reference the test keeps by itself.
struct RandomHistoryTests {
    /// The test's own model of a document: blocks as lines, with the seq that last changed each line.
    struct RefBlock: Equatable {
        var id: String
        var lines: [String]
        var seqs: [Int]
        var content: String { lines.joined(separator: "\n") }
    }

    struct RefDoc: Equatable {
        var blocks: [RefBlock] = []
        var prose: [String] = [""]
    }

    /// Length-only LCS table of two line lists (the reference for blame and diff size).
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

    /// New line versions after a change: matched lines keep theirs, the others get `seq`.
    static func carry(_ old: RefBlock, to newLines: [String], seq: Int) -> [Int] {
        var seqs = [Int](repeating: seq, count: newLines.count)
        for (i, j) in lcsPairs(old.lines, newLines) { seqs[j] = old.seqs[i] }
        return seqs
    }

    /// Applies a unified diff to a text (the test's own reader of the format).
    static func applyUnified(_ diff: String, to old: String) -> String {
        if diff.isEmpty { return old }
        var source = old.isEmpty ? [] : old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lines = diff.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var output = [String]()
        var position = 0
        var index = 2  // skip --- and +++
        while index < lines.count {
            let header = lines[index]
            let range = header.dropFirst(4).prefix { $0 != " " }.split(separator: ",")
            let oldStart = Int(range[0])!
            let oldCount = range.count > 1 ? Int(range[1])! : 1
            let from = oldCount == 0 ? oldStart : oldStart - 1
            output += source[position..<from]
            position = from
            index += 1
            while index < lines.count, !lines[index].hasPrefix("@@") {
                let line = lines[index]
                let text = String(line.dropFirst())
                switch line.first {
                case "\\": break  // "\ No newline at end of file"
                case " ":
                    output.append(text)
                    position += 1
                case "-": position += 1
                default: output.append(text)
                }
                index += 1
            }
        }
        output += source[position...]
        source = output
        return source.joined(separator: "\n")
    }

    @Test(arguments: StoreBackend.allCases) func replayDiffAndBlameMatchTheReference(backend: StoreBackend) async throws {
        var options = EventLog.Options()
        options.checkpointEvents = 97  // many checkpoints, so reads start from one
        let (log, _) = try await temporaryLog(options, on: backend)
        try await log.createDocument("doc")
        var random = SplitMix64(seed: 20_261_126)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(max(n, 1))) }
        let words = ["alpha", "beta", "gamma", "delta", "😀 emoji", "𝄞 clef", "héllo", "naïve", "tab\there", "x = 1", "print(y)"]
        var counter = 0
        func uniqueLine() -> String {
            counter += 1
            return "L\(counter) \(words[pick(words.count)]) \(words[pick(words.count)])"
        }

        var reference = RefDoc()
        var snapshots = [RefDoc()]  // snapshots[seq]
        var requests = [WriteRequest]()
        let dmp = DiffMatchPatch()
        var nextBlock = 0
        let total = 2_400

        for _ in 0..<total {
            let seq = snapshots.count
            let roll = pick(100)
            if reference.blocks.isEmpty || roll < 8 {
                nextBlock += 1
                let lines = (0..<(1 + pick(5))).map { _ in uniqueLine() }
                let index = pick(reference.blocks.count + 1)
                let id = "markpact:file=f\(nextBlock).py"
                reference.blocks.insert(RefBlock(id: id, lines: lines, seqs: Array(repeating: seq, count: lines.count)), at: index)
                reference.prose.insert("\n\nprose \(seq)\n\n", at: index + 1)
                requests.append(
                    WriteRequest(
                        document: "doc", author: "a\(pick(4))",
                        change: .event(
                            .blockCreated(
                                BlockCreated(
                                    blockID: id, index: index, header: BlockHeader(derivedFrom: id)!, content: lines.joined(separator: "\n"),
                                    proseAfter: "\n\nprose \(seq)\n\n")))))
            } else if roll < 11, reference.blocks.count > 2 {
                let index = pick(reference.blocks.count)
                let id = reference.blocks[index].id
                reference.blocks.remove(at: index)
                // The log's join rule: drop the closing fence's newline and one duplicate blank line.
                var after = reference.prose[index + 1]
                if after.hasPrefix("\n") { after.removeFirst() }
                if reference.prose[index].hasSuffix("\n\n"), after.hasPrefix("\n") { after.removeFirst() }
                reference.prose[index] += after
                reference.prose.remove(at: index + 1)
                requests.append(WriteRequest(document: "doc", author: "a\(pick(4))", change: .delete(blockID: id)))
            } else if roll < 16 {
                let index = pick(reference.prose.count)
                reference.prose[index] = "\n\nedited prose \(seq) \(words[pick(words.count)])\n\n"
                requests.append(
                    WriteRequest(document: "doc", author: "p", change: .event(.proseEdited(index: index, text: reference.prose[index]))))
            } else {
                let index = pick(reference.blocks.count)
                let old = reference.blocks[index]
                var lines = old.lines
                switch pick(4) {
                case 0 where !lines.isEmpty:
                    let at = pick(lines.count)
                    lines[at] = lines[at].split(separator: " ").first.map(String.init)! + " " + words[pick(words.count)] + " edited\(seq)"
                case 1:
                    let at = pick(lines.count + 1)
                    lines.insert(contentsOf: (0..<(1 + pick(3))).map { _ in uniqueLine() }, at: at)
                case 2 where lines.count > 1:
                    let at = pick(lines.count)
                    lines.removeSubrange(at..<min(lines.count, at + 1 + pick(2)))
                default:
                    if lines.count >= 4 {
                        // Move one line across at least two others.
                        let from = pick(lines.count)
                        let line = lines.remove(at: from)
                        var to = pick(lines.count + 1)
                        if abs(to - from) < 2 { to = from >= 2 ? from - 2 : min(lines.count, from + 2) }
                        lines.insert(line, at: to)
                    } else {
                        lines.append(uniqueLine())
                    }
                }
                let newContent = lines.joined(separator: "\n")
                reference.blocks[index].seqs = Self.carry(old, to: lines, seq: seq)
                reference.blocks[index].lines = lines
                let author = "w\(pick(5))"
                if pick(2) == 0 {
                    let patch = dmp.patchToText(dmp.patchMake(old.content, newContent))
                    requests.append(
                        WriteRequest(
                            document: "doc", author: author,
                            change: .patch(blockID: old.id, patch: patch, expectedSHA256: SHA256.hexDigest(of: newContent))))
                } else {
                    requests.append(WriteRequest(document: "doc", author: author, change: .full(blockID: old.id, content: newContent)))
                }
            }
            snapshots.append(reference)
        }

        // Append in batches; every request must be stored, in order.
        var start = 0
        while start < requests.count {
            let outcomes = try await log.append(Array(requests[start..<min(start + 200, requests.count)]))
            for (offset, outcome) in outcomes.enumerated() {
                #expect(outcome.event?.seq == start + offset + 1, "request \(start + offset + 1): \(outcome)")
            }
            start += 200
        }
        #expect(try await log.headSeq("doc") == total)

        // Random seqs: the state, diff and blame agree with the reference.
        for _ in 0..<40 {
            let n = pick(total) + 1
            let state = try await log.state("doc", at: n)
            let expected = snapshots[n]
            #expect(state.blocks.map(\.id) == expected.blocks.map(\.id), "block order at \(n)")
            #expect(state.blocks.map(\.content) == expected.blocks.map(\.content), "contents at \(n)")
            #expect(state.prose == expected.prose, "prose at \(n)")
            for block in expected.blocks.shuffled(using: &random).prefix(6) {
                let blame = try await log.blame("doc", block: block.id, at: n)
                #expect(blame.map(\.seq) == block.seqs, "blame of \(block.id) at \(n)")
                #expect(blame.map(\.text) == block.lines, "blame text of \(block.id) at \(n)")
            }
            let m = pick(total) + 1
            let (a, b) = (min(n, m), max(n, m))
            for block in snapshots[b].blocks.shuffled(using: &random).prefix(3) {
                let before = snapshots[a].blocks.first { $0.id == block.id }
                let diff = try await log.diff("doc", from: a, to: b, block: block.id)
                #expect(Self.applyUnified(diff, to: before?.content ?? "") == block.content, "diff of \(block.id) \(a)→\(b)")
                // diff compares lines with their newline: every line has one but the last.
                func marked(_ lines: [String]) -> [String] { lines.enumerated().map { $0.offset == lines.count - 1 ? $0.element + "⊘" : $0.element } }
                let oldLines = marked(before?.lines ?? [])
                let common = Self.lcsPairs(oldLines, marked(block.lines)).count
                let removed = diff.split(separator: "\n").filter { $0.hasPrefix("-") && !$0.hasPrefix("---") }.count
                let added = diff.split(separator: "\n").filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }.count
                if before != nil {
                    #expect(removed == oldLines.count - common && added == block.lines.count - common, "diff is minimal")
                }
            }
        }
        let report = try await log.verify()

        #expect(report.isClean, "\(report.problems)")
        #expect(report.events == total)
    }
}
