import Foundation
import MarksyncCore

/// One row to insert, fully prepared outside the database queue.
struct EventRow: Sendable {
    var doc: Int64
    var seq: Int
    var timestampMs: Int64
    var author: String
    var kind: UInt8
    var blockID: String?
    var baseSeq: Int?
    var clientID: String?
    var codec: Int
    var payload: Data
    var hash: Data
}

/// A checkpoint to insert with a batch.
struct CheckpointRow: Sendable {
    var doc: Int64
    var seq: Int
    var codec: Int
    var state: Data
    var hash: Data
}

extension EventLog {
    /// Appends changes. Requests from concurrent callers share one transaction (group commit); this returns
    /// after that transaction has committed, with one outcome per request, in order. Rejected requests store
    /// nothing and do not stop the others.
    public func append(_ requests: [WriteRequest]) async throws(StoreError) -> [WriteOutcome] {
        if requests.isEmpty { return [] }
        if !writerRunning {
            // Nobody is committing: this caller commits its own requests, with no task to start and no hand-off
            // (one closed-loop writer pays one commit and nothing else). Requests arriving meanwhile queue up
            // and are committed together right after it. Only this caller's requests are in that transaction, so
            // if its task is cancelled (GRDB then interrupts the statement), it alone gets the error and nothing
            // of it is stored.
            writerRunning = true
            let result = await commit([requests])[0]
            if queue.isEmpty { writerRunning = false } else { Task { await self.runWriter() } }
            return try result.get()
        }
        let result = await withCheckedContinuation { continuation in
            queue.append(PendingWrite(requests: requests, continuation: continuation))
        }
        return try result.get()
    }

    /// Appends one change.
    public func append(_ request: WriteRequest) async throws(StoreError) -> WriteOutcome {
        try await append([request])[0]
    }

    /// Drains the queue: each turn takes what has gathered and commits it as one transaction.
    func runWriter() async {
        while !queue.isEmpty {
            var batch = [PendingWrite]()
            var count = 0
            while !queue.isEmpty, count == 0 || count + queue[0].requests.count <= options.maxBatch {
                let next = queue.removeFirst()
                count += next.requests.count
                batch.append(next)
            }
            let results = await commit(batch.map(\.requests))
            for (pending, result) in zip(batch, results) { pending.continuation.resume(returning: result) }
        }
        writerRunning = false
    }

    /// Validates the batch against working copies of the heads, writes it in one transaction, then makes
    /// the working copies the new heads. On a database failure nothing changes and every caller gets it.
    func commit(_ batch: [[WriteRequest]]) async -> [Result<[WriteOutcome], StoreError>] {
        let documents = Set(batch.joined().map(\.document))
        inFlight.formUnion(documents)
        defer { inFlight.subtract(documents) }
        let attempts = backend.isShared ? 50 : 3
        for attempt in 0..<attempts {
            do {
                let results = try await commitOnce(batch)
                await catchUpWoken(documents)
                return results
            } catch let error as StoreError where error.code == .staleHead && attempt < attempts - 1 {
                // Another process (another node) appended: bring the heads up to date and validate again.
                do {
                    for document in documents.sorted() where heads[document] != nil { try await catchUp(document) }
                    try await loadAuthors()
                } catch {
                    return batch.map { _ in .failure(error) }
                }
                if attempt >= 2 { try? await Task.sleep(for: .milliseconds(Int.random(in: 1...(2 * attempt)))) }
                continue
            } catch let error as StoreError {
                return batch.map { _ in .failure(error) }
            } catch {
                return batch.map { _ in .failure(StoreError(.database, "the append failed: \(error)")) }
            }
        }
        return batch.map { _ in .failure(StoreError(.database, "the log keeps changing under this process; try again")) }
    }

    private func commitOnce(_ requests: [[WriteRequest]]) async throws -> [Result<[WriteOutcome], StoreError>] {
        if backend.isShared {
            // Several nodes: validate under the documents' row locks, after bringing the heads up to what is
            // stored, so that no other node commits in between (no stale batch, no retry storm).
            var ids = [Int64]()
            for document in Set(requests.joined().map(\.document)).sorted() {
                if let head = try? await loadHead(document) { ids.append(head.id) }
            }
            let (inserted, validated) = try await backend.insertLocked(docs: ids) { stored in
                try await self.validateLocked(requests, stored: stored)
            }
            return finish(validated, inserted: inserted)
        }
        let validated = try await validate(requests)
        var inserted: InsertResult?
        if let rows = insertBatch(for: validated) { inserted = try await backend.insert(rows) }
        return finish(validated, inserted: inserted)
    }

    /// A batch checked against the heads: what to store, the heads after it, and each caller's outcomes.
    struct ValidatedBatch: Sendable {
        var work: [String: Head] = [:]
        var startSeqs: [Int64: Int] = [:]
        var rows = [EventRow]()
        var checkpoints = [CheckpointRow]()
        var committed = [Event]()
        var results = [Result<[WriteOutcome], StoreError>]()
    }

