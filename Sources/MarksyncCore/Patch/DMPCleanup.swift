// Diff cleanup functions of the diff-match-patch port.

extension DiffMatchPatch {
    /// Reorders and merges like edit sections and merges equalities; any edit section can
    /// move as long as it doesn't cross an equality (Python's `diff_cleanupMerge`).
    /// - Parameter diffs: the diffs, rewritten in place.
    public func diffCleanupMerge(_ diffs: inout [Diff]) {
        while true {
            diffs.append(Diff(.equal, []))  // Dummy entry at the end.
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
                    pointer += 1
                case .delete:
                    countDelete += 1
                    textDelete.append(contentsOf: diffs[pointer].text)
                    pointer += 1
                case .equal:
                    if countDelete + countInsert > 1 {
                        if countDelete != 0 && countInsert != 0 {
                            // Factor out any common prefix.
                            var commonLength = DMPOps.commonPrefix(textInsert, textDelete)
                            if commonLength != 0 {
                                let x = pointer - countDelete - countInsert - 1
                                if x >= 0 && diffs[x].operation == .equal {
                                    diffs[x].text.append(contentsOf: textInsert[..<commonLength])
                                } else {
                                    diffs.insert(Diff(.equal, Array(textInsert[..<commonLength])), at: 0)
                                    pointer += 1
                                }
                                textInsert.removeFirst(commonLength)
                                textDelete.removeFirst(commonLength)
                            }
                            // Factor out any common suffix.
                            commonLength = DMPOps.commonSuffix(textInsert, textDelete)
                            if commonLength != 0 {
                                diffs[pointer].text.insert(
                                    contentsOf: textInsert[(textInsert.count - commonLength)...], at: 0)
                                textInsert.removeLast(commonLength)
                                textDelete.removeLast(commonLength)
                            }
                        }
                        var newOps = [Diff]()
                        if !textDelete.isEmpty { newOps.append(Diff(.delete, textDelete)) }
                        if !textInsert.isEmpty { newOps.append(Diff(.insert, textInsert)) }
                        pointer -= countDelete + countInsert
                        diffs.replaceSubrange(pointer..<(pointer + countDelete + countInsert), with: newOps)
                        pointer += newOps.count + 1
                    } else if pointer != 0 && diffs[pointer - 1].operation == .equal {
                        // Merge this equality with the previous one.
                        let text = diffs[pointer].text
                        diffs[pointer - 1].text.append(contentsOf: text)
                        diffs.remove(at: pointer)
                    } else {
                        pointer += 1
                    }
                    countInsert = 0
                    countDelete = 0
                    textDelete = []
                    textInsert = []
                }
            }
            if diffs[diffs.count - 1].text.isEmpty { diffs.removeLast() }

