// Patch functions of the diff-match-patch port.

extension DiffMatchPatch {
    // MARK: - Making patches

    /// Computes the patches turning `text1` into `text2` (Python's `patch_make(a, b)`):
    /// `diffMain` with line mode, then semantic and efficiency cleanup when there are more
    /// than two diffs.
    /// - Parameters:
    ///   - text1: the old text.
    ///   - text2: the new text.
    /// - Returns: the patches.
    public func patchMake(_ text1: String, _ text2: String) -> [Patch] {
        patchMake(DMPCodePoints.from(text1), DMPCodePoints.from(text2))
    }

    /// Computes the patches turning `text1` into `text2` (code point arrays).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - text2: the new text.
    /// - Returns: the patches.
    public func patchMake(_ text1: [UInt32], _ text2: [UInt32]) -> [Patch] {
        var diffs = diffMain(text1, text2, checkLines: true)
        if diffs.count > 2 {
            diffCleanupSemantic(&diffs)
            diffCleanupEfficiency(&diffs)
        }
        return patchMakeImpl(text1, diffs)
    }

    /// Computes the patches for diffs of `text1` (Python's `patch_make(text1, diffs)`).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - diffs: diffs turning `text1` into the new text.
    /// - Returns: the patches.
    public func patchMake(_ text1: String, diffs: [Diff]) -> [Patch] {
        patchMakeImpl(DMPCodePoints.from(text1), diffs)
    }

    /// Computes the patches for diffs of `text1` (Python's `patch_make(text1, diffs)`).
    /// - Parameters:
    ///   - text1: the old text.
    ///   - diffs: diffs turning `text1` into the new text.
    /// - Returns: the patches.
    public func patchMake(_ text1: [UInt32], diffs: [Diff]) -> [Patch] {
        patchMakeImpl(text1, diffs)
    }

    /// Computes the patches for diffs, recovering the old text from them
    /// (Python's `patch_make(diffs)`).
    /// - Parameter diffs: the diffs.
    /// - Returns: the patches.
    public func patchMake(diffs: [Diff]) -> [Patch] {
        patchMakeImpl(diffText1(diffs), diffs)
    }

    /// Builds the patch for one edit in O(context) time: the hunk Python's
    /// `patch_make(text, diffs)` gives for the diffs `[equal prefix, delete, insert, equal suffix]`,
    /// with ``patchMargin`` code points of context on each side.
    ///
    /// Unlike `patch_make`, it skips the uniqueness widening of `patch_addContext` (the loop
    /// that grows the context while `text.find(pattern) != text.rfind(pattern)`, which scans
    /// the whole document). The result therefore equals `patch_make` whenever that loop would
    /// not run, i.e. when the deleted text occurs exactly once in `text` (or is at least
    /// ``matchMaxBits`` − 2 × ``patchMargin`` long). A pure insertion into a non-empty text always
    /// differs: its pattern is empty, never unique, so `patch_make` widens the context to at least
    /// 2 × ``patchMargin`` on each side (as far as the text goes). Applying either patch to the
    /// same text gives the same result when the context matches at the expected place.
    ///
    /// Out-of-range arguments are clamped: `position` to `0...text.count`, `count` to the rest
    /// of the text.
    /// - Parameters:
    ///   - text: the document before the edit.
    ///   - position: where the edit starts, in code points.
    ///   - count: how many code points are deleted.
    ///   - inserting: the code points inserted at `position`.
    /// - Returns: one patch, or none when the edit changes nothing.
    public func patchMake(forEditIn text: [UInt32], at position: Int, deleting count: Int, inserting: [UInt32]) -> [Patch] {
        editPatch(text, documentStart: 0, documentEnd: text.count, position, count, inserting)
    }

