import Testing

@testable import MarksyncCore

// The allocation-light fast paths: patchApply(_:toPadded:) and patchMake(forEditIn:...).

/// A small deterministic generator (DMPTestRandom).
private struct DMPTestRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func cp(_ string: String) -> [UInt32] { DMPCodePoints.from(string) }

private let sampleAlphabet: [UInt32] = cp("abcdefghij klmnop\n\t.,;%+#?&é😀𝄞\u{301}")

private func randomText(_ count: Int, _ rng: inout DMPTestRandom) -> [UInt32] {
    (0..<count).map { _ in sampleAlphabet[Int.random(in: 0..<sampleAlphabet.count, using: &rng)] }
}

@Suite("diff-match-patch: fast paths")
struct DiffMatchPatchFastPathTests {
    @Test func paddingHelpers() {
        #expect(DiffMatchPatch.padded(cp("ab"), margin: 4) == [1, 2, 3, 4, 0x61, 0x62, 1, 2, 3, 4])
        #expect(DiffMatchPatch.unpadded([1, 2, 3, 4, 0x61, 0x62, 1, 2, 3, 4], margin: 4) == cp("ab"))
        #expect(DiffMatchPatch.unpadded([1, 2, 3], margin: 4) == [])
        #expect(DiffMatchPatch.padded(cp("ab"), margin: 0) == cp("ab"))
        #expect(DiffMatchPatch.nullPadding(margin: 2) == [1, 2])
    }

    @Test func paddedApplyMatchesStringApplyOnGoldenCases() throws {
        let vectors = try DMPGoldenVectors.shared.get()
        var failures = DMPGoldenFailures("patchApply(_:toPadded:) vs patchApply(_:to:)")
        for (index, c) in vectors.apply.enumerated() {
            let dmp = c.settings.make()
            guard let patches = try? dmp.patchFromText(vectors.patch[c.patchIndex].patchText) else {
                failures.check(false, index, "patch text does not parse")
                continue
            }
            let stringResult = dmp.patchApply(patches, to: c.target)
            var buffer = DiffMatchPatch.padded(cp(c.target), margin: dmp.patchMargin)
            let flags = dmp.patchApply(patches, toPadded: &buffer)
            let text = dmp.patchMargin > 0 ? DiffMatchPatch.unpadded(buffer, margin: dmp.patchMargin) : []
            failures.check(
                flags == stringResult.applied && text == cp(stringResult.text) && text == cp(c.resultText)
                    && flags == c.flags, index,
                "target \(dmpExcerpt(c.target)): padded gave \(dmpExcerpt(DMPCodePoints.string(text))) \(flags), expected \(dmpExcerpt(c.resultText)) \(c.flags)"
            )
        }
        failures.finish()
    }

    @Test func spliceReportsReplayToTheSameText() throws {
        // Every change reported to willSplice is valid for the text as it is, and replaying the
        // reported splices on a copy gives the patched text.
        let vectors = try DMPGoldenVectors.shared.get()
        var failures = DMPGoldenFailures("patchApply(_:toPadded:willSplice:)")
        for (index, c) in vectors.apply.enumerated() {
            let dmp = c.settings.make()
            guard let patches = try? dmp.patchFromText(vectors.patch[c.patchIndex].patchText) else { continue }
            var buffer = DiffMatchPatch.padded(cp(c.target), margin: dmp.patchMargin)
            var replay = buffer
            var valid = true
            let flags = dmp.patchApply(patches, toPadded: &buffer) { text, start, end, replacement in
                if text != replay || start < 0 || start > end || end > text.count { valid = false }
                guard valid else { return }
                replay.replaceSubrange(start..<end, with: replacement)
            }
            failures.check(
                valid && replay == buffer && flags == c.flags, index, "reported splices do not rebuild the text")
        }
        failures.finish()
    }

    @Test func editPatchEdgeCases() {
        let dmp = DiffMatchPatch()
        // No change.
        #expect(dmp.patchMake(forEditIn: cp("abc"), at: 1, deleting: 0, inserting: []).isEmpty)
        // Empty document.
        let first = dmp.patchMake(forEditIn: [], at: 0, deleting: 0, inserting: cp("x"))
        #expect(dmp.patchToText(first) == "@@ -0,0 +1 @@\n+x\n")
        #expect(first == dmp.patchMake("", "x"))
        // Edges of the document.
        let start = dmp.patchMake(forEditIn: cp("hello world"), at: 0, deleting: 1, inserting: cp("J"))
        #expect(dmp.patchToText(start) == "@@ -1,5 +1,5 @@\n-h\n+J\n ello\n")
        let end = dmp.patchMake(forEditIn: cp("hello world"), at: 11, deleting: 0, inserting: cp("!"))
        #expect(dmp.patchToText(end) == "@@ -8,4 +8,5 @@\n orld\n+!\n")
        // Out-of-range arguments are clamped.
        let clamped = dmp.patchMake(forEditIn: cp("abc"), at: 10, deleting: 5, inserting: cp("d"))
        #expect(dmp.patchToText(clamped) == "@@ -1,3 +1,4 @@\n abc\n+d\n")
    }