    /// Under the locks: heads brought up to the stored ones, then the batch validated against them.
    private func validateLocked(_ requests: [[WriteRequest]], stored: [Int64: Int]) async throws -> (batch: InsertBatch?, value: ValidatedBatch) {
        for (name, head) in heads where (stored[head.id] ?? 0) > head.state.seq { try await catchUp(name) }
        let validated = try await validate(requests)
        return (insertBatch(for: validated), validated)
    }

    /// The rows of a validated batch as the backend stores them (nil when nothing is to be stored).
    private func insertBatch(for validated: ValidatedBatch) -> InsertBatch? {
        if validated.rows.isEmpty { return nil }
        return InsertBatch(
            rows: validated.rows, checkpoints: validated.checkpoints,
            heads: validated.work.values.map { (id: $0.id, seq: $0.state.seq, hash: Data($0.hash)) }, expectedSeqs: validated.startSeqs,
            authors: authorIDs, blockKeys: Dictionary(uniqueKeysWithValues: validated.work.values.map { ($0.id, $0.blockKeys) }))
    }

    /// After the commit: the new authors and block keys, the new heads, the observers told.
    private func finish(_ validated: ValidatedBatch, inserted: InsertResult?) -> [Result<[WriteOutcome], StoreError>] {
        var work = validated.work
        if let inserted {
            for (name, id) in inserted.authors {
                authorIDs[name] = id
                authorNames[id] = name
            }
            for (name, var head) in work {
                for (blockID, key) in inserted.keys[head.id] ?? [:] {
                    head.blockKeys[blockID] = key
                    head.blockIDs[key] = blockID
                }
                work[name] = head
            }
        }
        for (name, head) in work { heads[name] = head }
        if !validated.checkpoints.isEmpty { scheduleYjsWarmUp(for: validated.checkpoints) }
        publish(validated.committed)
        return validated.results
    }

    /// Checks each request against working copies of the heads and turns the accepted ones into rows.
    private func validate(_ batch: [[WriteRequest]]) async throws -> ValidatedBatch {
        var out = ValidatedBatch()
        var seenClientIDs: [String: [String: Event]] = [:]
        let now = Self.nowMs()
        let duplicates = try await storedDuplicates(in: batch)
        let total = batch.reduce(0) { $0 + $1.count }
        var done = 0

        for requests in batch {
            var outcomes = [WriteOutcome]()
            // Each document's head seq when this caller's requests are taken up (for `expectedHeadSeq`).
            var startOfRequests = [String: Int]()
            for request in requests {
                done += 1
                if let appendProgress, done % 2048 == 0 { appendProgress(done, total) }
                var head: Head
                // Taken out of the dictionary so the block buffers stay uniquely referenced (no copy per event).
                if let copy = out.work.removeValue(forKey: request.document) {
                    head = copy
                } else {
                    let loaded: Result<Head, StoreError>
                    do { loaded = .success(try await loadHead(request.document)) } catch { loaded = .failure(error) }
                    switch loaded {
                    case .success(let value):
                        head = value
                    case .failure(let error):
                        guard error.code == .unknownDocument else { throw error }
                        outcomes.append(.rejected(ApplyError("unknown_document", error.message), current: nil))
                        continue
                    }
                    out.startSeqs[head.id] = head.state.seq
                }
                if let id = request.clientMessageID {
                    if let earlier = seenClientIDs[request.document]?[id] ?? duplicates[request.document]?[id] {
                        outcomes.append(.duplicate(earlier))
                        out.work[request.document] = head
                        continue
                    }
                }
                if startOfRequests[request.document] == nil { startOfRequests[request.document] = head.state.seq }
                if let expected = request.expectedHeadSeq, let start = startOfRequests[request.document], start != expected {
                    outcomes.append(
                        .rejected(ApplyError("conflict", "the document moved on from seq \(expected) to \(start) since this edit was made"), current: nil))
                    out.work[request.document] = head
                    continue
                }
                let seq = head.state.seq + 1
                let outcome = await prepare(request, seq: seq, head: &head)
                guard case .appended(var event, let rebased) = outcome else {
                    outcomes.append(outcome)
                    out.work[request.document] = head
                    continue
                }
                event.timestampMs = request.timestampMs ?? now
                let payload = EventCodec.encode(event.body)
                let hash = EventCodec.chainHash(
                    previous: head.hash, seq: seq, timestampMs: event.timestampMs, author: event.author,
                    clientMessageID: event.clientMessageID, baseSeq: event.baseSeq, kind: event.body.kind,
                    blockID: event.body.blockID, payload: payload)
                event.hash = hash
                let (codec, stored) = PayloadCodec.encode(payload)
                out.rows.append(
                    EventRow(
                        doc: head.id, seq: seq, timestampMs: event.timestampMs, author: event.author, kind: event.body.kind.rawValue,
                        blockID: event.body.blockID, baseSeq: event.baseSeq, clientID: event.clientMessageID,
                        codec: codec == .lz4 ? 1 : 0, payload: Data(stored), hash: Data(hash)))
                head.hash = hash
                head.eventsSinceCheckpoint += 1
                head.workSinceCheckpoint += Self.replayCost(of: event.body, in: head.state, payloadBytes: stored.count)
                if head.eventsSinceCheckpoint >= options.checkpointEvents || head.workSinceCheckpoint >= options.checkpointWork {
                    // A checkpoint of the state right after this event, written in the same transaction.
                    let (codec, state) = PayloadCodec.encode(head.state.encodeCheckpoint())
                    out.checkpoints.append(
                        CheckpointRow(doc: head.id, seq: seq, codec: codec == .lz4 ? 1 : 0, state: Data(state), hash: Data(hash)))
                    head.eventsSinceCheckpoint = 0
                    head.workSinceCheckpoint = 0
                }
                if let id = request.clientMessageID { seenClientIDs[request.document, default: [:]][id] = event }
                out.work[request.document] = head
                out.committed.append(event)
                outcomes.append(.appended(event, rebased: rebased))
            }
            out.results.append(.success(outcomes))
        }

        return out
    }