    /// ``patchMake(forEditIn:at:deleting:inserting:)`` for a document held in a padded buffer
    /// (``padded(_:margin:)`` with ``patchMargin``, as used by ``patchApply(_:toPadded:)``), so that
    /// a replay loop needs only one buffer. `position` counts from the start of the document (after
    /// the padding); the padding is never taken as context.
    /// - Parameters:
    ///   - text: the padded document before the edit.
    ///   - position: where the edit starts, in code points of the document.
    ///   - count: how many code points are deleted.
    ///   - inserting: the code points inserted at `position`.
    /// - Returns: one patch, or none when the edit changes nothing.
    public func patchMake(
        forEditInPadded text: [UInt32], at position: Int, deleting count: Int, inserting: [UInt32]
    ) -> [Patch] {
        let margin = max(patchMargin, 0)
        let start = min(margin, text.count)
        return editPatch(text, documentStart: start, documentEnd: max(start, text.count - margin), position, count, inserting)
    }

    /// The edit patch for the document `text[documentStart..<documentEnd]`.
    func editPatch(
        _ text: [UInt32], documentStart: Int, documentEnd: Int, _ position: Int, _ count: Int, _ inserting: [UInt32]
    ) -> [Patch] {
        let n = documentEnd - documentStart
        let pos = min(max(position, 0), n)
        let deleted = min(max(count, 0), n - pos)
        if deleted == 0 && inserting.isEmpty { return [] }
        let margin = max(patchMargin, 0)
        let prefixStart = max(0, pos - margin)
        let suffixEnd = min(n, pos + deleted + margin)
        let o = documentStart  // Offset of the document in the buffer.
        var diffs = [Diff]()
        diffs.reserveCapacity(4)
        if prefixStart < pos { diffs.append(Diff(.equal, Array(text[(o + prefixStart)..<(o + pos)]))) }
        if deleted > 0 { diffs.append(Diff(.delete, Array(text[(o + pos)..<(o + pos + deleted)]))) }
        if !inserting.isEmpty { diffs.append(Diff(.insert, inserting)) }
        if pos + deleted < suffixEnd { diffs.append(Diff(.equal, Array(text[(o + pos + deleted)..<(o + suffixEnd)]))) }
        let prefixLength = pos - prefixStart
        let suffixLength = suffixEnd - pos - deleted
        return [
            Patch(
                diffs: diffs,
                start1: prefixStart, start2: prefixStart,
                length1: prefixLength + deleted + suffixLength,
                length2: prefixLength + inserting.count + suffixLength)
        ]
    }

    func patchMakeImpl(_ text1: [UInt32], _ diffs: [Diff]) -> [Patch] {
        if diffs.isEmpty { return [] }
        var patches = [Patch]()
        var patch = Patch()
        var charCount1 = 0
        var charCount2 = 0
        // Recreate the patches to determine context info.
        var prepatchText = text1
        var postpatchText = text1
        let margin = patchMargin
        for (x, diff) in diffs.enumerated() {
            let length = diff.text.count
            if patch.diffs.isEmpty && diff.operation != .equal {
                // A new patch starts here.
                patch.start1 = charCount1
                patch.start2 = charCount2
            }
            switch diff.operation {
            case .insert:
                patch.diffs.append(diff)
                patch.length2 += length
                DMPOps.splice(&postpatchText, charCount2, charCount2, diff.text)
            case .delete:
                patch.length1 += length
                patch.diffs.append(diff)
                DMPOps.splice(&postpatchText, charCount2, charCount2 + length, [])
            case .equal:
                if length <= 2 * margin && !patch.diffs.isEmpty && diffs.count != x + 1 {
                    // Small equality inside a patch.
                    patch.diffs.append(diff)
                    patch.length1 += length
                    patch.length2 += length
                }
            }
            if diff.operation == .equal && length >= 2 * margin {
                // Time for a new patch.
                if !patch.diffs.isEmpty {
                    patchAddContext(&patch, prepatchText)
                    patches.append(patch)
                    patch = Patch()
                    // Unlike Unidiff, the patch list has a rolling context.
                    prepatchText = postpatchText
                    charCount1 = charCount2
                }
            }
            if diff.operation != .insert { charCount1 += length }
            if diff.operation != .delete { charCount2 += length }
        }
        if !patch.diffs.isEmpty {
            patchAddContext(&patch, prepatchText)
            patches.append(patch)
        }
        return patches
    }

