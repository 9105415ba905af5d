extension DocumentState {
    /// The events that turn this state into `target`, in the order they must be applied: deleted and
    /// moved blocks go first, then new blocks and content or header changes in document order, then prose
    /// edits and the line ending. Content changes are patches when the patch text is under 80 % of the new
    /// content's size, else full replacements. Applying the events to this state gives a state whose
    /// ``render()`` equals `target.render()`.
    public func changes(to target: MarkpactDocument) -> [EventBody] {
        var work = self
        var events = [EventBody]()
        let creating = blocks.isEmpty && prose == [""]
        func emit(_ body: EventBody) {
            // The bodies are built from `work` itself, so they always apply.
            do { try work.apply(body, seq: work.seq) } catch { preconditionFailure("ingest diff produced \(body): \(error)") }
            events.append(body)
        }

        // A new document reads top to bottom: its opening prose comes first.
        if creating, !target.prose[0].isEmpty {
            events.append(.proseEdited(index: 0, text: target.prose[0]))
            do { try work.apply(events[0], seq: work.seq) } catch { preconditionFailure("\(error)") }
        }

        // 1. Blocks that are gone, or that moved (not on the longest common ordering), are deleted.
        let targetIDs = target.blocks.map(\.id)
        let targetSet = Set(targetIDs)
        let currentIDs = blocks.map(\.id)
        let currentSet = Set(currentIDs)
        let kept = Set(Self.longestCommonSubsequence(currentIDs.filter(targetSet.contains), targetIDs.filter(currentSet.contains)))
        for id in currentIDs where !kept.contains(id) { emit(.blockDeleted(blockID: id)) }

        // 2. New blocks, header and content changes, in target order.
        for (index, wanted) in target.blocks.enumerated() {
            let present = index < work.blocks.count && work.blocks[index].id == wanted.id
            if present, work.blocks[index].bodyIsOneEmptyLine != wanted.bodyIsOneEmptyLine, wanted.content.isEmpty,
                work.blocks[index].length == 0
            {
                // Only the empty body's shape differs: recreate the block (rare, keeps rendering lossless).
                emit(.blockDeleted(blockID: wanted.id))
            } else if present {
                let header = BlockHeader(wanted)
                if work.blocks[index].header != header { emit(.blockHeaderChanged(blockID: wanted.id, header: header)) }
                let current = work.blocks[index].content
                if current != wanted.content { emit(Self.contentChange(blockID: wanted.id, from: current, to: wanted.content)) }
                continue
            }
            emit(
                .blockCreated(
                    BlockCreated(
                        blockID: wanted.id, index: index, header: BlockHeader(wanted), content: wanted.content,
                        bodyIsOneEmptyLine: wanted.bodyIsOneEmptyLine, proseAfter: target.prose[index + 1])))
        }

        // 3. Prose, then the line ending.
        for index in target.prose.indices where work.prose[index] != target.prose[index] {
            emit(.proseEdited(index: index, text: target.prose[index]))
        }
        if work.lineEnding != target.lineEnding { emit(.lineEndingChanged(target.lineEnding)) }
        return events
    }

    /// A patch event when the patch is small enough and reproduces `new` exactly, else a replacement.
    public static func contentChange(blockID: String, from old: String, to new: String) -> EventBody {
        let patches = dmp.patchMake(old, new)
        let text = dmp.patchToText(patches)
        if text.utf8.count < new.utf8.count * 4 / 5 {
            let (result, applied) = dmp.patchApply(patches, to: old)
            if result == new, !applied.contains(false) {
                return .blockPatched(blockID: blockID, patch: text, resultLength: new.unicodeScalars.count, resultSHA256: nil)
            }
        }
        return .blockReplaced(blockID: blockID, content: new)
    }

    /// The longest common subsequence of two lists of distinct ids.
    static func longestCommonSubsequence(_ a: [String], _ b: [String]) -> [String] {
        guard !a.isEmpty, !b.isEmpty else { return [] }
        if a == b { return a }  // the usual re-ingest: no block moved
        if a.count * b.count > 1 << 20 {
            // A table of a.count × b.count cells would not fit (20,000 blocks: 3.2 GB): Myers' O(ND) diff.
            var result = [String]()
            for case .equal(let old, _, let count) in LineDiff.diff(a, b) { result += a[old..<old + count] }
            return result
        }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var result = [String]()
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            if a[i] == b[j] {
                result.append(a[i])
                i += 1
                j += 1
            } else if table[i + 1][j] >= table[i][j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }
}
