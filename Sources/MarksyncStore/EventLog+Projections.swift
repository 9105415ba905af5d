import Foundation
import MarksyncCore

/// One README write recorded in the log's database (migration 0004): the seq rendered and the sha256 of
/// the bytes written.
public struct ProjectionRecord: Sendable, Equatable {
    /// The README path as `serve` was given it.
    public var path: String
    /// The document's seq the file rendered.
    public var seq: Int
    /// Lowercase hex sha256 of the bytes written.
    public var sha256: String
    /// Unix milliseconds of the write.
    public var writtenMs: Int64

    public init(path: String, seq: Int, sha256: String, writtenMs: Int64) {
        self.path = path
        self.seq = seq
        self.sha256 = sha256
        self.writtenMs = writtenMs
    }
}

/// What became of an edit merged onto the head (``EventLog/mergeEdit(document:base:edited:author:)``).
public enum EditMergeOutcome: Sendable, Equatable {
    /// The edit changes nothing the head does not already have.
    case unchanged(seq: Int)
    /// The edit was merged: `appended` events, the head is now `seq`.
    case merged(seq: Int, appended: Int)
    /// The edit overlaps changes made since its base: nothing was stored.
    case conflict(headSeq: Int)
}

extension EventLog {
    // MARK: - README projections

    /// Records that `serve` is about to write the document as of `seq` to `path`, with these bytes' sha256.
    /// Call before the write, and ``confirmProjection(document:path:seq:)`` once the file is in place:
    /// any file ever written is then recognised, and only files known to be in place serve as edit bases.
    public func recordProjection(document: String, path: String, seq: Int, sha256: String) async throws(StoreError) {
        let head = try await loadHead(document)
        try await backend.recordProjection(doc: head.id, path: path, seq: seq, sha256: sha256, writtenMs: Self.nowMs())
    }

    /// Marks a recorded projection as written (the file is in place).
    public func confirmProjection(document: String, path: String, seq: Int) async throws(StoreError) {
        let head = try await loadHead(document)
        try await backend.confirmProjection(doc: head.id, path: path, seq: seq)
    }

    /// The seq of which these bytes (by sha256) are the recorded projection, if any: O(1), however old.
    public func projectedSeq(document: String, sha256: String) async throws(StoreError) -> Int? {
        let head = try await loadHead(document)
        return try await backend.projectionSeq(doc: head.id, sha256: sha256)
    }

    /// The last `limit` projections recorded for `path`, newest first: the candidate bases of an edit made
    /// to that file (the one it started from is usually the last, but an editor may hold an older one).
    /// With `before`, only those of seqs below it.
    public func recentProjections(document: String, path: String, before: Int? = nil, limit: Int = 4) async throws(StoreError) -> [ProjectionRecord] {
        let head = try await loadHead(document)
        return try await backend.recentProjections(doc: head.id, path: path, before: before ?? Int.max, limit: limit)
    }

    /// Why nothing more can be stored (the log's file vanished or was replaced), checked now; nil when fine.
    public nonisolated var storageProblem: String? { backend.storageProblem() }

    /// Merges an edit of the document, made on `base` (the text it started from), onto the head
    /// (``ThreeWayMerge`` over the whole text): what changed since the base is kept, the edit's changes are
    /// appended as events by `author`, all or none, only if the head is still the one merged onto
    /// (`expectedHeadSeq`; a write committed meanwhile, prose included, makes it merge again onto the new
    /// head). Overlapping changes store nothing and give ``EditMergeOutcome/conflict(headSeq:)``.
    public func mergeEdit(document: String, base: String, edited: String, author: String) async throws(StoreError) -> EditMergeOutcome {
        var appended = 0
        for _ in 0..<5 {
            let head = try await self.head(document)
            guard let merged = ThreeWayMerge.merge(base: base, ours: edited, theirs: head.render()) else {
                return .conflict(headSeq: head.seq)
            }
            let target = MarkpactDocument(parsing: merged)
            let bodies = head.changes(to: target)
            if bodies.isEmpty { return appended == 0 ? .unchanged(seq: head.seq) : .merged(seq: head.seq, appended: appended) }
            // An edit never sets a block back to one of its earlier versions: that is a stale copy of the block
            // (an editor that loaded the file long ago), and storing it would undo acked changes.
            for body in bodies where body.kind == .blockPatched || body.kind == .blockReplaced {
                guard let id = body.blockID, let content = target.block(withID: id)?.content else { continue }
                if try await earlierVersions(document, blockID: id, since: head.seq - Self.staleVersionWindow).contains(SHA256.hexDigest(of: content)) {
                    return .conflict(headSeq: head.seq)
                }
            }
            // All or nothing against this head: a write (prose included) committed meanwhile sends us round again.
            let outcomes = try await append(
                bodies.map {
                    var request = WriteRequest(document: document, author: author, change: .event($0), baseSeq: head.seq)
                    request.expectedHeadSeq = head.seq
                    return request
                })
            appended += outcomes.filter { if case .appended = $0 { true } else { false } }.count
            if !outcomes.contains(where: { if case .rejected = $0 { true } else { false } }) {
                return .merged(seq: try await headSeq(document), appended: appended)
            }
        }
        return .conflict(headSeq: try await headSeq(document))
    }

