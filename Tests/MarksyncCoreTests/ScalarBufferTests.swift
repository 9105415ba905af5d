import Testing

@testable import MarksyncCore

struct ScalarBufferTests {
    /// Random replacements on a gap buffer and on a plain array give the same code points.
    @Test func behavesLikeAnArray() {
        var random = SplitMix64(seed: 11)
        var reference: [UInt32] = (0..<50).map { UInt32($0) }
        var buffer = ScalarBuffer(reference)
        for round in 0..<5_000 {
            let start = Int(random.next() % UInt64(reference.count + 1))
            let end = start + Int(random.next() % UInt64(min(8, reference.count - start) + 1))
            let insert = (0..<Int(random.next() % 6)).map { _ in UInt32(random.next() % 1000) }
            reference.replaceSubrange(start..<end, with: insert)
            buffer.replace(start..<end, with: insert)
            if round % 97 == 0 {
                buffer.withContiguous { array in
                    #expect(array == reference)
                    array.append(7)
                }
                reference.append(7)
            }
            #expect(buffer.count == reference.count)
            #expect(buffer.array == reference, "round \(round)")
            if buffer.array != reference { return }
        }
        let lo = reference.count / 3
        #expect(buffer.scalars(lo..<(2 * lo)) == Array(reference[lo..<(2 * lo)]))
        #expect(buffer == ScalarBuffer(reference))
    }

    /// The clean-hunk fast path gives what diff-match-patch gives, on every kind of single-hunk edit.
    @Test func cleanSpliceMatchesDiffMatchPatch() throws {
        var random = SplitMix64(seed: 12)
        let dmp = DiffMatchPatch()
        let alphabet = Array("abc \n😀é".unicodeScalars.map(\.value))
        var taken = 0
        for _ in 0..<3_000 {
            let text = (0..<Int(random.next() % 60)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let position = Int(random.next() % UInt64(text.count + 1))
            let deleting = Int(random.next() % UInt64(min(5, text.count - position) + 1))
            let inserting = (0..<Int(random.next() % 4)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let patches = dmp.patchMake(forEditIn: text, at: position, deleting: deleting, inserting: inserting)
            var expected = DiffMatchPatch.padded(text, margin: 4)
            let flags = dmp.patchApply(patches, toPadded: &expected)
            var buffer = ScalarBuffer(DiffMatchPatch.padded(text, margin: 4))
            var splices = LineVersions(text: buffer, seq: 1).splices(margin: 4)
            if DocumentState.cleanSplice(patches, in: buffer) != nil { taken += 1 }
            let applied = DocumentState.apply(patches, to: &buffer, recording: &splices)
            #expect(applied == flags)
            #expect(buffer.array == expected)
        }
        #expect(taken > 1_000, "the fast path was taken only \(taken) times")
    }
}
