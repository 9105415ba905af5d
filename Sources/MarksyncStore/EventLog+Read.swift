import Foundation
import MarksyncCore

/// An event as stored, before its payload is decoded.
struct RawEvent: Sendable {
    var seq: Int
    var timestampMs: Int64
    var author: Int64
    var kind: Int
    var block: Int?
    var baseSeq: Int?
    var clientID: String?
    var codec: Int
    var payload: [UInt8]
    var hash: [UInt8]
}

extension EventLog {
    /// How many events one read transaction returns at most.
    static let pageSize = 4096

    /// Events of a document with seq > `after`, in seq order, at most `limit` (one short read transaction).
    public func events(_ document: String, after: Int, limit: Int = 1000) async throws(StoreError) -> [Event] {
        let head = try await loadHead(document)
        let raws = try await rawEvents(doc: head.id, after: after, through: Int.max, limit: limit)
        var out = [Event]()
        out.reserveCapacity(raws.count)
        for raw in raws { out.append(try await decode(raw, document: document)) }
        return out
    }

    /// Stored rows of a document in (after, through], at most `limit`.
    func rawEvents(doc: Int64, after: Int, through: Int, limit: Int) async throws(StoreError) -> [RawEvent] {
        try await backend.rawEvents(doc: doc, after: after, through: through, limit: limit)
    }

    /// Decodes a stored row.
    func decode(_ raw: RawEvent, document: String) async throws(StoreError) -> Event {
        var head = try await loadHead(document)
        if let key = raw.block, head.blockIDs[key] == nil {
            // A block created by another process since this head was loaded.
            if let id = try await backend.blockKeys(doc: head.id)[key] {
                head.blockIDs[key] = id
                head.blockKeys[id] = key
                heads[document] = head
            }
        }
        if authorNames[raw.author] == nil { try await loadAuthors() }
        return try Self.decode(raw, document: document, blockIDs: head.blockIDs, authors: authorNames)
    }

