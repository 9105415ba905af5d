/// The log of one document as a Yjs document, advanced one event at a time in seq order.
///
/// Each event that changes the document is one Yjs transaction under its author's client id
/// (``clientID(for:)``): a created block pushes (or inserts) its id in `order`, sets `blocks[id]` to a new
/// Y.Text holding its content, `headers[id]` to its fence and the prose after it; a patch becomes
/// Y.Text inserts and deletes at the positions where the patch applies; a replacement keeps the Y.Text
/// and applies the diff from the old content to the new; a deleted block leaves `order`, `blocks`,
/// `headers` and `prose`. Review notes and deploy results change nothing. The first transaction also
/// writes `meta`: `format`, `project` (the document) and `created` (seconds since 1970 of that event).
///
/// Besides the Yjs items, the projection keeps the block texts as code points (``DocumentState``'s
/// representation, without its blame): patches are applied there exactly as the log applies them, and
/// the positions they touch become Yjs operations. A checkpoint holds the Yjs items only; the texts
/// are read back from them.
///
/// The same events give the same bytes on every run and every version of this format
/// (``format``): client ids, the diff used for replacements and every item's origins are functions of
/// the log alone.
///
/// ```swift
/// var projection = YjsProjection(document: "demo")
/// for event in events { let update = try projection.apply(event) }
/// let bytes = projection.encodeStateAsUpdate()
/// ```
public struct YjsProjection: Sendable {
    /// The projection format, written to `meta.format`. A change to how events become items needs a new
    /// one: a Yjs client that cached an older projection would duplicate content when it meets the new.
    public static let format = "marksync-yjs/1"

    /// Format version of projection checkpoints.
    public static let checkpointVersion = 1

    /// A change to a text, in code points.
    enum TextEdit: Equatable {
        case insert(Int, [UInt32])
        case delete(Int, Int)
    }

    /// Replacements and prose edits larger than this (in code points, after trimming the common start and
    /// end) are diffed as one delete and one insert instead of with diff-match-patch.
    static let diffLimit = 20_000

    static let dmp = DiffMatchPatch()
    static let padding = DocumentState.padding

    /// The document name (written to `meta.project`).
    public let document: String
    /// The seq of the last event applied.
    public private(set) var seq = 0
    /// The Yjs items as of ``seq``.
    public private(set) var yjs: YjsDocument
    /// Authors in the order they got their client id.
    public private(set) var authors: [(author: String, client: UInt32)] = []
    private var clients: [String: UInt32] = [:]
    private var taken: Set<UInt32> = []
    /// Whether `meta` was written (by the first transaction).
    private var metaWritten = false
    /// Block ids in document order.
    public private(set) var blockIDs: [String] = []
    /// Block contents as code points, padded like ``DocumentState``'s (diff-match-patch's margin).
    private var texts: [ScalarBuffer] = []
    /// The prose segments: `prose.count == blockIDs.count + 1`.
    public private(set) var prose: [String] = [""]

    /// The empty projection (seq 0; its update is `00 00`).
    public init(document: String) {
        self.document = document
        yjs = YjsDocument()
    }

