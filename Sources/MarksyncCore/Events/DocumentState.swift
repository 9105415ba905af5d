/// Why an event cannot be applied to a document state. `code` is a stable reason code (the wire
/// protocol's `nack` reasons use the same names).
public struct ApplyError: Error, Equatable, CustomStringConvertible {
    /// A stable reason code: `unknown_block`, `block_exists`, `bad_patch`, `patch_failed`,
    /// `hash_mismatch`, `bad_index`, `length_mismatch`.
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}

/// The document as of one seq: the projection of the log that every other view is made from.
///
/// Block contents are kept as arrays of code points with diff-match-patch's null padding at both ends, so a
/// patch is applied in place in O(patch) for clean hunks instead of O(document).
public struct DocumentState: Sendable, Equatable {
    /// One block of the state.
    public struct Block: Sendable, Equatable {
        public var id: String
        public var header: BlockHeader
        /// The content as code points, padded with `1…patchMargin` at both ends, in a gap buffer.
        var padded: ScalarBuffer
        public var bodyIsOneEmptyLine: Bool
        /// The seq of the event that created the block.
        public var createdSeq: Int
        /// The seq of the last event that changed the content (the block's version).
        public var versionSeq: Int
        /// Which event last changed each line (over the padded text: padding holds no newline).
        public internal(set) var lines: LineVersions

        /// The content length in code points.
        public var length: Int { padded.count - 2 * DocumentState.padding }

        /// The content as code points.
        public var scalars: [UInt32] { padded.scalars(DocumentState.padding..<(padded.count - DocumentState.padding)) }

        /// The content.
        public var content: String { String(decoding: utf8, as: UTF8.self) }

        /// The sha256 of the content (UTF-8).
        public var sha256: String { SHA256.hexDigest(of: utf8) }

        /// The content as UTF-8 (without making a string of it first).
        var utf8: [UInt8] { padded.utf8(DocumentState.padding..<(padded.count - DocumentState.padding)) }

        init(id: String, header: BlockHeader, content: String, bodyIsOneEmptyLine: Bool, seq: Int) {
            self.id = id
            self.header = header
            self.padded = ScalarBuffer(DocumentState.pad(DMPCodePoints.from(content)))
            self.bodyIsOneEmptyLine = bodyIsOneEmptyLine && content.isEmpty
            self.createdSeq = seq
            self.versionSeq = seq
            self.lines = LineVersions(text: padded, seq: seq)
        }

        /// The block as a ``MarkpactBlock``. When the content holds a line that would close the fence, the
        /// rendered fence is made longer, so content never spills into the prose.
        public var markpactBlock: MarkpactBlock {
            var block = MarkpactBlock(
                id: id, kind: header.kind, lang: header.lang, meta: header.meta, path: header.path, headerStyle: header.style,
                openingLine: header.openingLine, closingLine: header.closingLine, content: "",
                bodyIsOneEmptyLine: bodyIsOneEmptyLine)
            if length > 0 { block.setContent(content) }
            return block
        }
    }

    /// diff-match-patch's padding length (its Patch_Margin).
    static let padding = 4
    static let dmp = DiffMatchPatch()