    static func decode(_ raw: RawEvent, document: String, blockIDs: [Int: String], authors: [Int64: String]) throws(StoreError)
        -> Event
    {
        guard let kind = EventKind(rawValue: UInt8(clamping: raw.kind)) else {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document) has an unknown kind \(raw.kind)")
        }
        guard let codec = raw.codec == 0 ? PayloadCodec.raw : (raw.codec == 1 ? PayloadCodec.lz4 : nil) else {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document) has an unknown codec \(raw.codec)")
        }
        let blockID = raw.block.flatMap { blockIDs[$0] }
        if raw.block != nil, blockID == nil {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document) names a block key \(raw.block!) that does not exist")
        }
        guard let author = authors[raw.author] else {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document) names an author \(raw.author) that does not exist")
        }
        let payload: [UInt8]
        do { payload = try codec.decode(raw.payload) } catch {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document): \(error)")
        }
        let body: EventBody
        do { body = try EventCodec.decode(kind: kind, blockID: blockID, payload: payload) } catch {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document): \(error)")
        }
        return Event(
            document: document, seq: raw.seq, timestampMs: raw.timestampMs, author: author, clientMessageID: raw.clientID,
            baseSeq: raw.baseSeq, body: body, hash: raw.hash)
    }

    /// The block ids a page of rows needs: `blockIDs`, completed from the table when a row names a block
    /// key made since they were read (by another process); the authors likewise.
    func names(covering raws: [RawEvent], doc: Int64, blockIDs: [Int: String]) async throws(StoreError) -> [Int: String] {
        var blockIDs = blockIDs
        if raws.contains(where: { $0.block.map { blockIDs[$0] == nil } ?? false }) {
            for (key, id) in try await backend.blockKeys(doc: doc) { blockIDs[key] = id }
        }
        if raws.contains(where: { authorNames[$0.author] == nil }) { try await loadAuthors() }
        return blockIDs
    }

    /// What replaying an event costs, roughly: the size of the block it changes plus its payload.
    static func replayCost(blockID: String?, in state: DocumentState, payloadBytes: Int) -> Int {
        payloadBytes + 64 + (blockID.flatMap { state.block($0)?.length } ?? 0)
    }

    static func replayCost(of body: EventBody, in state: DocumentState, payloadBytes: Int) -> Int {
        replayCost(blockID: body.blockID, in: state, payloadBytes: payloadBytes)
    }

    /// Applies a stored event to a state; patch events take the fast path (hunks decoded directly).
    static func replay(
        _ raw: RawEvent, into state: inout DocumentState, document: String, blockIDs: [Int: String], authors: [Int64: String]
    ) throws(StoreError) {
        if raw.kind == Int(EventKind.blockPatched.rawValue), let key = raw.block, let blockID = blockIDs[key] {
            do {
                let payload = try (raw.codec == 1 ? PayloadCodec.lz4 : PayloadCodec.raw).decode(raw.payload)
                if let fast = try EventCodec.decodePatchFast(payload) {
                    try state.applyStoredPatch(
                        blockID: blockID, patches: fast.patches, resultLength: fast.resultLength, resultSHA256: fast.resultSHA256,
                        seq: raw.seq)
                    return
                }
            } catch {
                throw StoreError(.corrupt, "event \(raw.seq) of \(document) does not apply: \(error)")
            }
        }
        let event = try decode(raw, document: document, blockIDs: blockIDs, authors: authors)
        do { try state.apply(event.body, seq: raw.seq) } catch {
            throw StoreError(.corrupt, "event \(raw.seq) of \(document) does not apply: \(error)")
        }
    }

    /// The latest checkpoint at or before `seq`.
    func checkpoint(doc: Int64, atOrBefore seq: Int) async throws(StoreError) -> (seq: Int, state: DocumentState)? {
        guard let row = try await backend.checkpoint(doc: doc, atOrBefore: seq) else { return nil }
        do {
            let bytes = try (row.codec == 1 ? PayloadCodec.lz4 : PayloadCodec.raw).decode(row.state)
            return (row.seq, try DocumentState(checkpoint: bytes))
        } catch {
            throw StoreError(.corrupt, "the checkpoint at seq \(row.seq) is damaged: \(error)")
        }
    }

    /// The state at `seq` from the nearest checkpoint; also how many events and payload bytes follow it.
    func replayState(head: Head, to seq: Int) async throws(StoreError) -> (state: DocumentState, events: Int, bytes: Int) {
        var state = DocumentState()
        if let checkpoint = try await checkpoint(doc: head.id, atOrBefore: seq) { state = checkpoint.state }
        let start = state.seq
        var bytes = 0
        var blockIDs = head.blockIDs
        while state.seq < seq {
            let raws = try await rawEvents(doc: head.id, after: state.seq, through: seq, limit: Self.pageSize)
            guard !raws.isEmpty else {
                throw StoreError(.corrupt, "the log of \(head.name) has no event \(state.seq + 1) (its head is \(seq))")
            }
            blockIDs = try await names(covering: raws, doc: head.id, blockIDs: blockIDs)
            for raw in raws {
                guard raw.seq == state.seq + 1 else {
                    throw StoreError(.corrupt, "the log of \(head.name) jumps from seq \(state.seq) to \(raw.seq)")
                }
                try Self.replay(raw, into: &state, document: head.name, blockIDs: blockIDs, authors: authorNames)
                bytes += Self.replayCost(blockID: raw.block.flatMap { blockIDs[$0] }, in: state, payloadBytes: raw.payload.count)
            }
        }
        return (state, state.seq - start, bytes)
    }

    /// The document as it was after event `seq` (0 is the empty document).
    public func state(_ document: String, at seq: Int) async throws(StoreError) -> DocumentState {
        let head = try await loadHead(document)
        guard seq >= 0, seq <= head.state.seq else {
            throw StoreError(.seqOutOfRange, "\(document) has events 1…\(head.state.seq); there is no seq \(seq)")
        }
        if seq == head.state.seq { return head.state }
        return try await replayState(head: head, to: seq).state
    }
}