    /// A projection restored from a checkpoint (``encodeCheckpoint()``).
    public init(document: String, checkpoint bytes: [UInt8]) throws(YjsError) {
        self.document = document
        var decoder = Lib0Decoder(bytes)
        let version = try decoder.varUintInt()
        guard version == Self.checkpointVersion else {
            throw YjsError("bad_checkpoint", "projection checkpoint version \(version) is not known to this marksync-log")
        }
        seq = try decoder.varUintInt(limit: Int.max >> 1)
        let count = try decoder.varUintInt(limit: decoder.remaining)
        for _ in 0..<count {
            let author = try decoder.varString()
            let client = try decoder.varUint()
            guard client <= UInt64(UInt32.max), clients[author] == nil else { throw YjsError("bad_checkpoint", "bad author table") }
            authors.append((author, UInt32(client)))
            clients[author] = UInt32(client)
            taken.insert(UInt32(client))
        }
        yjs = try YjsDocument(checkpoint: decoder.rest())
        metaWritten = yjs.mapValue(.meta, "format") != nil
        // The texts, from the items.
        var seen = Set<String>()
        for value in yjs.arrayValues(.order) {
            guard let id = value.stringValue, let container = yjs.textContainer(.blocks, id), seen.insert(id).inserted else {
                throw YjsError("bad_checkpoint", "the order names a block without its text")
            }
            blockIDs.append(id)
            texts.append(ScalarBuffer(yjs.paddedScalars(of: container, padding: Self.padding)))
        }
        prose = [yjs.text(.prose, "") ?? ""] + blockIDs.map { yjs.text(.prose, $0) ?? "" }
    }

    /// The projection as checkpoint bytes.
    public func encodeCheckpoint() -> [UInt8] {
        var encoder = Lib0Encoder(capacity: 64)
        encoder.varUint(Self.checkpointVersion)
        encoder.varUint(seq)
        encoder.varUint(authors.count)
        for entry in authors {
            encoder.varString(entry.author)
            encoder.varUint(entry.client)
        }
        encoder.raw(yjs.encodeCheckpoint())
        return encoder.bytes
    }

    /// A block's content.
    public func content(of blockID: String) -> String? {
        blockIDs.firstIndex(of: blockID).map { DMPCodePoints.string(Self.unpadded(texts[$0])) }
    }

    static func unpadded(_ text: ScalarBuffer) -> [UInt32] { text.scalars(padding..<(text.count - padding)) }

    /// The whole document as one update (`Y.encodeStateAsUpdate`).
    public func encodeStateAsUpdate() -> [UInt8] { yjs.encodeStateAsUpdate() }

    /// What a Yjs document at `stateVector` lacks, with the whole delete set (sync step 2).
    public func encodeStateAsUpdate(from stateVector: YjsStateVector) -> [UInt8] { yjs.encodeStateAsUpdate(from: stateVector) }

    /// The state vector (sync step 1).
    public var stateVector: YjsStateVector { yjs.stateVector }

    // MARK: - Client ids

