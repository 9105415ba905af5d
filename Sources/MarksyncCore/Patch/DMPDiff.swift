// Diff functions of the diff-match-patch port (Python's diff_main and its helpers).

/// A line of text as a dictionary key, hashed as raw bytes (much faster than element-wise).
struct DMPLineKey: Hashable {
    let line: ArraySlice<UInt32>

    init(_ line: ArraySlice<UInt32>) { self.line = line }

    static func == (lhs: DMPLineKey, rhs: DMPLineKey) -> Bool { lhs.line == rhs.line }

    func hash(into hasher: inout Hasher) {
        line.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// A point in time after which a diff gives up (nil: no limit).
typealias DMPDeadline = ContinuousClock.Instant?

extension DiffMatchPatch {
    /// The deadline Python's `diff_main` computes from `Diff_Timeout`.
    func makeDeadline() -> DMPDeadline {
        if diffTimeout <= 0 { return nil }
        let nanos = diffTimeout * 1e9
        if !(nanos < 9e18) { return nil }  // Centuries (or NaN): no practical limit.
        return ContinuousClock.now.advanced(by: .nanoseconds(Int64(nanos)))
    }

    @inline(__always)
    static func passed(_ deadline: DMPDeadline) -> Bool {
        guard let deadline else { return false }
        return ContinuousClock.now > deadline
    }

    // MARK: - Public diff API

    /// Finds the differences between two texts (Python's `diff_main`).
    ///
    /// The texts' common prefix and suffix are stripped first; the result is cleaned up with
    /// ``diffCleanupMerge(_:)``. The computation stops refining after ``diffTimeout`` seconds.
    /// - Parameters:
    ///   - text1: the old text.
    ///   - text2: the new text.
    ///   - checkLines: when true (the default), long texts are first diffed line by line,
    ///     which is faster but may give a slightly less optimal diff.
    /// - Returns: the diffs turning `text1` into `text2`.
    public func diffMain(_ text1: String, _ text2: String, checkLines: Bool = true) -> [Diff] {
        diffMain(DMPCodePoints.from(text1), DMPCodePoints.from(text2), checkLines: checkLines)
    }

    /// Finds the differences between two code point arrays (Python's `diff_main`).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - text2: the new text.
    ///   - checkLines: when true, run a line-level diff first on long texts.
    /// - Returns: the diffs turning `text1` into `text2`.
    public func diffMain(_ text1: [UInt32], _ text2: [UInt32], checkLines: Bool = true) -> [Diff] {
        diffMain(text1, text2, checkLines, makeDeadline())
    }

    /// Finds the differences with an explicit deadline (nil: no limit).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - text2: the new text.
    ///   - checkLines: when true, run a line-level diff first on long texts.
    ///   - deadline: the instant at which to stop refining the diff.
    /// - Returns: the diffs turning `text1` into `text2`.
    public func diffMain(
        _ text1: [UInt32], _ text2: [UInt32], checkLines: Bool, deadline: ContinuousClock.Instant?
    ) -> [Diff] {
        diffMain(text1, text2, checkLines, deadline)
    }

    /// The number of code points common to the start of both texts.
    /// - Parameters:
    ///   - text1: first text.
    ///   - text2: second text.
    /// - Returns: the length of the common prefix.
    public func diffCommonPrefix(_ text1: [UInt32], _ text2: [UInt32]) -> Int {
        DMPOps.commonPrefix(text1, text2)
    }

    /// The number of code points common to the end of both texts.
    /// - Parameters:
    ///   - text1: first text.
    ///   - text2: second text.
    /// - Returns: the length of the common suffix.
    public func diffCommonSuffix(_ text1: [UInt32], _ text2: [UInt32]) -> Int {
        DMPOps.commonSuffix(text1, text2)
    }

    /// The length of the longest suffix of `text1` that is a prefix of `text2`.
    /// - Parameters:
    ///   - text1: first text.
    ///   - text2: second text.
    /// - Returns: the overlap length.
    public func diffCommonOverlap(_ text1: [UInt32], _ text2: [UInt32]) -> Int {
        let length1 = text1.count
        let length2 = text2.count
        if length1 == 0 || length2 == 0 { return 0 }
        let a: [UInt32] = length1 > length2 ? Array(text1[(length1 - length2)...]) : text1
        let b: [UInt32] = length1 < length2 ? Array(text2[..<length1]) : text2
        let textLength = min(length1, length2)
        if a == b { return textLength }
        var best = 0
        var length = 1
        while true {
            let pattern = Array(a[max(0, textLength - length)...])
            let found = DMPOps.find(b, pattern)
            if found == -1 { return best }
            length += found
            if found == 0 || a[max(0, textLength - length)...].elementsEqual(b[..<min(length, textLength)]) {
                best = length
                length += 1
            }
        }
    }

    /// Whether the texts share a substring at least half as long as the longer text
    /// (Python's `diff_halfMatch`; disabled when ``diffTimeout`` is 0 or less).
    /// - Parameters:
    ///   - text1: first text.
    ///   - text2: second text.
    /// - Returns: the prefix and suffix of `text1`, the prefix and suffix of `text2` and the
    ///   common middle, or nil.
    public func diffHalfMatch(
        _ text1: [UInt32], _ text2: [UInt32]
    ) -> (text1A: [UInt32], text1B: [UInt32], text2A: [UInt32], text2B: [UInt32], midCommon: [UInt32])? {
        if diffTimeout <= 0 { return nil }
        let swapped = text1.count > text2.count
        let longtext = swapped ? text1 : text2
        let shorttext = swapped ? text2 : text1
        if longtext.count < 4 || shorttext.count * 2 < longtext.count { return nil }
        let hm1 = Self.halfMatchI(longtext, shorttext, (longtext.count + 3) / 4)
        let hm2 = Self.halfMatchI(longtext, shorttext, (longtext.count + 1) / 2)
        let hm: (la: [UInt32], lb: [UInt32], sa: [UInt32], sb: [UInt32], mid: [UInt32])
        if let hm1, let hm2 {
            hm = hm1.mid.count > hm2.mid.count ? hm1 : hm2
        } else if let hm1 {
            hm = hm1
        } else if let hm2 {
            hm = hm2
        } else {
            return nil
        }
        if swapped {
            return (hm.la, hm.lb, hm.sa, hm.sb, hm.mid)
        } else {
            return (hm.sa, hm.sb, hm.la, hm.lb, hm.mid)
        }
    }

    static func halfMatchI(
        _ longtext: [UInt32], _ shorttext: [UInt32], _ i: Int
    ) -> (la: [UInt32], lb: [UInt32], sa: [UInt32], sb: [UInt32], mid: [UInt32])? {
        longtext.withUnsafeBufferPointer { lt in
            shorttext.withUnsafeBufferPointer { st in
                let seedEnd = min(lt.count, i + lt.count / 4)
                let seed = UnsafeBufferPointer(rebasing: lt[i..<seedEnd])
                var bestLength = 0
                var bestI = 0, bestJ = 0, bestSuffix = 0, bestPrefix = 0
                var j = DMPOps.find(st, seed, from: 0)
                while j != -1 {
                    let prefixLength = DMPOps.commonPrefix(lt, i, lt.count, st, j, st.count)
                    let suffixLength = DMPOps.commonSuffix(lt, 0, i, st, 0, j)
                    if bestLength < suffixLength + prefixLength {
                        bestLength = suffixLength + prefixLength
                        bestI = i
                        bestJ = j
                        bestSuffix = suffixLength
                        bestPrefix = prefixLength
                    }
                    j = DMPOps.find(st, seed, from: j + 1)
                }
                if bestLength * 2 >= lt.count {
                    return (
                        Array(lt[..<(bestI - bestSuffix)]),
                        Array(lt[(bestI + bestPrefix)...]),
                        Array(st[..<(bestJ - bestSuffix)]),
                        Array(st[(bestJ + bestPrefix)...]),
                        Array(st[(bestJ - bestSuffix)..<(bestJ + bestPrefix)])
                    )
                }
                return nil
            }
        }
    }

    /// Finds the "middle snake" of a diff, splits the problem in two and recurses
    /// (Myers' O(ND) algorithm, Python's `diff_bisect`).
    /// - Parameters:
    ///   - text1: old text.
    ///   - text2: new text.
    ///   - deadline: when to give up (nil: never); on timeout the result is a plain
    ///     delete + insert.
    /// - Returns: the diffs, not cleaned up.
    public func diffBisect(_ text1: [UInt32], _ text2: [UInt32], deadline: ContinuousClock.Instant?) -> [Diff] {
        diffBisectImpl(text1, text2, deadline)
    }

    /// Splits two texts into arrays of "characters" standing for their lines
    /// (Python's `diff_linesToChars`, with its limits of 666666 lines for `text1` and
    /// 1114111 in total).
    /// - Parameters:
    ///   - text1: first text.
    ///   - text2: second text.
    /// - Returns: the encoded texts and the line table (entry 0 is intentionally empty).
    public func diffLinesToChars(
        _ text1: [UInt32], _ text2: [UInt32]
    ) -> (chars1: [UInt32], chars2: [UInt32], lineArray: [[UInt32]]) {
        var lineArray: [[UInt32]] = [[]]
        var lineHash = [DMPLineKey: Int]()
        let chars1 = Self.linesToCharsMunge(text1, &lineArray, &lineHash, maxLines: 666_666)
        let chars2 = Self.linesToCharsMunge(text2, &lineArray, &lineHash, maxLines: 1_114_111)
        return (chars1, chars2, lineArray)
    }

    static func linesToCharsMunge(
        _ text: [UInt32], _ lineArray: inout [[UInt32]], _ lineHash: inout [DMPLineKey: Int], maxLines: Int
    ) -> [UInt32] {
        var chars = [UInt32]()
        let n = text.count
        var lineStart = 0
        var lineEnd = -1
        while lineEnd < n - 1 {
            var j = lineStart
            while j < n && text[j] != 0x0A { j += 1 }
            lineEnd = j < n ? j : n - 1
            var line = DMPLineKey(text[lineStart..<(lineEnd + 1)])
            if let index = lineHash[line] {
                chars.append(UInt32(index))
            } else {
                if lineArray.count == maxLines {
                    // Bail out: the rest of the text becomes one "line".
                    line = DMPLineKey(text[lineStart...])
                    lineEnd = n
                }
                lineArray.append(Array(line.line))
                lineHash[line] = lineArray.count - 1
                chars.append(UInt32(lineArray.count - 1))
            }
            lineStart = lineEnd + 1
        }
        return chars
    }

    /// Turns "characters" back into the lines they stand for (Python's `diff_charsToLines`).
    /// - Parameters:
    ///   - diffs: diffs over encoded texts; rewritten in place.
    ///   - lineArray: the line table from ``diffLinesToChars(_:_:)``.
    public func diffCharsToLines(_ diffs: inout [Diff], _ lineArray: [[UInt32]]) {
        for i in diffs.indices {
            var text = [UInt32]()
            for c in diffs[i].text { text.append(contentsOf: lineArray[Int(c)]) }
            diffs[i].text = text
        }
    }

    /// Maps a location in the old text to the new text (Python's `diff_xIndex`, including its
    /// behaviour past the end: when the last diff is a deletion, the end of the new text).
    /// - Parameters:
    ///   - diffs: the diffs.
    ///   - loc: a location in the old text.
    /// - Returns: the matching location in the new text (`loc` itself for empty diffs,
    ///   where Python raises).
    public func diffXIndex(_ diffs: [Diff], _ loc: Int) -> Int {
        if diffs.isEmpty { return loc }
        var chars1 = 0
        var chars2 = 0
        var lastChars1 = 0
        var lastChars2 = 0
        var x = 0
        for (index, diff) in diffs.enumerated() {
            x = index
            if diff.operation != .insert { chars1 += diff.text.count }
            if diff.operation != .delete { chars2 += diff.text.count }
            if chars1 > loc { break }
            lastChars1 = chars1
            lastChars2 = chars2
        }
        if diffs[x].operation == .delete { return lastChars2 }
        return lastChars2 + (loc - lastChars1)
    }

    /// The old text of a diff (equalities and deletions).
    /// - Parameter diffs: the diffs.
    /// - Returns: the source text.
    public func diffText1(_ diffs: [Diff]) -> [UInt32] {
        var text = [UInt32]()
        for diff in diffs where diff.operation != .insert { text.append(contentsOf: diff.text) }
        return text
    }

    /// The new text of a diff (equalities and insertions).
    /// - Parameter diffs: the diffs.
    /// - Returns: the destination text.
    public func diffText2(_ diffs: [Diff]) -> [UInt32] {
        var text = [UInt32]()
        for diff in diffs where diff.operation != .delete { text.append(contentsOf: diff.text) }
        return text
    }

    /// The Levenshtein distance of a diff: inserted, deleted or substituted code points.
    /// - Parameter diffs: the diffs.
    /// - Returns: the number of changes.
    public func diffLevenshtein(_ diffs: [Diff]) -> Int {
        var levenshtein = 0
        var insertions = 0
        var deletions = 0
        for diff in diffs {
            switch diff.operation {
            case .insert: insertions += diff.text.count
            case .delete: deletions += diff.text.count
            case .equal:
                levenshtein += max(insertions, deletions)
                insertions = 0
                deletions = 0
            }
        }
        return levenshtein + max(insertions, deletions)
    }

    /// An HTML rendering of a diff (Python's `diff_prettyHtml`).
    /// - Parameter diffs: the diffs.
    /// - Returns: HTML with `<ins>`, `<del>` and `<span>` elements.
    public func diffPrettyHtml(_ diffs: [Diff]) -> String {
        var out = [UInt8]()
        for diff in diffs where !diff.text.isEmpty {
            var body = [UInt8]()
            for c in diff.text {
                switch c {
                case 0x26: body.append(contentsOf: Array("&amp;".utf8))
                case 0x3C: body.append(contentsOf: Array("&lt;".utf8))
                case 0x3E: body.append(contentsOf: Array("&gt;".utf8))
                case 0x0A: body.append(contentsOf: Array("&para;<br>".utf8))
                default: DMPUTF8.append(c, to: &body)
                }
            }
            switch diff.operation {
            case .insert:
                out.append(contentsOf: Array("<ins style=\"background:#e6ffe6;\">".utf8))
                out.append(contentsOf: body)
                out.append(contentsOf: Array("</ins>".utf8))
            case .delete:
                out.append(contentsOf: Array("<del style=\"background:#ffe6e6;\">".utf8))
                out.append(contentsOf: body)
                out.append(contentsOf: Array("</del>".utf8))
            case .equal:
                out.append(contentsOf: Array("<span>".utf8))
                out.append(contentsOf: body)
                out.append(contentsOf: Array("</span>".utf8))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes a diff as a delta (Python's `diff_toDelta`): `=n` keep, `-n` delete, `+text`
    /// insert, tab-separated. Counts are UTF-16 code units, as in the Python 3 implementation
    /// (a lone surrogate in the text, which Python cannot encode, counts as one unit).
    /// - Parameter diffs: the diffs.
    /// - Returns: the delta text.
    public func diffToDelta(_ diffs: [Diff]) -> String {
        DMPDelta.toDelta(diffs)
    }

    /// Rebuilds a diff from the old text and a delta (Python's `diff_fromDelta`).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - delta: the delta from ``diffToDelta(_:)``.
    /// - Returns: the diffs.
    /// - Throws: ``DiffDeltaError`` when the delta is malformed or does not fit `text1`.
    public func diffFromDelta(_ text1: [UInt32], _ delta: String) throws(DiffDeltaError) -> [Diff] {
        try DMPDelta.fromDelta(text1, delta)
    }

    /// Rebuilds a diff from the old text and a delta (Python's `diff_fromDelta`).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - delta: the delta from ``diffToDelta(_:)``.
    /// - Returns: the diffs.
    /// - Throws: ``DiffDeltaError`` when the delta is malformed or does not fit `text1`.
    public func diffFromDelta(_ text1: String, _ delta: String) throws(DiffDeltaError) -> [Diff] {
        try DMPDelta.fromDelta(DMPCodePoints.from(text1), delta)
    }

    // MARK: - Internals

    func diffMain(_ text1: [UInt32], _ text2: [UInt32], _ checklines: Bool, _ deadline: DMPDeadline) -> [Diff] {
        if text1 == text2 {
            return text1.isEmpty ? [] : [Diff(.equal, text1)]
        }
        let (prefixLength, suffixLength) = text1.withUnsafeBufferPointer { a in
            text2.withUnsafeBufferPointer { b in
                let p = DMPOps.commonPrefix(a, 0, a.count, b, 0, b.count)
                let s = DMPOps.commonSuffix(a, p, a.count, b, p, b.count)
                return (p, s)
            }
        }
        if prefixLength == 0 && suffixLength == 0 {
            var diffs = diffCompute(text1, text2, checklines, deadline)
            diffCleanupMerge(&diffs)
            return diffs
        }
        let middle1 = Array(text1[prefixLength..<(text1.count - suffixLength)])
        let middle2 = Array(text2[prefixLength..<(text2.count - suffixLength)])
        var diffs = diffCompute(middle1, middle2, checklines, deadline)
        if prefixLength > 0 { diffs.insert(Diff(.equal, Array(text1[..<prefixLength])), at: 0) }
        if suffixLength > 0 { diffs.append(Diff(.equal, Array(text1[(text1.count - suffixLength)...]))) }
        diffCleanupMerge(&diffs)
        return diffs
    }

    func diffCompute(_ text1: [UInt32], _ text2: [UInt32], _ checklines: Bool, _ deadline: DMPDeadline) -> [Diff] {
        if text1.isEmpty { return [Diff(.insert, text2)] }
        if text2.isEmpty { return [Diff(.delete, text1)] }
        let swapped = text1.count > text2.count
        let longtext = swapped ? text1 : text2
        let shorttext = swapped ? text2 : text1
        let i = DMPOps.find(longtext, shorttext)
        if i != -1 {
            let op: DiffOperation = swapped ? .delete : .insert
            return [
                Diff(op, Array(longtext[..<i])),
                Diff(.equal, shorttext),
                Diff(op, Array(longtext[(i + shorttext.count)...])),
            ]
        }
        if shorttext.count == 1 {
            return [Diff(.delete, text1), Diff(.insert, text2)]
        }
        if let hm = diffHalfMatch(text1, text2) {
            let diffsA = diffMain(hm.text1A, hm.text2A, checklines, deadline)
            let diffsB = diffMain(hm.text1B, hm.text2B, checklines, deadline)
            return diffsA + [Diff(.equal, hm.midCommon)] + diffsB
        }
        if checklines && text1.count > 100 && text2.count > 100 {
            return diffLineMode(text1, text2, deadline)
        }
        return diffBisectImpl(text1, text2, deadline)
    }

    func diffLineMode(_ text1: [UInt32], _ text2: [UInt32], _ deadline: DMPDeadline) -> [Diff] {
        let (chars1, chars2, lineArray) = diffLinesToChars(text1, text2)
        var diffs = diffMain(chars1, chars2, false, deadline)
        diffCharsToLines(&diffs, lineArray)
        diffCleanupSemantic(&diffs)

        // Rediff any replacement blocks, this time character-by-character.
        diffs.append(Diff(.equal, []))
        var pointer = 0
        var countDelete = 0
        var countInsert = 0
        var textDelete = [UInt32]()
        var textInsert = [UInt32]()
        while pointer < diffs.count {
            switch diffs[pointer].operation {
            case .insert:
                countInsert += 1
                textInsert.append(contentsOf: diffs[pointer].text)
            case .delete:
                countDelete += 1
                textDelete.append(contentsOf: diffs[pointer].text)
            case .equal:
                if countDelete >= 1 && countInsert >= 1 {
                    let subDiff = diffMain(textDelete, textInsert, false, deadline)
                    let start = pointer - countDelete - countInsert
                    diffs.replaceSubrange(start..<pointer, with: subDiff)
                    pointer = start + subDiff.count
                }
                countInsert = 0
                countDelete = 0
                textDelete.removeAll(keepingCapacity: true)
                textInsert.removeAll(keepingCapacity: true)
            }
            pointer += 1
        }
        diffs.removeLast()
        return diffs
    }

    func diffBisectImpl(_ text1: [UInt32], _ text2: [UInt32], _ deadline: DMPDeadline) -> [Diff] {
        let n1 = text1.count
        let n2 = text2.count
        let maxD = (n1 + n2 + 1) / 2
        let vOffset = maxD
        let vLength = 2 * maxD
        if vLength < 2 {
            // Only reachable with two empty texts (Python raises an IndexError here).
            return [Diff(.delete, text1), Diff(.insert, text2)]
        }
        var v1 = [Int](repeating: -1, count: vLength)
        v1[vOffset + 1] = 0
        var v2 = v1
        let delta = n1 - n2
        let front = delta % 2 != 0
        var k1start = 0
        var k1end = 0
        var k2start = 0
        var k2end = 0
        let split: (Int, Int)? = text1.withUnsafeBufferPointer { t1 in
            text2.withUnsafeBufferPointer { t2 in
                v1.withUnsafeMutableBufferPointer { v1 in
                    v2.withUnsafeMutableBufferPointer { v2 in
                        for d in 0..<maxD {
                            if Self.passed(deadline) { break }
                            // Walk the front path one step. (Python's range() is evaluated once.)
                            var k1 = -d + k1start
                            let k1stop = d + 1 - k1end
                            while k1 < k1stop {
                                let k1Offset = vOffset + k1
                                var x1: Int
                                if k1 == -d || (k1 != d && v1[k1Offset - 1] < v1[k1Offset + 1]) {
                                    x1 = v1[k1Offset + 1]
                                } else {
                                    x1 = v1[k1Offset - 1] + 1
                                }
                                var y1 = x1 - k1
                                if x1 >= 0 && y1 >= 0 {
                                    while x1 < n1 && y1 < n2 && t1[x1] == t2[y1] {
                                        x1 += 1
                                        y1 += 1
                                    }
                                } else {
                                    while x1 < n1 && y1 < n2 {
                                        let i1 = x1 < 0 ? x1 + n1 : x1
                                        let i2 = y1 < 0 ? y1 + n2 : y1
                                        guard i1 >= 0, i2 >= 0, t1[i1] == t2[i2] else { break }
                                        x1 += 1
                                        y1 += 1
                                    }
                                }
                                v1[k1Offset] = x1
                                if x1 > n1 {
                                    k1end += 2
                                } else if y1 > n2 {
                                    k1start += 2
                                } else if front {
                                    let k2Offset = vOffset + delta - k1
                                    if k2Offset >= 0 && k2Offset < vLength && v2[k2Offset] != -1 {
                                        let x2 = n1 - v2[k2Offset]
                                        if x1 >= x2 { return (x1, y1) }
                                    }
                                }
                                k1 += 2
                            }
                            // Walk the reverse path one step.
                            var k2 = -d + k2start
                            let k2stop = d + 1 - k2end
                            while k2 < k2stop {
                                let k2Offset = vOffset + k2
                                var x2: Int
                                if k2 == -d || (k2 != d && v2[k2Offset - 1] < v2[k2Offset + 1]) {
                                    x2 = v2[k2Offset + 1]
                                } else {
                                    x2 = v2[k2Offset - 1] + 1
                                }
                                var y2 = x2 - k2
                                if x2 >= 0 && y2 >= 0 {
                                    while x2 < n1 && y2 < n2 && t1[n1 - x2 - 1] == t2[n2 - y2 - 1] {
                                        x2 += 1
                                        y2 += 1
                                    }
                                } else {
                                    while x2 < n1 && y2 < n2 {
                                        // Python: text1[-x2 - 1] == text2[-y2 - 1]
                                        let p1 = -x2 - 1
                                        let p2 = -y2 - 1
                                        let i1 = p1 < 0 ? p1 + n1 : p1
                                        let i2 = p2 < 0 ? p2 + n2 : p2
                                        guard i1 >= 0, i1 < n1, i2 >= 0, i2 < n2, t1[i1] == t2[i2] else { break }
                                        x2 += 1
                                        y2 += 1
                                    }
                                }
                                v2[k2Offset] = x2
                                if x2 > n1 {
                                    k2end += 2
                                } else if y2 > n2 {
                                    k2start += 2
                                } else if !front {
                                    let k1Offset = vOffset + delta - k2
                                    if k1Offset >= 0 && k1Offset < vLength && v1[k1Offset] != -1 {
                                        let x1 = v1[k1Offset]
                                        let y1 = vOffset + x1 - k1Offset
                                        if x1 >= n1 - x2 { return (x1, y1) }
                                    }
                                }
                                k2 += 2
                            }
                        }
                        return nil
                    }
                }
            }
        }
        if let (x, y) = split {
            return diffBisectSplit(text1, text2, x, y, deadline)
        }
        return [Diff(.delete, text1), Diff(.insert, text2)]
    }

    func diffBisectSplit(_ text1: [UInt32], _ text2: [UInt32], _ x: Int, _ y: Int, _ deadline: DMPDeadline) -> [Diff] {
        let r1 = DMPOps.sliceBounds(text1.count, 0, x)
        let r2 = DMPOps.sliceBounds(text2.count, 0, y)
        let text1a = Array(text1[r1])
        let text2a = Array(text2[r2])
        let text1b = DMPOps.slice(text1, from: x)
        let text2b = DMPOps.slice(text2, from: y)
        let diffs = diffMain(text1a, text2a, false, deadline)
        let diffsb = diffMain(text1b, text2b, false, deadline)
        return diffs + diffsb
    }
}