            // Second pass: single edits surrounded by equalities that can be shifted sideways
            // to eliminate an equality, e.g. A<ins>BA</ins>C -> <ins>AB</ins>AC.
            var changes = false
            pointer = 1
            while pointer < diffs.count - 1 {
                if diffs[pointer - 1].operation == .equal && diffs[pointer + 1].operation == .equal {
                    let previous = diffs[pointer - 1].text
                    let next = diffs[pointer + 1].text
                    if DMPOps.hasSuffix(diffs[pointer].text, previous) {
                        // Shift the edit over the previous equality.
                        if !previous.isEmpty {
                            let edit = diffs[pointer].text
                            diffs[pointer].text = previous + edit[..<(edit.count - previous.count)]
                            diffs[pointer + 1].text = previous + next
                        }
                        diffs.remove(at: pointer - 1)
                        changes = true
                    } else if DMPOps.hasPrefix(diffs[pointer].text, next) {
                        // Shift the edit over the next equality.
                        diffs[pointer - 1].text.append(contentsOf: next)
                        let edit = diffs[pointer].text
                        diffs[pointer].text = Array(edit[next.count...]) + next
                        diffs.remove(at: pointer + 1)
                        changes = true
                    }
                }
                pointer += 1
            }
            // If shifts were made, the diff needs reordering and another shift sweep.
            if !changes { return }
        }
    }

    /// Reduces the number of edits by eliminating semantically trivial equalities
    /// (Python's `diff_cleanupSemantic`).
    /// - Parameter diffs: the diffs, rewritten in place.
    public func diffCleanupSemantic(_ diffs: inout [Diff]) {
        var changes = false
        var equalities = [Int]()
        var lastEquality: [UInt32]?
        var pointer = 0
        var lengthInsertions1 = 0
        var lengthDeletions1 = 0
        var lengthInsertions2 = 0
        var lengthDeletions2 = 0
        while pointer < diffs.count {
            if diffs[pointer].operation == .equal {
                equalities.append(pointer)
                lengthInsertions1 = lengthInsertions2
                lengthInsertions2 = 0
                lengthDeletions1 = lengthDeletions2
                lengthDeletions2 = 0
                lastEquality = diffs[pointer].text
            } else {
                if diffs[pointer].operation == .insert {
                    lengthInsertions2 += diffs[pointer].text.count
                } else {
                    lengthDeletions2 += diffs[pointer].text.count
                }
                // Eliminate an equality that is smaller or equal to the edits on both sides.
                if let equality = lastEquality, !equality.isEmpty,
                    equality.count <= max(lengthInsertions1, lengthDeletions1),
                    equality.count <= max(lengthInsertions2, lengthDeletions2),
                    let last = equalities.last
                {
                    diffs.insert(Diff(.delete, equality), at: last)
                    diffs[last + 1].operation = .insert
                    equalities.removeLast()
                    if !equalities.isEmpty { equalities.removeLast() }
                    pointer = equalities.last ?? -1
                    lengthInsertions1 = 0
                    lengthDeletions1 = 0
                    lengthInsertions2 = 0
                    lengthDeletions2 = 0
                    lastEquality = nil
                    changes = true
                }
            }
            pointer += 1
        }

        if changes { diffCleanupMerge(&diffs) }
        diffCleanupSemanticLossless(&diffs)

        // Find overlaps between deletions and insertions, e.g.
        // <del>abcxxx</del><ins>xxxdef</ins> -> <del>abc</del>xxx<ins>def</ins>.
        pointer = 1
        while pointer < diffs.count {
            if diffs[pointer - 1].operation == .delete && diffs[pointer].operation == .insert {
                let deletion = diffs[pointer - 1].text
                let insertion = diffs[pointer].text
                let overlap1 = diffCommonOverlap(deletion, insertion)
                let overlap2 = diffCommonOverlap(insertion, deletion)
                if overlap1 >= overlap2 {
                    if 2 * overlap1 >= deletion.count || 2 * overlap1 >= insertion.count {
                        diffs.insert(Diff(.equal, Array(insertion[..<overlap1])), at: pointer)
                        diffs[pointer - 1] = Diff(.delete, Array(deletion[..<(deletion.count - overlap1)]))
                        diffs[pointer + 1] = Diff(.insert, Array(insertion[overlap1...]))
                        pointer += 1
                    }
                } else {
                    if 2 * overlap2 >= deletion.count || 2 * overlap2 >= insertion.count {
                        diffs.insert(Diff(.equal, Array(deletion[..<overlap2])), at: pointer)
                        diffs[pointer - 1] = Diff(.insert, Array(insertion[..<(insertion.count - overlap2)]))
                        diffs[pointer + 1] = Diff(.delete, Array(deletion[overlap2...]))
                        pointer += 1
                    }
                }
                pointer += 1
            }
            pointer += 1
        }
    }

    /// Shifts single edits surrounded by equalities sideways to align them with word, line
    /// or blank-line boundaries, e.g. `The c<ins>at c</ins>ame.` -> `The <ins>cat </ins>came.`
    /// (Python's `diff_cleanupSemanticLossless`, with Python's `isalnum`/`isspace`).
    /// - Parameter diffs: the diffs, rewritten in place.
    public func diffCleanupSemanticLossless(_ diffs: inout [Diff]) {
        var pointer = 1
        while pointer < diffs.count - 1 {
            if diffs[pointer - 1].operation == .equal && diffs[pointer + 1].operation == .equal {
                let equality1 = diffs[pointer - 1].text
                let edit = diffs[pointer].text
                let equality2 = diffs[pointer + 1].text
                let commonOffset = DMPOps.commonSuffix(equality1, edit)
                let editLength = edit.count
                // Without a left shift and without a possible right step nothing can change.
                let canStep = editLength > 0 && !equality2.isEmpty && edit[0] == equality2[0]
                if commonOffset == 0 && !canStep {
                    pointer += 1
                    continue
                }
                // equality1 + edit + equality2 stays the same; only the edit window moves.
                let combined = equality1 + edit + equality2
                let total = combined.count
                var start = equality1.count - commonOffset
                var bestStart = start
                combined.withUnsafeBufferPointer { buf in
                    var bestScore =
                        Self.semanticScore(buf, 0, start, start + editLength)
                        + Self.semanticScore(buf, start, start + editLength, total)
                    while editLength > 0 && start + editLength < total && buf[start] == buf[start + editLength] {
                        start += 1
                        let score =
                            Self.semanticScore(buf, 0, start, start + editLength)
                            + Self.semanticScore(buf, start, start + editLength, total)
                        // The >= encourages trailing rather than leading whitespace on edits.
                        if score >= bestScore {
                            bestScore = score
                            bestStart = start
                        }
                    }
                }
                if bestStart != equality1.count {
                    if bestStart > 0 {
                        diffs[pointer - 1].text = Array(combined[..<bestStart])
                    } else {
                        diffs.remove(at: pointer - 1)
                        pointer -= 1
                    }
                    diffs[pointer].text = Array(combined[bestStart..<(bestStart + editLength)])
                    if bestStart + editLength < total {
                        diffs[pointer + 1].text = Array(combined[(bestStart + editLength)...])
                    } else {
                        diffs.remove(at: pointer + 1)
                        pointer -= 1
                    }
                }
            }
            pointer += 1
        }
    }

    /// Python's `diff_cleanupSemanticScore(one, two)` with `one = buf[a..<b]`, `two = buf[b..<c]`:
    /// 6 (edges) down to 0 (inside a word).
    @inline(__always)
    static func semanticScore(_ buf: UnsafeBufferPointer<UInt32>, _ a: Int, _ b: Int, _ c: Int) -> Int {
        if a == b || b == c { return 6 }
        let char1 = buf[b - 1]
        let char2 = buf[b]
        let nonAlphaNumeric1 = !DMPUnicode.isAlphanumeric(char1)
        let nonAlphaNumeric2 = !DMPUnicode.isAlphanumeric(char2)
        let whitespace1 = nonAlphaNumeric1 && DMPUnicode.isSpace(char1)
        let whitespace2 = nonAlphaNumeric2 && DMPUnicode.isSpace(char2)
        let lineBreak1 = whitespace1 && (char1 == 0x0D || char1 == 0x0A)
        let lineBreak2 = whitespace2 && (char2 == 0x0D || char2 == 0x0A)
        // BLANKLINEEND = \n\r?\n$ (searched in one), BLANKLINESTART = ^\r?\n\r?\n (two).
        var blankLine1 = false
        if lineBreak1 && b - a >= 2 && buf[b - 1] == 0x0A {
            if buf[b - 2] == 0x0A {
                blankLine1 = true
            } else if buf[b - 2] == 0x0D && b - a >= 3 && buf[b - 3] == 0x0A {
                blankLine1 = true
            }
        }
        var blankLine2 = false
        if lineBreak2 {
            var i = b
            if i < c && buf[i] == 0x0D { i += 1 }
            if i < c && buf[i] == 0x0A {
                i += 1
                if i < c && buf[i] == 0x0D { i += 1 }
                if i < c && buf[i] == 0x0A { blankLine2 = true }
            }
        }
        if blankLine1 || blankLine2 { return 5 }
        if lineBreak1 || lineBreak2 { return 4 }
        if nonAlphaNumeric1 && !whitespace1 && whitespace2 { return 3 }
        if whitespace1 || whitespace2 { return 2 }
        if nonAlphaNumeric1 || nonAlphaNumeric2 { return 1 }
        return 0
    }

    /// Reduces the number of edits by eliminating operationally trivial equalities
    /// (Python's `diff_cleanupEfficiency`, using ``diffEditCost``).
    /// - Parameter diffs: the diffs, rewritten in place.
    public func diffCleanupEfficiency(_ diffs: inout [Diff]) {
        var changes = false
        var equalities = [Int]()
        var lastEquality: [UInt32]?
        var pointer = 0
        var preIns = false
        var preDel = false
        var postIns = false
        var postDel = false
        while pointer < diffs.count {
            if diffs[pointer].operation == .equal {
                if diffs[pointer].text.count < diffEditCost && (postIns || postDel) {
                    // Candidate found.
                    equalities.append(pointer)
                    preIns = postIns
                    preDel = postDel
                    lastEquality = diffs[pointer].text
                } else {
                    // Not a candidate, and can never become one.
                    equalities = []
                    lastEquality = nil
                }
                postIns = false
                postDel = false
            } else {
                if diffs[pointer].operation == .delete {
                    postDel = true
                } else {
                    postIns = true
                }
                if let equality = lastEquality, !equality.isEmpty, let last = equalities.last {
                    let flags = (preIns ? 1 : 0) + (preDel ? 1 : 0) + (postIns ? 1 : 0) + (postDel ? 1 : 0)
                    let fourEdits = preIns && preDel && postIns && postDel
                    let threeEdits = Double(equality.count) < Double(diffEditCost) / 2 && flags == 3
                    if fourEdits || threeEdits {
                        diffs.insert(Diff(.delete, equality), at: last)
                        diffs[last + 1].operation = .insert
                        equalities.removeLast()
                        lastEquality = nil
                        if preIns && preDel {
                            // No changes made which could affect previous entry, keep going.
                            postIns = true
                            postDel = true
                            equalities = []
                        } else {
                            if !equalities.isEmpty { equalities.removeLast() }
                            pointer = equalities.last ?? -1
                            postIns = false
                            postDel = false
                        }
                        changes = true
                    }
                }
            }
            pointer += 1
        }
        if changes { diffCleanupMerge(&diffs) }
    }
}
