/// Which event last changed each line of a block: the blame projection, kept up to date as events apply.
///
/// Lines are what `\n` separates (a block "a\nb\n" has the lines "a", "b" and a final empty one). A change
/// is turned into line operations the way `git blame` sees them: the lines around the changed range are
/// diffed (``LineDiff``), unchanged lines keep their version, new or modified lines get the event's seq.
/// A cursor remembers the line of the last change, so a run of nearby edits (typing) costs O(edit), not
/// O(block).
public struct LineVersions: Sendable {
    /// The seq of the event that last changed each line.
    public private(set) var versions: [Int]
    private var cursorOffset = 0
    private var cursorLine = 0

    static let newline: UInt32 = 0x0A

    /// Every line of `text` at version `seq`.
    public init(text: some ScalarText, seq: Int) {
        var lines = 1
        for index in 0..<text.count where text[index] == Self.newline { lines += 1 }
        versions = Array(repeating: seq, count: lines)
    }

    /// Versions as stored in a checkpoint.
    init(versions: [Int]) { self.versions = versions }

    /// The line containing `offset` of `text`.
    mutating func line(of offset: Int, in text: some ScalarText) -> Int {
        // A cursor or offset outside the text (splices that did not keep to it) restarts from the top.
        let offset = min(max(offset, 0), text.count)
        if cursorOffset < 0 || cursorOffset > text.count {
            cursorOffset = 0
            cursorLine = 0
        }
        if offset >= cursorOffset {
            var count = 0
            for index in cursorOffset..<offset where text[index] == Self.newline { count += 1 }
            cursorLine += count
        } else {
            var count = 0
            for index in offset..<cursorOffset where text[index] == Self.newline { count += 1 }
            cursorLine -= count
        }
        cursorOffset = offset
        return cursorLine
    }

    /// A recorder for the splices of one event, starting from this block's line cursor.
    public func splices(margin: Int) -> LineSplices {
        LineSplices(margin: margin, cursorOffset: cursorOffset, cursorLine: cursorLine)
    }

    /// Updates the versions after one event changed the text, given the splices it made (recorded with
    /// ``LineSplices``). The lines around the changed range are diffed before against after, so a change
    /// made in several steps (diff-match-patch splits long hunks) counts once, as `git blame` sees it.
    public mutating func apply(_ splices: LineSplices, to text: some ScalarText, seq: Int) {
        // The recorder kept the cursor valid through the splices: it is valid for `text`.
        cursorOffset = splices.cursorOffset
        cursorLine = splices.cursorLine
        guard let envelope = splices.envelope else { return }
        let lower = splices.margin
        let upper = text.count - splices.margin
        // Splices that do not fit the text or its padding (a stored hostile patch that made diff-match-patch
        // splice into the padding) cannot be followed line by line: every line is taken as changed, rather
        // than trapping on an index.
        guard envelope.lowerBound >= 0, envelope.upperBound <= text.count,
            splices.records.allSatisfy({ $0.start >= 0 && $0.inserted >= 0 })
        else {
            self = LineVersions(text: text, seq: seq)
            return
        }
        if splices.records.count == 1, let only = splices.records.first, only.start + only.inserted <= text.count,
            !only.removed.contains(Self.newline),
            !(only.start..<(only.start + only.inserted)).contains(where: { text[$0] == Self.newline })
        {
            // One change inside one line (typing): that line changes.
            var lineStart = only.start
            while lineStart > lower, text[lineStart - 1] != Self.newline { lineStart -= 1 }
            let line = line(of: lineStart, in: text)
            guard versions.indices.contains(line) else {
                self = LineVersions(text: text, seq: seq)
                return
            }
            versions[line] = seq
            return
        }
        var windowStart = envelope.lowerBound
        while windowStart > lower, text[windowStart - 1] != Self.newline { windowStart -= 1 }
        var windowEnd = envelope.upperBound
        while windowEnd < upper, text[windowEnd] != Self.newline { windowEnd += 1 }
        let firstLine = line(of: windowStart, in: text)
        let newWindow = text.scalars(windowStart..<windowEnd)
        // The old window: undo the splices, last first, on a copy of the new window.
        var oldWindow = newWindow
        for record in splices.records.reversed() {
            let from = record.start - windowStart
            guard from >= 0, from + record.inserted <= oldWindow.count else {
                self = LineVersions(text: text, seq: seq)
                return
            }
            oldWindow.replaceSubrange(from..<(from + record.inserted), with: record.removed)
        }
        if oldWindow == newWindow { return }
        let oldLines = oldWindow.split(separator: Self.newline, omittingEmptySubsequences: false).map(Array.init)
        let newLines = newWindow.split(separator: Self.newline, omittingEmptySubsequences: false).map(Array.init)
        guard firstLine >= 0, firstLine + oldLines.count <= versions.count else {
            self = LineVersions(text: text, seq: seq)
            return
        }
        var updated = [Int]()
        updated.reserveCapacity(newLines.count)
        for op in LineDiff.diff(oldLines, newLines) {
            switch op {
            case .equal(let old, _, let count): updated.append(contentsOf: versions[(firstLine + old)..<(firstLine + old + count)])
            case .insert(_, let count): updated.append(contentsOf: repeatElement(seq, count: count))
            case .delete: break
            }
        }
        versions.replaceSubrange(firstLine..<(firstLine + oldLines.count), with: updated)
    }