    /// Grows a patch's context until its pattern is unique in `text`, but not beyond
    /// ``matchMaxBits`` (Python's `patch_addContext`), then adds ``patchMargin`` more.
    /// - Parameters:
    ///   - patch: the patch to grow.
    ///   - text: the source text.
    public func patchAddContext(_ patch: inout Patch, _ text: [UInt32]) {
        if text.isEmpty { return }
        var pattern = DMPOps.slice(text, patch.start2, patch.start2 + patch.length1)
        var padding = 0
        // Look for the first and last matches of pattern in text; if they differ, widen.
        while DMPOps.find(text, pattern) != DMPOps.rfind(text, pattern)
            && (matchMaxBits == 0 || pattern.count < matchMaxBits - patchMargin - patchMargin)
        {
            if patchMargin <= 0 { break }  // Python would loop forever here.
            padding += patchMargin
            pattern = DMPOps.slice(text, max(0, patch.start2 - padding), patch.start2 + patch.length1 + padding)
        }
        // Add one chunk for good luck.
        padding += patchMargin
        let prefix = DMPOps.slice(text, max(0, patch.start2 - padding), patch.start2)
        if !prefix.isEmpty { patch.diffs.insert(Diff(.equal, prefix), at: 0) }
        let suffix = DMPOps.slice(text, patch.start2 + patch.length1, patch.start2 + patch.length1 + padding)
        if !suffix.isEmpty { patch.diffs.append(Diff(.equal, suffix)) }
        patch.start1 -= prefix.count
        patch.start2 -= prefix.count
        patch.length1 += prefix.count + suffix.count
        patch.length2 += prefix.count + suffix.count
    }

    // MARK: - Text form

    /// The text form of patches (Python's `patch_toText`): GNU diff-like hunks with
    /// percent-encoded bodies, exactly as Python writes them.
    /// - Parameter patches: the patches.
    /// - Returns: the patch text.
    public func patchToText(_ patches: [Patch]) -> String {
        DMPPatchText.toText(patches)
    }

    /// Parses the text form of patches (Python's `patch_fromText`). Body lines are decoded
    /// like `urllib.parse.unquote` (malformed `%` sequences stay literal, invalid UTF-8 becomes
    /// U+FFFD); blank lines are skipped.
    /// - Parameter text: the patch text.
    /// - Returns: the patches (none for an empty text).
    /// - Throws: ``PatchTextError`` for a malformed header, a header number above
    ///   ``DiffMatchPatch/maxPatchNumber`` or an unknown line prefix.
    public func patchFromText(_ text: String) throws(PatchTextError) -> [Patch] {
        try DMPPatchText.fromText(text)
    }

    // MARK: - Applying patches

    /// The code points Python pads texts with in `patch_apply`: 1, 2, …, `margin`.
    /// - Parameter margin: the padding length (``patchMargin``).
    /// - Returns: the padding.
    public static func nullPadding(margin: Int) -> [UInt32] {
        margin > 0 ? (1...margin).map { UInt32($0) } : []
    }

    /// `text` with ``nullPadding(margin:)`` on both ends, ready for
    /// ``patchApply(_:toPadded:)``.
    /// - Parameters:
    ///   - text: the text.
    ///   - margin: the padding length; use the instance's ``patchMargin``.
    /// - Returns: the padded text.
    public static func padded(_ text: [UInt32], margin: Int) -> [UInt32] {
        let padding = nullPadding(margin: margin)
        var result = [UInt32]()
        result.reserveCapacity(text.count + 2 * padding.count)
        result.append(contentsOf: padding)
        result.append(contentsOf: text)
        result.append(contentsOf: padding)
        return result
    }