    /// How far back (events) an edit is compared with a block's earlier versions.
    static let staleVersionWindow = 10_000

    /// The sha256 of every version a block had in the events after `since` (and the one it had then),
    /// but not the current one.
    func earlierVersions(_ document: String, blockID: String, since: Int) async throws(StoreError) -> Set<String> {
        let from = max(1, since + 1)
        var scratch = DocumentState()
        var step = 0
        var hashes = Set<String>()
        func record(_ change: Change) {
            step += 1
            if (try? scratch.prepare(change, seq: step)) != nil, let block = scratch.block(blockID) { hashes.insert(block.sha256) }
        }
        if from > 1, let block = try await state(document, at: from - 1).block(blockID) { record(.full(blockID: blockID, content: block.content)) }
        for event in try await history(document, filter: HistoryFilter(block: blockID, from: from)) {
            switch event.body {
            case .blockCreated(let created): record(.full(blockID: blockID, content: created.content))
            case .blockReplaced(_, let content): record(.full(blockID: blockID, content: content))
            case .blockPatched(_, let patch, _, _): record(.patch(blockID: blockID, patch: patch, expectedSHA256: nil))
            case .blockDeleted: scratch = DocumentState()
            default: continue
            }
        }
        if let current = try await head(document).block(blockID) { hashes.remove(current.sha256) }
        return hashes
    }

    // MARK: - Start-up check

    /// Checks the tail of a document's log — the hash chain from its last checkpoint to the head, the seqs
    /// dense, every event decoding and applying (lengths and hashes as recorded) onto the checkpoint, and
    /// the head hash — before it is served. Cost: the events since the last checkpoint. Returns the first
    /// problem (naming its seq), or nil when the tail is sound. `verify` checks the whole log.
    public func verifyTail(_ document: String) async throws(StoreError) -> VerifyProblem? {
        guard let row = try await backend.documentRow(document) else { throw StoreError(.unknownDocument, "there is no document \(document)") }
        let blockIDs = try await backend.blockKeys(doc: row.id)
        if try await backend.authorCount() != authorNames.count { try await loadAuthors() }
        func problem(_ seq: Int?, _ message: String) -> VerifyProblem { VerifyProblem(document: document, seq: seq, message: message) }
        var state = DocumentState()
        var previousHash = [UInt8]()
        var expected = 1
        if let checkpoint = try await backend.checkpoint(doc: row.id, atOrBefore: row.headSeq) {
            do {
                let bytes = try (checkpoint.codec == 1 ? PayloadCodec.lz4 : PayloadCodec.raw).decode(checkpoint.state)
                state = try DocumentState(checkpoint: bytes)
            } catch {
                return problem(checkpoint.seq, "the checkpoint is damaged: \(error)")
            }
            let event = try await rawEvents(doc: row.id, after: checkpoint.seq - 1, through: checkpoint.seq, limit: 1).first
            guard let event, event.hash == checkpoint.hash else {
                return problem(checkpoint.seq, "the checkpoint's hash differs from the event's (or the event is missing)")
            }
            previousHash = checkpoint.hash
            expected = checkpoint.seq + 1
        }
        while expected <= row.headSeq {
            let raws = try await rawEvents(doc: row.id, after: expected - 1, through: row.headSeq, limit: Self.pageSize)
            if raws.isEmpty { break }
            for raw in raws {
                guard raw.seq == expected else { return problem(expected, "event \(expected) is missing (the next stored is \(raw.seq))") }
                let event: Event
                do { event = try Self.decode(raw, document: document, blockIDs: blockIDs, authors: authorNames) } catch {
                    return problem(raw.seq, error.message)
                }
                let hash = EventCodec.chainHash(
                    previous: previousHash, seq: raw.seq, timestampMs: raw.timestampMs, author: event.author, clientMessageID: raw.clientID,
                    baseSeq: raw.baseSeq, kind: event.body.kind, blockID: event.body.blockID, payload: EventCodec.encode(event.body))
                guard hash == raw.hash else { return problem(raw.seq, "the hash chain breaks here: the event was changed, moved or inserted") }
                do { try state.apply(event.body, seq: raw.seq, verifying: true) } catch {
                    return problem(raw.seq, "does not apply: \(error)")
                }
                previousHash = hash
                expected += 1
            }
        }
        if expected - 1 != row.headSeq {
            return problem(expected, "the document's head is \(row.headSeq) but the log ends at \(expected - 1)")
        }
        if row.headSeq > 0, previousHash != row.headHash { return problem(row.headSeq, "the head hash differs from the chain") }
        return nil
    }
}
