import Foundation
import MarksyncCore

/// An event as the Yjs projection replays it: a patch with its hunks already decoded (the fast path),
/// or any other event.
public enum YjsReplayEvent: Sendable {
    case patch(seq: Int, author: String, timestampMs: Int64, blockID: String, patches: [Patch], resultLength: Int, resultSHA256: String?)
    case event(Event)

    public var seq: Int {
        switch self {
        case .patch(let seq, _, _, _, _, _, _): seq
        case .event(let event): event.seq
        }
    }
}

extension YjsProjection {
    /// Applies a replayed event; returns its update (empty when `encoding` is false).
    @discardableResult
    public mutating func apply(_ replayed: YjsReplayEvent, encoding: Bool = true) throws(YjsError) -> [UInt8] {
        switch replayed {
        case .patch(let seq, let author, let timestampMs, let blockID, let patches, let resultLength, let resultSHA256):
            try applyStoredPatch(
                seq: seq, author: author, timestampMs: timestampMs, blockID: blockID, patches: patches, resultLength: resultLength,
                resultSHA256: resultSHA256, encoding: encoding)
        case .event(let event):
            try apply(event, encoding: encoding)
        }
    }
}

/// The Yjs projection of the log (docs/crdt.md): a document at any seq, as a full update, as a diff from
/// a state vector, or as one update per event.
///
/// Projections are checkpointed in `yjs_checkpoints` at the seqs of the log's own checkpoints, the first
/// time a projection passes them; an export then replays only the events after the nearest one.
extension EventLog {
    /// The projection format and checkpoint version stored with each Yjs checkpoint.
    static var yjsCheckpointFormat: String { "\(YjsProjection.format) c\(YjsProjection.checkpointVersion)" }

    /// The Yjs projection of a document at `seq` (the head when nil).
    public func yjsProjection(_ document: String, at seq: Int? = nil) async throws(StoreError) -> YjsProjection {
        let head = try await loadHead(document)
        let target = seq ?? head.state.seq
        guard target >= 0, target <= head.state.seq else {
            throw StoreError(.seqOutOfRange, "\(document) has events 1…\(head.state.seq); there is no seq \(target)")
        }
        var projection = try await yjsStart(head: head, atOrBefore: target)
        _ = try await yjsAdvance(&projection, head: head, to: target, updates: false)
        return projection
    }

    /// A Yjs update of the document at `seq` (the head when nil): the whole state, or what a document at
    /// `stateVector` lacks.
    public func yjsUpdate(_ document: String, at seq: Int? = nil, from stateVector: YjsStateVector? = nil) async throws(StoreError)
        -> [UInt8]
    {
        let projection = try await yjsProjection(document, at: seq)
        if let stateVector { return projection.encodeStateAsUpdate(from: stateVector) }
        return projection.encodeStateAsUpdate()
    }

    /// The update of every event in (`after`, `through`], in seq order (`00 00` for events that change no
    /// text).
    public func yjsEventUpdates(_ document: String, after: Int, through: Int) async throws(StoreError) -> [(seq: Int, update: [UInt8])] {
        let head = try await loadHead(document)
        guard after >= 0, after <= through, through <= head.state.seq else {
            throw StoreError(.seqOutOfRange, "\(document) has events 1…\(head.state.seq); (\(after), \(through)] is not a range of them")
        }
        var projection = try await yjsStart(head: head, atOrBefore: after)
        _ = try await yjsAdvance(&projection, head: head, to: after, updates: false)
        return try await yjsAdvance(&projection, head: head, to: through, updates: true)
    }

    /// Events in (`after`, `after + limit`] as the projection replays them (patches decoded once).
    public func yjsReplayEvents(_ document: String, after: Int, limit: Int = 4096) async throws(StoreError) -> [YjsReplayEvent] {
        let head = try await loadHead(document)
        return try await yjsReplayEvents(head: head, after: after, through: Int.max, limit: limit)
    }

    /// Stores a checkpoint of a projection when the log has a checkpoint at its seq and no Yjs checkpoint
    /// of this format is stored there yet. Returns whether it stored one.
    @discardableResult
    public func saveYjsCheckpoint(_ projection: YjsProjection) async throws(StoreError) -> Bool {
        let head = try await loadHead(projection.document)
        let docID = head.id
        let seq = projection.seq
        let format = Self.yjsCheckpointFormat
        guard seq > 0, try await backend.missingYjsCheckpoints(doc: docID, after: seq - 1, through: seq, format: format) == [seq] else {
            return false
        }
        try await writeYjsCheckpoints(docID: docID, [(seq, projection.encodeCheckpoint())])
        return true
    }

    /// Drops the stored Yjs checkpoints of a document (a cache: the next export replays the log and
    /// stores them again).
    public func clearYjsCheckpoints(_ document: String) async throws(StoreError) {
        let docID = try await loadHead(document).id
        try await backend.deleteYjsCheckpoints(doc: docID, seq: nil)
    }

    /// How many Yjs checkpoints of a document are stored, and their size in bytes (as stored).
    public func yjsCheckpointStats(_ document: String) async throws(StoreError) -> (count: Int, bytes: Int) {
        let docID = try await loadHead(document).id
        return try await backend.yjsCheckpointStats(doc: docID)
    }