    /// Turns a request into an event applied to `head` (or a rejection), with optimistic concurrency: when
    /// the block moved on since the writer's base, the writer's edit is merged with what happened since
    /// (``ThreeWayMerge``) if the two do not overlap, else the request is refused with `conflict`.
    private func prepare(_ request: WriteRequest, seq: Int, head: inout Head) async -> WriteOutcome {
        var change = request.change
        var rebased = false
        if !request.verbatim, let blockID = change.blockID, let block = head.state.block(blockID),
            request.baseSeq != nil || request.baseSHA256 != nil
        {
            var moved = false
            if let baseSeq = request.baseSeq, block.versionSeq > baseSeq { moved = true }
            if let baseSHA = request.baseSHA256, block.sha256 != baseSHA { moved = true }
            if moved {
                let conflict = WriteOutcome.rejected(
                    ApplyError("conflict", "\(blockID) changed since the writer's base (now at seq \(block.versionSeq)) and the edits overlap"),
                    current: Self.version(of: block))
                guard let baseSeq = request.baseSeq, baseSeq < head.state.seq,
                    let base = try? await replayState(head: head, to: baseSeq).state.block(blockID)?.content
                else { return conflict }
                let ours: String
                switch change {
                case .patch(_, let patch, let sha):
                    var scratch = DocumentState()
                    do {
                        _ = try scratch.prepare(.full(blockID: blockID, content: base), seq: 1)
                        _ = try scratch.prepare(.patch(blockID: blockID, patch: patch, expectedSHA256: sha), seq: 2)
                    } catch {
                        return .rejected(error, current: Self.version(of: block))
                    }
                    ours = scratch.block(blockID)?.content ?? base
                case .full(_, let content):
                    ours = content
                default:
                    return conflict
                }
                let theirs = block.content
                guard let merged = ThreeWayMerge.merge(base: base, ours: ours, theirs: theirs) else { return conflict }
                change = .event(DocumentState.contentChange(blockID: blockID, from: theirs, to: merged))
                rebased = true
            }
        }
        do {
            // `prepare` leaves the state unchanged when it throws.
            let body = try head.state.prepare(change, seq: seq)
            return .appended(
                Event(
                    document: request.document, seq: seq, timestampMs: 0, author: request.author,
                    clientMessageID: request.clientMessageID, baseSeq: request.baseSeq, body: body, origin: request.origin),
                rebased: rebased)
        } catch {
            let current = request.change.blockID.flatMap { head.state.block($0) }.map(Self.version(of:))
            return .rejected(error, current: current)
        }
    }

    static func version(of block: DocumentState.Block) -> BlockVersion {
        BlockVersion(blockID: block.id, content: block.content, sha256: block.sha256, seq: block.versionSeq)
    }

    /// Events already stored under the batch's client message ids.
    private func storedDuplicates(in batch: [[WriteRequest]]) async throws -> [String: [String: Event]] {
        var wanted: [String: Set<String>] = [:]
        for requests in batch {
            for request in requests {
                if let id = request.clientMessageID { wanted[request.document, default: []].insert(id) }
            }
        }
        if wanted.isEmpty { return [:] }
        var found: [String: [String: Event]] = [:]
        for (document, ids) in wanted {
            guard let head = try? await loadHead(document) else { continue }
            for (id, seq) in try await backend.seqs(doc: head.id, clientIDs: Array(ids)) {
                if let event = try await events(document, after: seq - 1, limit: 1).first {
                    found[document, default: [:]][id] = event
                }
            }
        }
        return found
    }
}