    /// Removes `margin` code points from both ends (Python's `text[m:-m]` for `m > 0`;
    /// empty when the text is shorter than `2 * margin`).
    /// - Parameters:
    ///   - text: a padded text.
    ///   - margin: the padding length.
    /// - Returns: the text without its padding.
    public static func unpadded(_ text: [UInt32], margin: Int) -> [UInt32] {
        if margin <= 0 { return text }
        if text.count <= 2 * margin { return [] }
        return Array(text[margin..<(text.count - margin)])
    }

    /// Applies patches to a text (Python's `patch_apply`).
    ///
    /// Each hunk is located with ``matchMain(_:_:_:)`` near its expected place (shifted by
    /// the drift of the previous hunks); hunks that match imperfectly are applied through a
    /// diff of the expected and found text.
    ///
    /// Note: as in Python, a ``patchMargin`` of 0 makes the result text empty (Python strips
    /// the padding with `text[0:-0]`).
    /// - Parameters:
    ///   - patches: the patches.
    ///   - text: the text to patch.
    /// - Returns: the patched text and, for each hunk (after splitting long ones), whether it
    ///   was applied.
    public func patchApply(_ patches: [Patch], to text: String) -> (text: String, applied: [Bool]) {
        if patches.isEmpty { return (text, []) }
        let result = patchApply(patches, to: DMPCodePoints.from(text))
        return (DMPCodePoints.string(result.text), result.applied)
    }

    /// Applies patches to a code point array (Python's `patch_apply`).
    /// - Parameters:
    ///   - patches: the patches.
    ///   - text: the text to patch.
    /// - Returns: the patched text and the per-hunk results.
    public func patchApply(_ patches: [Patch], to text: [UInt32]) -> (text: [UInt32], applied: [Bool]) {
        if patches.isEmpty { return (text, []) }
        var buffer = Self.padded(text, margin: patchMargin)
        let applied = patchApply(patches, toPadded: &buffer)
        if patchMargin <= 0 { return ([], applied) }  // Python: text[0:-0] == ""
        return (Self.unpadded(buffer, margin: patchMargin), applied)
    }

    /// Applies patches in place to a text that already carries the null padding
    /// (``padded(_:margin:)`` with ``patchMargin``) at both ends. Same semantics as Python's
    /// `patch_apply` without the per-call padding copy: hunks are spliced with
    /// `replaceSubrange`, and a hunk found exactly where expected costs O(hunk) plus the
    /// splice. The padding stays in place; strip it with ``unpadded(_:margin:)``.
    /// - Parameters:
    ///   - patches: the patches.
    ///   - text: the padded text, patched in place.
    /// - Returns: for each hunk (after splitting long ones), whether it was applied.
    public func patchApply(_ patches: [Patch], toPadded text: inout [UInt32]) -> [Bool] {
        patchApply(patches, toPadded: &text, willSplice: nil)
    }

    /// ``patchApply(_:toPadded:)`` that also reports every splice before it is made: the text as it is,
    /// the range `start..<end` about to be replaced and the replacement (used to keep blame up to date).
    ///
    /// The reported splice is the effective one: `0 <= start <= end <= text.count`. (Python's slicing
    /// clamps out-of-range positions, and where a malformed patch makes it keep `text[q:p]` twice, that
    /// is reported as an insertion of `replacement + text[q..<p]` at `p`.)
    /// - Parameters:
    ///   - patches: the patches.
    ///   - text: the padded text, patched in place.
    ///   - willSplice: called before each change of `text`, or nil.
    /// - Returns: for each hunk (after splitting long ones), whether it was applied.
    public func patchApply(
        _ patches: [Patch], toPadded text: inout [UInt32],
        willSplice: ((_ text: [UInt32], _ start: Int, _ end: Int, _ replacement: [UInt32]) -> Void)?
    ) -> [Bool] {
        var exact = true
        return patchApply(patches, toPadded: &text, exact: &exact, willSplice: willSplice)
    }