    static func pad(_ scalars: [UInt32]) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(scalars.count + 2 * padding)
        out.append(contentsOf: (1...UInt32(padding)))
        out.append(contentsOf: scalars)
        out.append(contentsOf: (1...UInt32(padding)))
        return out
    }

    /// Whether a padded text still starts and ends with the null padding. A hostile patch can make
    /// diff-match-patch's fuzzy apply splice into the padding (Python then strips `text[4:-4]` blindly); the
    /// blame tracker and the Yjs projection assume the padding is never changed, so such a patch is refused.
    static func paddingIsIntact(_ text: ScalarBuffer) -> Bool {
        guard text.count >= 2 * padding else { return false }
        for k in 0..<padding where text[k] != UInt32(k + 1) || text[text.count - padding + k] != UInt32(k + 1) { return false }
        return true
    }

    /// The seq of the last event applied (0 for the empty document).
    public var seq: Int = 0
    /// The blocks in document order.
    public internal(set) var blocks: [Block] = []
    /// Block id → its index in `blocks`, kept in step with it, so finding a block is O(1) (ingesting a
    /// README of n blocks was O(n²) with a linear search per new block).
    var positions: [String: Int] = [:]
    /// The prose segments; `prose.count == blocks.count + 1`.
    public internal(set) var prose: [String] = [""]
    /// The line ending the README is written with.
    public internal(set) var lineEnding: MarkpactDocument.LineEnding = .lf

    /// The empty document.
    public init() {}

    /// The index of a block.
    public func index(ofBlock id: String) -> Int? {
        if let index = positions[id], index < blocks.count, blocks[index].id == id { return index }
        if positions.count == blocks.count { return nil }
        return blocks.firstIndex { $0.id == id }  // only if `positions` were not kept (never expected)
    }

    /// Brings `positions` up to date for the blocks from `start` on.
    mutating func reindexBlocks(from start: Int) {
        for index in start..<blocks.count { positions[blocks[index].id] = index }
    }

    /// A block by id.
    public func block(_ id: String) -> Block? { index(ofBlock: id).map { blocks[$0] } }

    /// The manifest: block id → sha256.
    public var manifest: [String: String] {
        Dictionary(blocks.map { ($0.id, $0.sha256) }, uniquingKeysWith: { first, _ in first })
    }

    /// The state as a ``MarkpactDocument`` (for rendering and block tables).
    public var document: MarkpactDocument {
        MarkpactDocument(blocks: blocks.map(\.markpactBlock), prose: prose, lineEnding: lineEnding)
    }

    /// The README text at this seq.
    public func render() -> String { document.render() }

    // MARK: - Applying events

    /// Applies one stored event (replay). On error the state is unchanged, except when a multi-purpose check
    /// finds that a single-hunk patch gives another length than recorded: then the log is corrupt and the
    /// state must be thrown away. With `verifying`, recorded sha256 values are checked too (O(block size)).
    public mutating func apply(_ body: EventBody, seq newSeq: Int, verifying: Bool = false) throws(ApplyError) {
        switch body {
        case .blockCreated(let created):
            guard index(ofBlock: created.blockID) == nil else {
                throw ApplyError("block_exists", "block \(created.blockID) already exists")
            }
            guard created.index >= 0, created.index <= blocks.count else {
                throw ApplyError("bad_index", "position \(created.index) is outside 0…\(blocks.count)")
            }
            if let before = created.proseBefore { prose[created.index] = before }
            blocks.insert(
                Block(
                    id: created.blockID, header: created.header, content: created.content,
                    bodyIsOneEmptyLine: created.bodyIsOneEmptyLine, seq: newSeq), at: created.index)
            reindexBlocks(from: created.index)
            prose.insert(created.proseAfter, at: created.index + 1)

        case .blockPatched(let id, let patchText, let resultLength, let resultSHA256):
            let patches: [Patch]
            do { patches = try Self.dmp.patchFromText(patchText) } catch {
                throw ApplyError("bad_patch", "the patch text cannot be parsed: \(error)")
            }
            try applyStoredPatch(blockID: id, patches: patches, resultLength: resultLength, resultSHA256: resultSHA256, seq: newSeq, verifying: verifying)
        case .blockReplaced(let id, let content):
            let i = try existingIndex(id)
            let replacement = Self.pad(DMPCodePoints.from(content))
            blocks[i].lines.replace(blocks[i].padded.array, with: replacement, seq: newSeq, margin: Self.padding)
            blocks[i].padded = ScalarBuffer(replacement)
            blocks[i].bodyIsOneEmptyLine = false
            blocks[i].versionSeq = newSeq

        case .blockDeleted(let id):
            let i = try existingIndex(id)
            deleteBlock(at: i)

        case .blockHeaderChanged(let id, let header):
            let i = try existingIndex(id)
            blocks[i].header = header

        case .proseEdited(let i, let text):
            guard i >= 0, i < prose.count else { throw ApplyError("bad_index", "prose segment \(i) does not exist") }
            prose[i] = text

        case .lineEndingChanged(let ending):
            lineEnding = ending

        case .reviewNote, .deployResult:
            break
        }
        seq = newSeq
    }

    /// Applies a stored patch event given as hunks (the replay path; see ``EventCodec/decodePatchFast(_:)``).
    public mutating func applyStoredPatch(
        blockID id: String, patches: [Patch], resultLength: Int, resultSHA256: String?, seq newSeq: Int, verifying: Bool = false
    ) throws(ApplyError) {
        var exact = true
        try applyStoredPatch(
            blockID: id, patches: patches, resultLength: resultLength, resultSHA256: resultSHA256, seq: newSeq, verifying: verifying,
            exact: &exact)
    }

    /// ``applyStoredPatch(blockID:patches:resultLength:resultSHA256:seq:verifying:)`` that also tells whether
    /// every hunk applied exactly where expected.
    mutating func applyStoredPatch(
        blockID id: String, patches: [Patch], resultLength: Int, resultSHA256: String?, seq newSeq: Int, verifying: Bool,
        exact: inout Bool
    ) throws(ApplyError) {
        let i = try existingIndex(id)
        let halfApplies = Self.mayHalfApply(patches)
        let saved = halfApplies ? blocks[i].padded : nil
        let savedLines = halfApplies ? blocks[i].lines : nil
        var splices = blocks[i].lines.splices(margin: Self.padding)
        let applied = Self.apply(patches, to: &blocks[i].padded, recording: &splices, exact: &exact)
        blocks[i].lines.apply(splices, to: blocks[i].padded, seq: newSeq)
        if applied.contains(false) {
            // A single failed hunk changes nothing; several hunks may have half-applied.
            if let saved, let savedLines {
                blocks[i].padded = saved
                blocks[i].lines = savedLines
            }
            let failed = applied.enumerated().filter { !$0.element }.map { String($0.offset + 1) }
            throw ApplyError("patch_failed", "hunk \(failed.joined(separator: ", ")) of the patch did not apply to \(id)")
        }
        if blocks[i].length != resultLength || (verifying && resultSHA256 != nil && blocks[i].sha256 != resultSHA256) {
            let mismatch = blocks[i].length != resultLength ? "length_mismatch" : "hash_mismatch"
            // Undo: the patch applied but does not give the recorded result.
            if let saved, let savedLines {
                blocks[i].padded = saved
                blocks[i].lines = savedLines
            } else {
                throw ApplyError(mismatch, "the patch gives a different \(id) than recorded (state left patched)")
            }
            throw ApplyError(mismatch, "the patch gives a different \(id) than recorded")
        }
        blocks[i].bodyIsOneEmptyLine = false
        blocks[i].versionSeq = newSeq

        seq = newSeq
    }

    /// How a committed patch event is passed on to subscribers in sync with the state it applied to.
    public enum PatchRelay: Sendable, Equatable {
        /// The stored patch text can be sent as it is: one hunk whose text sits exactly where the hunk
        /// says, with at least the padding of context at both ends, which every diff-match-patch port
        /// applies the same way (no fuzzy match, no split).
        case verbatim
        /// A patch must be computed from this content (the block before the event) to the new one.
        case recompute(oldContent: String)
    }

    /// Applies a stored patch event like ``apply(_:seq:verifying:)`` and tells how to relay it (the fan-out
    /// path: it avoids converting the block to a string and diffing it for the usual one-hunk edit).
    public mutating func applyPatchForRelay(
        blockID id: String, patchText: String, resultLength: Int, resultSHA256: String?, seq newSeq: Int
    ) throws(ApplyError) -> PatchRelay {
        let i = try existingIndex(id)
        let patches: [Patch]
        do { patches = try Self.dmp.patchFromText(patchText) } catch {
            throw ApplyError("bad_patch", "the patch text cannot be parsed: \(error)")
        }
        if Self.cleanSplice(patches, in: blocks[i].padded) != nil {
            try applyStoredPatch(blockID: id, patches: patches, resultLength: resultLength, resultSHA256: resultSHA256, seq: newSeq)
            return .verbatim
        }
        // The block before (a reference: the buffer is copied when the patch writes to it).
        let before = blocks[i]
        var exact = true
        try applyStoredPatch(
            blockID: id, patches: patches, resultLength: resultLength, resultSHA256: resultSHA256, seq: newSeq, verifying: false,
            exact: &exact)
        return exact ? .verbatim : .recompute(oldContent: before.content)
    }

    /// Applies a block patch with the caller's expectations checked first (the write path): fails with
    /// `patch_failed` when a hunk does not apply and `hash_mismatch` when `expectedSHA256` differs; the
    /// state is unchanged on error. Returns the body to store (with the result length and sha).
    public mutating func applyPatch(blockID: String, patchText: String, expectedSHA256: String?, seq newSeq: Int)
        throws(ApplyError) -> EventBody
    {
        let i = try existingIndex(blockID)
        let patches: [Patch]
        do { patches = try Self.dmp.patchFromText(patchText) } catch {
            throw ApplyError("bad_patch", "the patch text cannot be parsed: \(error)")
        }
        // Patched in place; a copy is kept only when a failure could leave the block half-patched, the
        // result must be checked against a sha first, or the patch goes through diff-match-patch (which copies
        // the text anyway) and might splice into the padding.
        let clean = Self.cleanSplice(patches, in: blocks[i].padded) != nil
        let saved = Self.mayHalfApply(patches) || expectedSHA256 != nil || !clean ? blocks[i].padded : nil
        var splices = blocks[i].lines.splices(margin: Self.padding)
        let applied = Self.apply(patches, to: &blocks[i].padded, recording: &splices)
        guard !applied.contains(false) else {
            if let saved { blocks[i].padded = saved }
            throw ApplyError("patch_failed", "the patch does not apply to the current content of \(blockID)")
        }
        // A clean splice never touches the padding; a fuzzy apply of a hostile patch may, and then the blame
        // recorder and the Yjs projection (which strip the padding from each splice) cannot follow it.
        guard clean || (splices.keptPadding && Self.paddingIsIntact(blocks[i].padded)) else {
            if let saved { blocks[i].padded = saved }
            throw ApplyError("patch_failed", "the patch reaches outside the current content of \(blockID)")
        }
        var sha: String?
        if let expectedSHA256 {
            sha = blocks[i].sha256
            guard sha == expectedSHA256 else {
                if let saved { blocks[i].padded = saved }
                throw ApplyError("hash_mismatch", "the patched \(blockID) does not have the sha256 the writer expected")
            }
        }
        blocks[i].lines.apply(splices, to: blocks[i].padded, seq: newSeq)
        blocks[i].bodyIsOneEmptyLine = false
        blocks[i].versionSeq = newSeq
        seq = newSeq
        return .blockPatched(blockID: blockID, patch: patchText, resultLength: blocks[i].length, resultSHA256: sha)
    }

    /// Applies patches with Python's `patch_apply` semantics. One clean hunk (context on both sides, found
    /// exactly where expected: what typing produces) is spliced into the gap buffer directly; anything else
    /// goes through diff-match-patch on a contiguous copy. Every splice is recorded for blame.
    static func apply(_ patches: [Patch], to text: inout ScalarBuffer, recording splices: inout LineSplices) -> [Bool] {
        var exact = true
        return apply(patches, to: &text, recording: &splices, exact: &exact)
    }

    /// ``apply(_:to:recording:)`` that also tells whether every hunk was found exactly where expected.
    static func apply(_ patches: [Patch], to text: inout ScalarBuffer, recording splices: inout LineSplices, exact: inout Bool) -> [Bool] {
        if let (range, replacement) = cleanSplice(patches, in: text) {
            splices.record(text, start: range.lowerBound, end: range.upperBound, replacement: replacement)
            text.replace(range, with: replacement)
            return [true]
        }
        var recorder = splices
        var allExact = true
        defer {
            splices = recorder
            exact = exact && allExact
        }
        return text.withContiguous { array in
            dmp.patchApply(patches, toPadded: &array, exact: &allExact) { current, start, end, replacement in
                recorder.record(current, start: start, end: end, replacement: replacement)
            }
        }
    }

    /// The splice of a single hunk that Python's `patch_apply` would make through its exact-match path:
    /// an equality of at least the padding length at both ends (so padding only shifts it), short enough
    /// not to be split, and its text found exactly at the expected place. Nil when any condition fails.
    static func cleanSplice(_ patches: [Patch], in text: ScalarBuffer) -> (Range<Int>, [UInt32])? {
        guard patches.count == 1, let patch = patches.first, patch.length1 <= dmp.matchMaxBits,
            let first = patch.diffs.first, first.operation == .equal, first.text.count >= padding,
            let last = patch.diffs.last, last.operation == .equal, last.text.count >= padding
        else { return nil }
        let text1 = dmp.diffText1(patch.diffs)
        // Checked sums: a hand-made or damaged stored hunk may carry any Int.
        let (location, o1) = patch.start2.addingReportingOverflow(padding)
        guard !o1, !text1.isEmpty, text.count != text1.count, location >= 0, location <= text.count - text1.count else { return nil }
        for k in 0..<text1.count where text[location + k] != text1[k] { return nil }
        return (location..<(location + text1.count), dmp.diffText2(patch.diffs))
    }

    /// Whether applying these patches can fail after changing the text: several hunks, or one long
    /// enough for diff-match-patch to split it (Match_MaxBits less the padding on both sides).
    static func mayHalfApply(_ patches: [Patch]) -> Bool {
        patches.count > 1 || patches.contains { $0.length1 > dmp.matchMaxBits - 2 * padding }
    }


    private func existingIndex(_ id: String) throws(ApplyError) -> Int {
        guard let i = index(ofBlock: id) else { throw ApplyError("unknown_block", "block \(id) does not exist") }
        return i
    }

    /// Removes block `i` and joins the prose around it: the closing fence's line terminator goes with the
    /// block, and when both sides leave a blank line, one blank line is kept.
    mutating func deleteBlock(at i: Int) {
        prose[i] = Self.joinedProse(prose[i], prose[i + 1])
        prose.remove(at: i + 1)
        positions[blocks[i].id] = nil
        blocks.remove(at: i)
        reindexBlocks(from: i)
    }

    /// The prose left where a block was removed, from the segments before and after it (the Yjs
    /// projection joins them the same way).
    static func joinedProse(_ before: String, _ after: String) -> String {
        var after = after
        if after.hasPrefix("\n") { after.removeFirst() }
        if before.hasSuffix("\n\n"), after.hasPrefix("\n") { after.removeFirst() }
        return before + after
    }
}
