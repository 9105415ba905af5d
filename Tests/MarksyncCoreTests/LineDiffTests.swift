import Foundation
import Testing

@testable import MarksyncCore

struct LineDiffTests {
    /// The length of a longest common subsequence (simple dynamic programming).
    static func lcsLength(_ a: [Int], _ b: [Int]) -> Int {
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        return table[0][0]
    }

    @Test func editScriptIsMinimalAndRebuildsTheNewText() {
        var random = SplitMix64(seed: 42)
        for round in 0..<3000 {
            let a = (0..<Int(random.next() % 12)).map { _ in Int(random.next() % 5) }
            let b = (0..<Int(random.next() % 12)).map { _ in Int(random.next() % 5) }
            let ops = LineDiff.diff(a, b)
            var rebuilt = [Int]()
            var equal = 0
            var oldCursor = 0
            var newCursor = 0
            for op in ops {
                switch op {
                case .equal(let o, let n, let c):
                    #expect(o == oldCursor && n == newCursor, "round \(round)")
                    #expect(Array(a[o..<(o + c)]) == Array(b[n..<(n + c)]), "round \(round)")
                    rebuilt += b[n..<(n + c)]
                    equal += c
                    oldCursor += c
                    newCursor += c
                case .delete(let o, let c):
                    #expect(o == oldCursor, "round \(round)")
                    oldCursor += c
                case .insert(let n, let c):
                    #expect(n == newCursor, "round \(round)")
                    rebuilt += b[n..<(n + c)]
                    newCursor += c
                }
            }
            #expect(rebuilt == b, "round \(round): \(a) → \(b): \(ops)")
            #expect(oldCursor == a.count && newCursor == b.count, "round \(round)")
            #expect(equal == Self.lcsLength(a, b), "round \(round): \(a) → \(b) not minimal: \(ops)")
            if rebuilt != b || equal != Self.lcsLength(a, b) { return }
        }
    }

    /// Cases where the alignment is unique, so GNU diff must print the same hunks.
    @Test(arguments: [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("", "new\nfile\n"),
        ("gone\n", ""),
        ("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n"),
        ("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\nx\n4\n5\n6\n7\n8\n"),
        ("no newline", "no newline at all"),
        ("last\nline", "last\nline\n"),
        ("héllo 😀\nb\n", "héllo 😀!\nb\n"),
    ])
    func unifiedDiffMatchesGNUDiff(_ old: String, _ new: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("udiff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(old.utf8).write(to: folder.appendingPathComponent("old"))
        try Data(new.utf8).write(to: folder.appendingPathComponent("new"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/diff")
        process.arguments = ["-u", folder.appendingPathComponent("old").path, folder.appendingPathComponent("new").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let gnuHunks = output.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).joined(separator: "\n")
        let ours = UnifiedDiff.make(old: old, new: new, oldName: "a", newName: "b")
        let ourHunks = ours.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).joined(separator: "\n")
        #expect(ourHunks == gnuHunks)
        #expect(UnifiedDiff.make(old: old, new: old, oldName: "a", newName: "b") == "")
    }
}