    /// ``patchApply(_:toPadded:willSplice:)`` that also tells whether every hunk was found exactly where
    /// it was expected (`exact` stays true): then any port of diff-match-patch applies the same patches
    /// to the same text in the same way, without fuzzy matching.
    func patchApply(
        _ patches: [Patch], toPadded text: inout [UInt32], exact: inout Bool,
        willSplice: ((_ text: [UInt32], _ start: Int, _ end: Int, _ replacement: [UInt32]) -> Void)?
    ) -> [Bool] {
        if patches.isEmpty { return [] }
        // Python's `text = text[:p] + insert + text[q:]`, reported to willSplice as made.
        func splice(_ p: Int, _ q: Int, _ insert: [UInt32]) {
            let n = text.count
            let start = min(max(p, 0), n)
            let end = min(max(q, 0), n)
            if end >= start {
                willSplice?(text, start, end, insert)
                text.replaceSubrange(start..<end, with: insert)
            } else {
                let replacement = insert + text[end..<start]
                willSplice?(text, start, start, replacement)
                text.replaceSubrange(start..<start, with: replacement)
            }
        }
        var patches = patches
        patchAddPadding(&patches)
        patchSplitMax(&patches)
        let maxBits = matchMaxBits
        // delta: offset between the expected and actual location of the previous patch.
        var delta = 0
        var results = [Bool]()
        results.reserveCapacity(patches.count)
        for patch in patches {
            // Saturating sums: hand-made patches may carry any Int (parsed ones are bounded).
            let expectedLoc = DMPOps.add(patch.start2, delta)
            let text1 = diffText1(patch.diffs)
            var startLoc: Int
            var endLoc = -1
            if text1.count > maxBits {
                // patch_splitMax only leaves an oversized pattern for a monster delete.
                startLoc = matchMain(text, DMPOps.slice(text1, 0, maxBits), expectedLoc)
                if startLoc != -1 {
                    endLoc = matchMain(
                        text, DMPOps.slice(text1, -maxBits, text1.count), DMPOps.add(expectedLoc, text1.count - maxBits))
                    if endLoc == -1 || startLoc >= endLoc {
                        // Can't find valid trailing context. Drop this patch.
                        startLoc = -1
                    }
                }
            } else {
                startLoc = matchMain(text, text1, expectedLoc)
            }
            if startLoc == -1 {
                exact = false
                results.append(false)
                // Subtract the delta for this failed patch from subsequent patches.
                delta = DMPOps.subtract(delta, DMPOps.subtract(patch.length2, patch.length1))
                continue
            }
            results.append(true)
            delta = DMPOps.subtract(startLoc, expectedLoc)
            let foundRange =
                endLoc == -1
                ? DMPOps.sliceBounds(text.count, startLoc, startLoc + text1.count)
                : DMPOps.sliceBounds(text.count, startLoc, endLoc + maxBits)
            if text[foundRange].elementsEqual(text1) {
                // Perfect match, just shove the replacement text in.
                if startLoc != expectedLoc { exact = false }
                splice(startLoc, startLoc + text1.count, diffText2(patch.diffs))
                continue
            }
            exact = false
            // Imperfect match: diff to get a framework of equivalent indices.
            let text2 = Array(text[foundRange])
            var diffs = diffMain(text1, text2, checkLines: false)
            if text1.count > maxBits
                && Double(diffLevenshtein(diffs)) / Double(text1.count) > patchDeleteThreshold
            {
                // The end points match, but the content is unacceptably bad.
                results[results.count - 1] = false
                continue
            }
            diffCleanupSemanticLossless(&diffs)
            var index1 = 0
            for diff in patch.diffs {
                switch diff.operation {
                case .insert:
                    let index2 = diffXIndex(diffs, index1)
                    splice(startLoc + index2, startLoc + index2, diff.text)
                case .delete:
                    let index2 = diffXIndex(diffs, index1)
                    splice(startLoc + index2, startLoc + diffXIndex(diffs, index1 + diff.text.count), [])
                case .equal:
                    break
                }
                if diff.operation != .delete { index1 += diff.text.count }
            }
        }
        return results
    }