    @Test func editPatchEqualsPatchMakeWithDiffsWhenNoWidening() {
        // patch_make(text, [equal, delete, insert, equal]) only differs by the uniqueness
        // widening of patch_addContext; when that loop does not run, the patches are equal.
        let dmp = DiffMatchPatch()
        var rng = DMPTestRandom(state: 42)
        var compared = 0
        var insertionsChecked = 0
        for _ in 0..<3000 {
            let text = randomText(Int.random(in: 0..<200, using: &rng), &rng)
            let position = Int.random(in: 0...text.count, using: &rng)
            let count = Int.random(in: 0...min(6, text.count - position), using: &rng)
            let inserted = Int.random(in: 0..<3, using: &rng) == 0 ? [] : randomText(Int.random(in: 1...4, using: &rng), &rng)
            if count == 0 && inserted.isEmpty { continue }
            let fast = dmp.patchMake(forEditIn: text, at: position, deleting: count, inserting: inserted)
            var diffs = [Diff]()
            if position > 0 { diffs.append(Diff(.equal, Array(text[..<position]))) }
            if count > 0 { diffs.append(Diff(.delete, Array(text[position..<(position + count)]))) }
            if !inserted.isEmpty { diffs.append(Diff(.insert, inserted)) }
            if position + count < text.count { diffs.append(Diff(.equal, Array(text[(position + count)...]))) }
            let reference = dmp.patchMake(text, diffs: diffs)
            let pattern = Array(text[position..<(position + count)])
            let unique = DMPOps.find(text, pattern) == DMPOps.rfind(text, pattern)
            let widens = !text.isEmpty && !unique && pattern.count < dmp.matchMaxBits - 2 * dmp.patchMargin
            if !widens {
                #expect(fast == reference, "edit at \(position) -\(count) +\(inserted.count) in \(text.count) chars")
                compared += 1
            } else if count == 0 {
                // Pure insertion: Python widens the context; both patches still apply the same.
                var expected = text
                expected.insert(contentsOf: inserted, at: position)
                #expect(dmp.patchApply(fast, to: text).text == expected)
                #expect(dmp.patchApply(reference, to: text).text == expected)
                insertionsChecked += 1
            }
        }
        #expect(compared > 500)
        #expect(insertionsChecked > 100)
    }

    @Test func editPatchEqualsPatchMakeOfTexts() {
        // For edits whose deleted text is unique (no widening) and that diff_main finds as one
        // edit, the fast patch equals patch_make(a, b).
        let dmp = DiffMatchPatch()
        var rng = DMPTestRandom(state: 7)
        let words = ["alpha", "beta", "gamma", "delta", "😀", "é", "x", "yz", "\n", "% ", "#?"]
        var compared = 0
        for _ in 0..<3000 {
            var text = [UInt32]()
            for _ in 0..<Int.random(in: 1..<40, using: &rng) {
                text.append(contentsOf: cp(words[Int.random(in: 0..<words.count, using: &rng)]))
                text.append(0x20)
            }
            let position = Int.random(in: 0...text.count, using: &rng)
            let count = Int.random(in: 1...max(1, min(4, text.count - position)), using: &rng)
            guard position + count <= text.count else { continue }
            let inserted = Int.random(in: 0..<2, using: &rng) == 0 ? [] : cp("Q")
            let pattern = Array(text[position..<(position + count)])
            guard DMPOps.find(text, pattern) == DMPOps.rfind(text, pattern) else { continue }
            var edited = text
            edited.replaceSubrange(position..<(position + count), with: inserted)
            var editDiffs = [Diff]()
            if position > 0 { editDiffs.append(Diff(.equal, Array(text[..<position]))) }
            editDiffs.append(Diff(.delete, pattern))
            if !inserted.isEmpty { editDiffs.append(Diff(.insert, inserted)) }
            if position + count < text.count { editDiffs.append(Diff(.equal, Array(text[(position + count)...]))) }
            var diffs = dmp.diffMain(text, edited)
            if diffs.count > 2 {
                dmp.diffCleanupSemantic(&diffs)
                dmp.diffCleanupEfficiency(&diffs)
            }
            guard diffs == editDiffs else { continue }
            let fast = dmp.patchMake(forEditIn: text, at: position, deleting: count, inserting: inserted)
            #expect(fast == dmp.patchMake(text, edited), "edit at \(position) of \(DMPCodePoints.string(text).debugDescription)")
            compared += 1
        }
        #expect(compared > 300)
    }

    @Test func replayOfSingleCharacterEdits() throws {
        // The benchmark's loop: make the patch text for one edit, parse it, apply it in place.
        let dmp = DiffMatchPatch()
        var rng = DMPTestRandom(state: 2024)
        var document = [UInt32]()
        var buffer = DiffMatchPatch.padded([], margin: dmp.patchMargin)
        var cursor = 0
        for step in 0..<3000 {
            if Int.random(in: 0..<10, using: &rng) == 0 { cursor = Int.random(in: 0...document.count, using: &rng) }
            cursor = min(cursor, document.count)
            let delete = cursor > 0 && Int.random(in: 0..<5, using: &rng) == 0
            let position = delete ? cursor - 1 : cursor
            let inserted: [UInt32] = delete ? [] : [sampleAlphabet[Int.random(in: 0..<sampleAlphabet.count, using: &rng)]]
            let patches = dmp.patchMake(forEditIn: document, at: position, deleting: delete ? 1 : 0, inserting: inserted)
            let fromPadded = dmp.patchMake(
                forEditInPadded: buffer, at: position, deleting: delete ? 1 : 0, inserting: inserted)
            #expect(fromPadded == patches, "step \(step)")
            let text = dmp.patchToText(patches)
            let parsed = try dmp.patchFromText(text)
            #expect(parsed == patches, "step \(step)")
            let flags = dmp.patchApply(parsed, toPadded: &buffer)
            #expect(flags == [true], "step \(step): \(text.debugDescription)")
            document.replaceSubrange(position..<(position + (delete ? 1 : 0)), with: inserted)
            cursor = position + inserted.count
        }
        #expect(DiffMatchPatch.unpadded(buffer, margin: dmp.patchMargin) == document)
    }
}
