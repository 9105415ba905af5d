/// A line-level diff (Myers' O(ND) algorithm after trimming the common prefix and suffix).
public enum LineDiff {
    /// One run of the edit script.
    public enum Operation: Sendable, Equatable {
        /// `count` lines equal in both, starting at `old` and `new`.
        case equal(old: Int, new: Int, count: Int)
        /// `count` lines of the old text removed, starting at `old`.
        case delete(old: Int, count: Int)
        /// `count` lines of the new text added, starting at `new`.
        case insert(new: Int, count: Int)
    }

    /// Splits a text into lines without their `\n` (a final newline gives a final empty line).
    public static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The edit script from `old` to `new`.
    public static func diff<Line: Hashable>(_ old: [Line], _ new: [Line]) -> [Operation] {
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] {
            suffix += 1
        }
        var ops = [Operation]()
        if prefix > 0 { ops.append(.equal(old: 0, new: 0, count: prefix)) }
        let a = Array(old[prefix..<(old.count - suffix)])
        let b = Array(new[prefix..<(new.count - suffix)])
        for op in myers(a, b) {
            switch op {
            case .equal(let o, let n, let c): ops.append(.equal(old: o + prefix, new: n + prefix, count: c))
            case .delete(let o, let c): ops.append(.delete(old: o + prefix, count: c))
            case .insert(let n, let c): ops.append(.insert(new: n + prefix, count: c))
            }
        }
        if suffix > 0 { ops.append(.equal(old: old.count - suffix, new: new.count - suffix, count: suffix)) }
        return ops
    }

    /// Myers' greedy algorithm with a trace for backtracking; deletions come before insertions in a run.
    static func myers<Line: Hashable>(_ a: [Line], _ b: [Line]) -> [Operation] {
        let n = a.count
        let m = b.count
        if n == 0 { return m == 0 ? [] : [.insert(new: 0, count: m)] }
        if m == 0 { return [.delete(old: 0, count: n)] }
        // Map lines to integers so comparisons are cheap.
        var ids = [Line: Int]()
        let ai = a.map { line in ids[line] ?? { let id = ids.count; ids[line] = id; return id }() }
        let bi = b.map { line in ids[line] ?? { let id = ids.count; ids[line] = id; return id }() }
        let max = n + m
        let offset = max
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace = [[Int]]()
        var found = false
        for d in 0...max {
            trace.append(v)
            var k = -d
            while k <= d {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n, y < m, ai[x] == bi[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n, y >= m {
                    found = true
                    break
                }
                k += 2
            }
            if found { break }
        }
        // Backtrack into single-line steps, then merge runs.
        var steps = [(kind: Int, old: Int, new: Int)]()  // 0 equal, 1 delete, 2 insert
        var x = n
        var y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let vd = trace[d]
            let k = x - y
            let previousK: Int
            if k == -d || (k != d && vd[offset + k - 1] < vd[offset + k + 1]) {
                previousK = k + 1
            } else {
                previousK = k - 1
            }
            let previousX = vd[offset + previousK]
            let previousY = previousX - previousK
            while x > previousX, y > previousY {
                x -= 1
                y -= 1
                steps.append((0, x, y))
            }
            if d > 0 {
                if x == previousX {
                    y -= 1
                    steps.append((2, x, y))
                } else {
                    x -= 1
                    steps.append((1, x, y))
                }
            }
        }
        steps.reverse()
        var ops = [Operation]()
        for step in steps {
            switch (step.kind, ops.last) {
            case (0, .equal(let o, let nn, let c)?) where o + c == step.old && nn + c == step.new:
                ops[ops.count - 1] = .equal(old: o, new: nn, count: c + 1)
            case (0, _):
                ops.append(.equal(old: step.old, new: step.new, count: 1))
            case (1, .delete(let o, let c)?) where o + c == step.old:
                ops[ops.count - 1] = .delete(old: o, count: c + 1)
            case (1, _):
                ops.append(.delete(old: step.old, count: 1))
            case (_, .insert(let nn, let c)?) where nn + c == step.new:
                ops[ops.count - 1] = .insert(new: nn, count: c + 1)
            default:
                ops.append(.insert(new: step.new, count: 1))
            }
        }
        return ops
    }
}

/// Unified diff text (`diff -u` style) between two texts.
public enum UnifiedDiff {
    /// A line with whether a newline ends it (only the last line of a text may lack one).
    struct Line: Hashable {
        var text: Substring
        var terminated: Bool
    }

    /// The lines of a text as `diff` sees them: an empty text has none.
    static func lines(_ text: String) -> [Line] {
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        let terminated = parts.last == ""
        if terminated { parts.removeLast() }
        return parts.enumerated().map { Line(text: $0.element, terminated: terminated || $0.offset < parts.count - 1) }
    }

    /// The unified diff of `old` and `new`, or "" when they are equal.
    /// - Parameters:
    ///   - oldName: the name on the `---` line.
    ///   - newName: the name on the `+++` line.
    ///   - context: lines of context around each change.
    public static func make(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        if old == new { return "" }
        let a = lines(old)
        let b = lines(new)
        // Line-level operations, one per line: (op, oldIndex, newIndex).
        var rows = [(op: Character, old: Int, new: Int)]()
        for op in LineDiff.diff(a, b) {
            switch op {
            case .equal(let o, let n, let c): for i in 0..<c { rows.append((" ", o + i, n + i)) }
            case .delete(let o, let c): for i in 0..<c { rows.append(("-", o + i, -1)) }
            case .insert(let n, let c): for i in 0..<c { rows.append(("+", -1, n + i)) }
            }
        }
        var out = "--- \(oldName)\n+++ \(newName)\n"
        var index = 0
        while index < rows.count {
            guard rows[index].op != " " else {
                index += 1
                continue
            }
            // A hunk: `context` lines before the first change to `context` lines after the last change
            // that is within 2 * context lines of the previous one.
            let start = max(0, index - context)
            var end = index
            var probe = index
            while probe < rows.count {
                if rows[probe].op != " " {
                    end = probe
                    probe += 1
                    continue
                }
                if probe - end > 2 * context { break }
                probe += 1
            }
            let stop = min(rows.count, end + context + 1)
            let hunk = rows[start..<stop]
            let oldCount = hunk.filter { $0.op != "+" }.count
            let newCount = hunk.filter { $0.op != "-" }.count
            let oldBefore = rows[..<start].filter { $0.op != "+" }.count
            let newBefore = rows[..<start].filter { $0.op != "-" }.count
            out += "@@ -\(range(oldBefore, oldCount)) +\(range(newBefore, newCount)) @@\n"
            for row in hunk {
                let line = row.op == "+" ? b[row.new] : a[row.old]
                out += "\(row.op)\(line.text)\n"
                if !line.terminated { out += "\\ No newline at end of file\n" }
            }
            index = stop
        }
        return out
    }

    /// `start,count` as diff writes it: 1-based start, `start` alone for one line, `start-1,0` for none.
    private static func range(_ before: Int, _ count: Int) -> String {
        switch count {
        case 0: "\(before),0"
        case 1: "\(before + 1)"
        default: "\(before + 1),\(count)"
        }
    }
}