    /// Adds the null padding to the first and last patch so edges can match, shifting all
    /// patches by ``patchMargin`` (Python's `patch_addPadding`).
    /// - Parameter patches: the patches, changed in place.
    /// - Returns: the padding added on each side.
    @discardableResult
    public func patchAddPadding(_ patches: inout [Patch]) -> [UInt32] {
        let paddingLength = patchMargin
        let nullPadding = Self.nullPadding(margin: paddingLength)
        if patches.isEmpty { return nullPadding }  // Python raises an IndexError.
        // Saturating sums throughout: a start or length near Int.max (a hand-made patch; parsed ones are at
        // most ``maxPatchNumber``) must not trap.
        for i in patches.indices {
            patches[i].start1 = DMPOps.add(patches[i].start1, paddingLength)
            patches[i].start2 = DMPOps.add(patches[i].start2, paddingLength)
        }
        // Add some padding on start of first diff.
        if patches[0].diffs.isEmpty || patches[0].diffs[0].operation != .equal {
            patches[0].diffs.insert(Diff(.equal, nullPadding), at: 0)
            patches[0].start1 = DMPOps.subtract(patches[0].start1, paddingLength)
            patches[0].start2 = DMPOps.subtract(patches[0].start2, paddingLength)
            patches[0].length1 = DMPOps.add(patches[0].length1, paddingLength)
            patches[0].length2 = DMPOps.add(patches[0].length2, paddingLength)
        } else if paddingLength > patches[0].diffs[0].text.count {
            let firstLength = patches[0].diffs[0].text.count
            let extraLength = paddingLength - firstLength
            patches[0].diffs[0].text.insert(contentsOf: nullPadding[firstLength...], at: 0)
            patches[0].start1 = DMPOps.subtract(patches[0].start1, extraLength)
            patches[0].start2 = DMPOps.subtract(patches[0].start2, extraLength)
            patches[0].length1 = DMPOps.add(patches[0].length1, extraLength)
            patches[0].length2 = DMPOps.add(patches[0].length2, extraLength)
        }
        // Add some padding on end of last diff.
        let last = patches.count - 1
        if patches[last].diffs.isEmpty || patches[last].diffs[patches[last].diffs.count - 1].operation != .equal {
            patches[last].diffs.append(Diff(.equal, nullPadding))
            patches[last].length1 = DMPOps.add(patches[last].length1, paddingLength)
            patches[last].length2 = DMPOps.add(patches[last].length2, paddingLength)
        } else {
            let lastDiff = patches[last].diffs.count - 1
            let lastLength = patches[last].diffs[lastDiff].text.count
            if paddingLength > lastLength {
                let extraLength = paddingLength - lastLength
                patches[last].diffs[lastDiff].text.append(contentsOf: nullPadding[..<extraLength])
                patches[last].length1 = DMPOps.add(patches[last].length1, extraLength)
                patches[last].length2 = DMPOps.add(patches[last].length2, extraLength)
            }
        }
        return nullPadding
    }