    /// FNV-1a (32 bits) of the author's UTF-8 bytes: the client id an author gets unless another author
    /// of the document got it first.
    public static func clientID(for author: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in author.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    /// The author's client id, given on its first change of the document: FNV-1a of the name, or on a
    /// collision with an earlier author FNV-1a of `name + "#" + n` for n = 1, 2, … (first free one).
    mutating func client(for author: String) -> UInt32 {
        if let known = clients[author] { return known }
        var candidate = Self.clientID(for: author)
        var n = 0
        while taken.contains(candidate) {
            n += 1
            candidate = Self.clientID(for: author + "#\(n)")
        }
        clients[author] = candidate
        taken.insert(candidate)
        authors.append((author, candidate))
        return candidate
    }

    // MARK: - Applying events

    /// Applies the next event (its seq must be ``seq`` + 1) and returns its update: the structs and
    /// deletions of its transaction (`00 00` for an event that changes no text). With `encoding` false the
    /// update is not encoded (replays) and the result is empty. An event that does not apply (a block
    /// that does not exist, a patch that gives another length than recorded…) throws `bad_event` and
    /// leaves the projection unusable: the log it comes from is damaged.
    @discardableResult
    public mutating func apply(_ event: Event, encoding: Bool = true) throws(YjsError) -> [UInt8] {
        guard event.seq == seq + 1 else {
            throw YjsError("out_of_order", "event \(event.seq) cannot follow seq \(seq)")
        }
        func failure(_ message: String) -> YjsError { YjsError("bad_event", "event \(event.seq): \(message)") }
        switch event.body {
        case .blockPatched(let blockID, let text, let length, let sha):
            let patches: [Patch]
            do { patches = try Self.dmp.patchFromText(text) } catch { throw failure("the patch text cannot be parsed: \(error)") }
            return try applyStoredPatch(
                seq: event.seq, author: event.author, timestampMs: event.timestampMs, blockID: blockID, patches: patches,
                resultLength: length, resultSHA256: sha, encoding: encoding)
        case .reviewNote, .deployResult:
            seq = event.seq
            return encoding ? [0, 0] : []
        case .blockCreated(let created):
            guard !blockIDs.contains(created.blockID) else { throw failure("block \(created.blockID) already exists") }
            guard created.index >= 0, created.index <= blockIDs.count else { throw failure("position \(created.index) is outside the blocks") }
            let before = prose[created.index]
            if let proseBefore = created.proseBefore { prose[created.index] = proseBefore }
            blockIDs.insert(created.blockID, at: created.index)
            texts.insert(ScalarBuffer(DocumentState.pad(DMPCodePoints.from(created.content))), at: created.index)
            prose.insert(created.proseAfter, at: created.index + 1)
            begin(author: event.author, timestampMs: event.timestampMs)
            if created.index == blockIDs.count - 1 {
                yjs.arrayPush(.order, [.string(created.blockID)])
            } else {
                yjs.arrayInsert(.order, at: created.index, [.string(created.blockID)])
            }
            yjs.mapSetText(.blocks, created.blockID, created.content)
            yjs.mapSet(.headers, created.blockID, Self.headerValue(created.header))
            if created.proseBefore != nil { syncProse(gap: created.index, from: before) }
            syncProse(gap: created.index + 1, from: "")
        case .blockReplaced(let blockID, let content):
            guard let index = blockIDs.firstIndex(of: blockID) else { throw failure("block \(blockID) does not exist") }
            let old = Self.unpadded(texts[index])
            let new = DMPCodePoints.from(content)
            texts[index] = ScalarBuffer(DocumentState.pad(new))
            begin(author: event.author, timestampMs: event.timestampMs)
            applyEdits(Self.diffEdits(from: old, to: new), root: .blocks, key: blockID)
        case .blockDeleted(let blockID):
            guard let index = blockIDs.firstIndex(of: blockID) else { throw failure("block \(blockID) does not exist") }
            let before = prose[index]
            prose[index] = DocumentState.joinedProse(prose[index], prose[index + 1])
            prose.remove(at: index + 1)
            blockIDs.remove(at: index)
            texts.remove(at: index)
            begin(author: event.author, timestampMs: event.timestampMs)
            yjs.arrayDelete(.order, at: index)
            yjs.mapDelete(.blocks, blockID)
            yjs.mapDelete(.headers, blockID)
            yjs.mapDelete(.prose, blockID)
            syncProse(gap: index, from: before)
        case .blockHeaderChanged(let blockID, let header):
            guard blockIDs.contains(blockID) else { throw failure("block \(blockID) does not exist") }
            begin(author: event.author, timestampMs: event.timestampMs)
            yjs.mapSet(.headers, blockID, Self.headerValue(header))
        case .proseEdited(let index, let text):
            guard index >= 0, index < prose.count else { throw failure("prose segment \(index) does not exist") }
            let before = prose[index]
            prose[index] = text
            begin(author: event.author, timestampMs: event.timestampMs)
            syncProse(gap: index, from: before)
        case .lineEndingChanged(let ending):
            begin(author: event.author, timestampMs: event.timestampMs)
            yjs.mapSet(.meta, "line_ending", .string(ending == .crlf ? "crlf" : "lf"))
        }
        seq = event.seq
        return yjs.commit(encoding: encoding)
    }

    /// Applies a stored patch event given as hunks (the replay path: see ``EventCodec/decodePatchFast(_:)``).
    @discardableResult
    public mutating func applyStoredPatch(
        seq newSeq: Int, author: String, timestampMs: Int64, blockID: String, patches: [Patch], resultLength: Int, resultSHA256: String?,
        encoding: Bool = true
    ) throws(YjsError) -> [UInt8] {
        guard newSeq == seq + 1 else { throw YjsError("out_of_order", "event \(newSeq) cannot follow seq \(seq)") }
        guard let index = blockIDs.firstIndex(of: blockID) else {
            throw YjsError("bad_event", "event \(newSeq) patches block \(blockID), which does not exist")
        }
        guard let edits = Self.patchEdits(patches, in: texts[index]) else {
            throw YjsError("bad_event", "event \(newSeq): the patch does not apply to \(blockID)")
        }
        var text = texts[index]
        texts[index] = ScalarBuffer([])  // the only copy while it changes
        for edit in edits {
            // An edit outside the text (a stored hostile patch that made diff-match-patch splice into the
            // padding) is a damaged event, not a trap.
            let content = text.count - 2 * Self.padding
            switch edit {
            case .insert(let position, let scalars):
                guard position >= 0, position <= content else {
                    texts[index] = text
                    throw YjsError("bad_event", "event \(newSeq): the patch edits \(blockID) outside its text")
                }
                text.replace((position + Self.padding)..<(position + Self.padding), with: scalars)
            case .delete(let position, let count):
                guard position >= 0, count >= 0, position <= content - count else {
                    texts[index] = text
                    throw YjsError("bad_event", "event \(newSeq): the patch edits \(blockID) outside its text")
                }
                text.replace((position + Self.padding)..<(position + Self.padding + count), with: [])
            }
        }
        texts[index] = text
        guard text.count - 2 * Self.padding == resultLength else {
            throw YjsError("bad_event", "event \(newSeq): the patch gives \(blockID) another length than recorded")
        }
        begin(author: author, timestampMs: timestampMs)
        applyEdits(edits, root: .blocks, key: blockID)
        seq = newSeq
        return yjs.commit(encoding: encoding)
    }

    /// Opens the event's transaction; the document's first one also writes `meta`.
    private mutating func begin(author: String, timestampMs: Int64) {
        yjs.begin(client: client(for: author))
        if !metaWritten {
            metaWritten = true
            yjs.mapSet(.meta, "format", .string(Self.format))
            yjs.mapSet(.meta, "project", .string(document))
            yjs.mapSet(.meta, "created", .number(Double(timestampMs) / 1000))
        }
    }

    private mutating func applyEdits(_ edits: [TextEdit], root: YjsRoot, key: String) {
        guard let container = yjs.textContainer(root, key) else { return }
        for edit in edits {
            switch edit {
            case .insert(let position, let scalars): yjs.insertText(container, at: position, scalars)
            case .delete(let position, let count): yjs.deleteRange(container, at: position, count: count)
            }
        }
    }

    /// Brings the prose Y.Text of gap `index` (key: the id of the block before it, `""` for the first)
    /// from `old` to its text now; a gap gets its Y.Text the first time it is not empty.
    private mutating func syncProse(gap index: Int, from old: String) {
        let key = index == 0 ? "" : blockIDs[index - 1]
        let new = prose[index]
        if yjs.hasText(.prose, key) {
            applyEdits(Self.diffEdits(from: DMPCodePoints.from(old), to: DMPCodePoints.from(new)), root: .prose, key: key)
        } else if !new.isEmpty {
            yjs.mapSetText(.prose, key, new)
        }
    }

    /// A block's fence as a map value.
    static func headerValue(_ header: BlockHeader) -> YjsAny {
        var fields = [
            YjsAny.Field("kind", .string(header.kind)), YjsAny.Field("lang", .string(header.lang)),
            YjsAny.Field("meta", .string(header.meta)),
        ]
        if let path = header.path { fields.append(YjsAny.Field("path", .string(path))) }
        fields.append(YjsAny.Field("open", .string(header.openingLine)))
        fields.append(YjsAny.Field("close", .string(header.closingLine)))
        return .object(fields)
    }

    // MARK: - Edits

    /// The edits a stored patch makes to a block (its padded text, before the patch). A single hunk found
    /// exactly where it says (what editors send) gives its own diffs at that place; anything else is
    /// applied by diff-match-patch to a copy, and each splice it makes is diffed.
    /// Nil when a hunk does not apply (a stored event always applied when it was written).
    static func patchEdits(_ patches: [Patch], in text: ScalarBuffer) -> [TextEdit]? {
        let padding = DocumentState.padding
        // Only when diff-match-patch would find it there too: patch_addPadding leaves the hunk's diffs alone only
        // when it starts and ends with an equality at least as long as the padding (as DocumentState.cleanSplice
        // requires); otherwise the padding joins its context and may not match where the hunk says.
        if patches.count == 1, let patch = patches.first, patch.length1 + 2 * padding <= dmp.matchMaxBits,
            let first = patch.diffs.first, first.operation == .equal, first.text.count >= padding,
            let last = patch.diffs.last, last.operation == .equal, last.text.count >= padding
        {
            let text1 = dmp.diffText1(patch.diffs)
            let location = patch.start2 + padding
            if location >= padding, location + text1.count <= text.count - padding,
                (0..<text1.count).allSatisfy({ text[location + $0] == text1[$0] })
            {
                return edits(of: patch.diffs, at: patch.start2)
            }
        }
        var copy = text.array
        var edits = [TextEdit]()
        let applied = dmp.patchApply(patches, toPadded: &copy) { current, start, end, replacement in
            edits += spliceEdits(current, start: start, end: end, replacement: replacement, margin: padding)
        }
        return applied.contains(false) ? nil : edits
    }

    /// The edits of diffs applied at `start`.
    static func edits(of diffs: [Diff], at start: Int) -> [TextEdit] {
        var edits = [TextEdit]()
        var position = start
        for diff in diffs {
            switch diff.operation {
            case .equal: position += diff.text.count
            case .delete: edits.append(.delete(position, diff.text.count))
            case .insert:
                edits.append(.insert(position, diff.text))
                position += diff.text.count
            }
        }
        return edits
    }

    /// The edits of one splice of a padded text (`text[start..<end]` replaced), padding left out.
    static func spliceEdits(_ text: [UInt32], start: Int, end: Int, replacement: [UInt32], margin: Int) -> [TextEdit] {
        let (start, end, replacement) = PaddedSplice.strippingPadding(
            start: start, end: end, replacement: replacement, count: text.count, margin: margin)
        return diffEdits(from: Array(text[start..<end]), to: replacement).map {
            switch $0 {
            case .insert(let position, let scalars): .insert(position + start - margin, scalars)
            case .delete(let position, let count): .delete(position + start - margin, count)
            }
        }
    }

    /// The edits from `old` to `new`: common start and end kept, the middle diffed by diff-match-patch
    /// without a time limit (the result must not depend on the machine), or replaced whole when it is
    /// larger than ``diffLimit``.
    static func diffEdits(from old: [UInt32], to new: [UInt32]) -> [TextEdit] {
        let prefix = dmp.diffCommonPrefix(old, new)
        let oldRest = Array(old[prefix...])
        let newRest = Array(new[prefix...])
        let suffix = dmp.diffCommonSuffix(oldRest, newRest)
        let a = Array(oldRest[..<(oldRest.count - suffix)])
        let b = Array(newRest[..<(newRest.count - suffix)])
        if a.isEmpty && b.isEmpty { return [] }
        if a.isEmpty { return [.insert(prefix, b)] }
        if b.isEmpty { return [.delete(prefix, a.count)] }
        if a.count + b.count > diffLimit { return [.delete(prefix, a.count), .insert(prefix, b)] }
        return edits(of: dmp.diffMain(a, b, checkLines: true, deadline: nil), at: prefix)
    }
}