    /// The seqs of the log's checkpoints in (`after`, `through`].
    public func checkpointSeqs(_ document: String, after: Int, through: Int) async throws(StoreError) -> [Int] {
        let head = try await loadHead(document)
        return try await checkpointSeqs(docID: head.id, after: after, through: through)
    }

    // MARK: - Internals

    /// The projection at the latest usable Yjs checkpoint at or before `seq`, or the empty projection.
    func yjsStart(head: Head, atOrBefore seq: Int) async throws(StoreError) -> YjsProjection {
        let docID = head.id
        let format = Self.yjsCheckpointFormat
        let rows = try await backend.yjsCheckpoints(doc: docID, atOrBefore: seq, format: format, limit: 2)
        for row in rows {
            // A damaged row is dropped (it is only a cache): the next older one, or the empty projection.
            if let bytes = try? (row.codec == 1 ? PayloadCodec.lz4 : PayloadCodec.raw).decode(row.model),
                let projection = try? YjsProjection(document: head.name, checkpoint: bytes), projection.seq == row.seq
            {
                return projection
            }
            try? await backend.deleteYjsCheckpoints(doc: docID, seq: row.seq)
        }
        return YjsProjection(document: head.name)
    }

    /// Replays events into `projection` up to `seq`, storing a Yjs checkpoint at every log checkpoint it
    /// passes that has none yet; returns the events' updates when `updates` is true.
    func yjsAdvance(_ projection: inout YjsProjection, head: Head, to seq: Int, updates: Bool) async throws(StoreError)
        -> [(seq: Int, update: [UInt8])]
    {
        guard projection.seq < seq else { return [] }
        let format = Self.yjsCheckpointFormat
        let docID = head.id
        let start = projection.seq
        let due = try await backend.missingYjsCheckpoints(doc: docID, after: start, through: seq, format: format)
        var pending = Set(due)
        var snapshots = [(seq: Int, bytes: [UInt8])]()
        var out = [(seq: Int, update: [UInt8])]()
        while projection.seq < seq {
            let page = try await yjsReplayEvents(head: head, after: projection.seq, through: seq, limit: Self.pageSize)
            guard !page.isEmpty else {
                throw StoreError(.corrupt, "the log of \(head.name) has no event \(projection.seq + 1)")
            }
            for event in page {
                let update: [UInt8]
                do { update = try projection.apply(event, encoding: updates) } catch {
                    throw StoreError(.corrupt, "event \(event.seq) of \(head.name) does not apply to its Yjs projection: \(error)")
                }
                if updates { out.append((event.seq, update)) }
                if pending.remove(event.seq) != nil { snapshots.append((event.seq, projection.encodeCheckpoint())) }
            }
            if !snapshots.isEmpty {
                try await writeYjsCheckpoints(docID: docID, snapshots)
                snapshots.removeAll()
            }
        }
        return out
    }

    func writeYjsCheckpoints(docID: Int64, _ checkpoints: [(seq: Int, bytes: [UInt8])]) async throws(StoreError) {
        let format = Self.yjsCheckpointFormat
        let rows = checkpoints.map { checkpoint -> StoredYjsCheckpoint in
            let (codec, data) = PayloadCodec.encode(checkpoint.bytes)
            return StoredYjsCheckpoint(seq: checkpoint.seq, codec: codec == .lz4 ? 1 : 0, model: data)
        }
        try await backend.putYjsCheckpoints(doc: docID, format: format, rows)
    }

    func checkpointSeqs(docID: Int64, after: Int, through: Int) async throws(StoreError) -> [Int] {
        try await backend.checkpointSeqs(doc: docID, after: after, through: through)
    }

    /// Stored events in (`after`, `through`], at most `limit`, decoded for the projection.
    func yjsReplayEvents(head: Head, after: Int, through: Int, limit: Int) async throws(StoreError) -> [YjsReplayEvent] {
        let raws = try await rawEvents(doc: head.id, after: after, through: through, limit: limit)
        let blockIDs = try await names(covering: raws, doc: head.id, blockIDs: head.blockIDs)
        var out = [YjsReplayEvent]()
        out.reserveCapacity(raws.count)
        for raw in raws {
            if raw.kind == Int(EventKind.blockPatched.rawValue), let key = raw.block, let blockID = blockIDs[key],
                let author = authorNames[raw.author]
            {
                do {
                    let payload = try (raw.codec == 1 ? PayloadCodec.lz4 : PayloadCodec.raw).decode(raw.payload)
                    if let fast = try EventCodec.decodePatchFast(payload) {
                        out.append(
                            .patch(
                                seq: raw.seq, author: author, timestampMs: raw.timestampMs, blockID: blockID, patches: fast.patches,
                                resultLength: fast.resultLength, resultSHA256: fast.resultSHA256))
                        continue
                    }
                } catch {
                    throw StoreError(.corrupt, "event \(raw.seq) of \(head.name) cannot be decoded: \(error)")
                }
            }
            out.append(.event(try Self.decode(raw, document: head.name, blockIDs: blockIDs, authors: authorNames)))
        }
        return out
    }
}