    /// Splits patches longer than ``matchMaxBits`` into smaller ones (Python's
    /// `patch_splitMax`). Python's loop quirk is kept: only as many positions as there were
    /// patches on entry are visited, so a long patch that gets pushed past that range by the
    /// pieces of an earlier one stays unsplit. Where Python would raise (a vanished patch) or
    /// loop forever (margins that leave no room), this stops instead.
    /// - Parameter patches: the patches, changed in place.
    public func patchSplitMax(_ patches: inout [Patch]) {
        let patchSize = matchMaxBits
        if patchSize == 0 { return }
        let margin = patchMargin
        let originalCount = patches.count
        for visit in 0..<originalCount {
            guard visit < patches.count else { break }
            if patches[visit].length1 <= patchSize { continue }
            var x = visit
            let bigpatch = patches.remove(at: x)
            x -= 1
            var bigDiffs = bigpatch.diffs
            var bi = 0  // bigpatch.diffs[0] is bigDiffs[bi].
            var start1 = bigpatch.start1
            var start2 = bigpatch.start2
            var precontext = [UInt32]()
            while bi < bigDiffs.count {
                let progressMark = (bi, bigDiffs[bi].text.count)
                // Create one of several smaller patches.
                var patch = Patch()
                var empty = true
                // Saturating: the starts come from the patch (any Int when it is hand-made).
                patch.start1 = DMPOps.subtract(start1, precontext.count)
                patch.start2 = DMPOps.subtract(start2, precontext.count)
                if !precontext.isEmpty {
                    patch.length1 = precontext.count
                    patch.length2 = precontext.count
                    patch.diffs.append(Diff(.equal, precontext))
                }
                while bi < bigDiffs.count && patch.length1 < patchSize - margin {
                    let diffType = bigDiffs[bi].operation
                    let diffLength = bigDiffs[bi].text.count
                    if diffType == .insert {
                        // Insertions are harmless.
                        patch.length2 += diffLength
                        start2 = DMPOps.add(start2, diffLength)
                        patch.diffs.append(bigDiffs[bi])
                        bi += 1
                        empty = false
                    } else if diffType == .delete && patch.diffs.count == 1
                        && patch.diffs[0].operation == .equal && diffLength > 2 * patchSize
                    {
                        // This is a large deletion. Let it pass in one chunk.
                        patch.length1 += diffLength
                        start1 = DMPOps.add(start1, diffLength)
                        empty = false
                        patch.diffs.append(bigDiffs[bi])
                        bi += 1
                    } else {
                        // Deletion or equality. Only take as much as we can stomach.
                        let take = min(diffLength, patchSize - patch.length1 - margin)
                        let piece = Array(bigDiffs[bi].text[..<take])
                        patch.length1 += take
                        start1 = DMPOps.add(start1, take)
                        if diffType == .equal {
                            patch.length2 += take
                            start2 = DMPOps.add(start2, take)
                        } else {
                            empty = false
                        }
                        patch.diffs.append(Diff(diffType, piece))
                        if take == diffLength {
                            bi += 1
                        } else {
                            bigDiffs[bi].text.removeFirst(take)
                        }
                    }
                }
                // Compute the head context for the next patch.
                precontext = DMPOps.tail(diffText2(patch.diffs), margin)
                // Append the end context for this patch: diff_text1(bigpatch.diffs)[:margin].
                var postcontext = [UInt32]()
                var k = bi
                while k < bigDiffs.count && postcontext.count < margin {
                    if bigDiffs[k].operation != .insert {
                        postcontext.append(contentsOf: bigDiffs[k].text.prefix(margin - postcontext.count))
                    }
                    k += 1
                }
                if !postcontext.isEmpty {
                    patch.length1 += postcontext.count
                    patch.length2 += postcontext.count
                    if let lastIndex = patch.diffs.indices.last, patch.diffs[lastIndex].operation == .equal {
                        patch.diffs[lastIndex].text.append(contentsOf: postcontext)
                    } else {
                        patch.diffs.append(Diff(.equal, postcontext))
                    }
                }
                if !empty {
                    x += 1
                    patches.insert(patch, at: x)
                }
                if bi < bigDiffs.count && (bi, bigDiffs[bi].text.count) == progressMark {
                    break  // No progress possible: Python would loop forever.
                }
            }
        }
    }
}
