/// Merges two edits of the same base text when they touch different parts of it.
///
/// Both sides are diffed against the base (diff-match-patch, code points); each side becomes a list of
/// replacements in base coordinates. When no replacement of one side overlaps one of the other (two
/// insertions at the same place count as overlapping), all are applied to the base; otherwise the merge
/// reports a conflict. No fuzzy matching is involved, so a concurrent change is never overwritten.
public enum ThreeWayMerge {
    struct Replacement {
        var start: Int
        var end: Int
        var text: [UInt32]
    }

    /// The merged text, or nil when the two edits overlap.
    public static func merge(base: String, ours: String, theirs: String) -> String? {
        if ours == theirs { return ours }
        if ours == base { return theirs }
        if theirs == base { return ours }
        let baseScalars = DMPCodePoints.from(base)
        let mine = replacements(from: baseScalars, to: DMPCodePoints.from(ours))
        let other = replacements(from: baseScalars, to: DMPCodePoints.from(theirs))
        for a in mine {
            for b in other where overlaps(a, b) { return nil }
        }
        var all = (mine + other).sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        var result = [UInt32]()
        result.reserveCapacity(baseScalars.count)
        var position = 0
        for replacement in all {
            result.append(contentsOf: baseScalars[position..<replacement.start])
            result.append(contentsOf: replacement.text)
            position = replacement.end
        }
        result.append(contentsOf: baseScalars[position...])
        all.removeAll()
        return DMPCodePoints.string(result)
    }

    static func overlaps(_ a: Replacement, _ b: Replacement) -> Bool {
        if a.start == a.end && b.start == b.end { return a.start == b.start }  // two insertions at one place
        if a.start == a.end { return a.start > b.start && a.start < b.end }  // insertion inside a replaced range
        if b.start == b.end { return b.start > a.start && b.start < a.end }
        return max(a.start, b.start) < min(a.end, b.end)
    }

    static func replacements(from base: [UInt32], to changed: [UInt32]) -> [Replacement] {
        let diffs = DiffMatchPatch().diffMain(base, changed)
        var out = [Replacement]()
        var position = 0
        var current: Replacement?
        for diff in diffs {
            switch diff.operation {
            case .equal:
                if let pending = current { out.append(pending) }
                current = nil
                position += diff.text.count
            case .delete:
                if current == nil { current = Replacement(start: position, end: position, text: []) }
                position += diff.text.count
                current!.end = position
            case .insert:
                if current == nil { current = Replacement(start: position, end: position, text: []) }
                current!.text.append(contentsOf: diff.text)
            }
        }
        if let pending = current { out.append(pending) }
        return out
    }
}