    /// Updates the versions after a whole-content replacement from `old` to `new` by the event `seq`.
    public mutating func replace(_ old: [UInt32], with new: [UInt32], seq: Int, margin: Int = 0) {
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] {
            suffix += 1
        }
        var splices = self.splices(margin: margin)
        splices.record(old, start: prefix, end: old.count - suffix, replacement: new[prefix..<(new.count - suffix)])
        apply(splices, to: new, seq: seq)
    }
}

/// The splices one event makes to a text, recorded as they happen (diff-match-patch's `willSplice`), so
/// that ``LineVersions/apply(_:to:seq:)`` can compare the lines before and after the whole event.
public struct LineSplices: Sendable {
    struct Record: Sendable {
        /// Where the splice starts (in the text as it was when it happened).
        var start: Int
        /// What it removed.
        var removed: [UInt32]
        /// How many code points it inserted.
        var inserted: Int
    }

    /// Padding at each end of the text (never part of a line's text).
    public let margin: Int
    /// False once a splice changed the padding, apart from a common head and tail of what it replaced and
    /// its replacement (see ``PaddedSplice/keepsPadding(_:start:end:replacement:margin:)``).
    public private(set) var keptPadding = true
    var records: [Record] = []
    /// The range of the current text that differs from the text before the event (a superset).
    var envelope: Range<Int>?

    var cursorOffset: Int
    var cursorLine: Int

    init(margin: Int, cursorOffset: Int, cursorLine: Int) {
        self.margin = margin
        self.cursorOffset = cursorOffset
        self.cursorLine = cursorLine
    }

    /// Records that `text[start..<end]` is about to be replaced by `replacement`.
    public mutating func record(_ text: some ScalarText, start: Int, end: Int, replacement: some Collection<UInt32>) {
        let lower = margin
        var start = min(max(start, 0), text.count)
        var end = min(max(end, 0), text.count)
        var replacement = Array(replacement)
        if end < start {
            // Python slice semantics: text[:start] + replacement + text[end:] repeats text[end:start].
            replacement += text.scalars(end..<start)
            end = start
        }
        if keptPadding && !PaddedSplice.keepsPadding(text, start: start, end: end, replacement: replacement, margin: margin) {
            keptPadding = false
        }
        // Padding is context: it is in the replaced range and in the replacement alike. Strip it.
        (start, end, replacement) = PaddedSplice.strippingPadding(
            start: start, end: end, replacement: replacement, count: text.count, margin: margin)
        // Trim what the splice leaves as it was (diff-match-patch rewrites its context too).
        var head = 0
        while start + head < end, head < replacement.count, text[start + head] == replacement[head] { head += 1 }
        var tail = 0
        while end - tail > start + head, replacement.count - tail > head, text[end - 1 - tail] == replacement[replacement.count - 1 - tail] {
            tail += 1
        }
        start += head
        end -= tail
        let inserted = replacement.count - head - tail
        if start == end && inserted == 0 { return }
        // Move the cursor to the start of this splice's line while the text is as the cursor knows it;
        // it stays valid after the splice, which only changes what follows.
        var lineStart = start
        while lineStart > lower, text[lineStart - 1] != LineVersions.newline { lineStart -= 1 }
        if cursorOffset < 0 || cursorOffset > text.count {
            // Earlier splices of a hostile patch left the cursor outside the text: offset 0 is line 0.
            cursorOffset = 0
            cursorLine = 0
        }
        if lineStart >= cursorOffset {
            for index in cursorOffset..<lineStart where text[index] == LineVersions.newline { cursorLine += 1 }
        } else {
            for index in lineStart..<cursorOffset where text[index] == LineVersions.newline { cursorLine -= 1 }
        }
        cursorOffset = lineStart
        records.append(Record(start: start, removed: text.scalars(start..<end), inserted: inserted))
        let growth = inserted - (end - start)
        if let current = envelope {
            let lowerBound = min(current.lowerBound, start)
            let upperBound = current.upperBound <= start ? start + inserted : max(current.upperBound, end) + growth
            envelope = lowerBound..<max(upperBound, start + inserted)
        } else {
            envelope = start..<(start + inserted)
        }
    }
}

extension LineVersions: Equatable {
    /// Equal when the versions are (the cursor is a cache).
    public static func == (lhs: LineVersions, rhs: LineVersions) -> Bool { lhs.versions == rhs.versions }
}
