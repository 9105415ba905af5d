import Foundation
import MarksyncCore

/// One problem `verify` found.
public struct VerifyProblem: Sendable, Equatable, CustomStringConvertible {
    public var document: String
    /// The first bad seq, when the problem is tied to one.
    public var seq: Int?
    public var message: String
    public var description: String { "\(document)\(seq.map { " seq \($0)" } ?? ""): \(message)" }
}

/// What `verify` checked and found.
public struct VerifyReport: Sendable, Equatable {
    public var documents = 0
    public var events = 0
    public var checkpoints = 0
    public var problems: [VerifyProblem] = []
    public var isClean: Bool { problems.isEmpty }
}

/// Figures of a log.
public struct LogStats: Sendable, Equatable, Codable {
    public var documents = 0
    public var events = 0
    public var authors = 0
    public var checkpoints = 0
    public var checkpointBytes = 0
    public var payloadBytesStored = 0
    public var payloadBytesDecoded = 0
    public var lz4Events = 0
    public var fileBytes = 0
    public var walBytes = 0

    /// Decoded ÷ stored payload bytes.
    public var compressionRatio: Double { payloadBytesStored == 0 ? 1 : Double(payloadBytesDecoded) / Double(payloadBytesStored) }
    /// Database file bytes ÷ events.
    public var bytesPerEvent: Double { events == 0 ? 0 : Double(fileBytes + walBytes) / Double(events) }
}

extension EventLog {
    /// Recomputes the hash chain, replays every event (checking recorded lengths and hashes), compares
    /// every checkpoint and the head with the replay, and runs the database's own check (SQLite's quick_check; PostgreSQL: heads and gaps).
    /// - Parameter progress: called with (events done, events in all) now and then.
    public func verify(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws(StoreError) -> VerifyReport {
        var report = VerifyReport()
        // The database's own check comes after the documents' problems, which name the first bad seq.
        let integrity = try await backend.integrityCheck()
        let documents = try await self.documents()
        let total = documents.reduce(0) { $0 + $1.headSeq }
        var done = 0
        for info in documents {
            report.documents += 1
            // Read the document's rows directly: a damaged checkpoint must not stop verify from reporting it.
            let head = try await documentKeys(info.name)
            let checkpointRows = try await backend.checkpoints(doc: head.id)
            report.checkpoints += checkpointRows.count
            var checkpoints = Dictionary(checkpointRows.map { ($0.seq, $0) }, uniquingKeysWith: { a, _ in a })
            var state = DocumentState()
            var previousHash = [UInt8]()
            var expected = 1
            var failed = false
            pages: while true {
                let raws = try await rawEvents(doc: head.id, after: expected - 1, through: Int.max, limit: Self.pageSize)
                if raws.isEmpty { break }
                for raw in raws {
                    report.events += 1
                    done += 1
                    guard raw.seq == expected else {
                        report.problems.append(
                            VerifyProblem(document: info.name, seq: expected, message: "event \(expected) is missing (the next stored is \(raw.seq))"))
                        failed = true
                        break pages
                    }
                    let event: Event
                    do { event = try Self.decode(raw, document: info.name, blockIDs: head.blockIDs, authors: authorNames) } catch {
                        report.problems.append(VerifyProblem(document: info.name, seq: raw.seq, message: error.message))
                        failed = true
                        break pages
                    }
                    let payload = EventCodec.encode(event.body)
                    let hash = EventCodec.chainHash(
                        previous: previousHash, seq: raw.seq, timestampMs: raw.timestampMs, author: event.author,
                        clientMessageID: raw.clientID, baseSeq: raw.baseSeq, kind: event.body.kind, blockID: event.body.blockID,
                        payload: payload)
                    guard hash == raw.hash else {
                        report.problems.append(
                            VerifyProblem(
                                document: info.name, seq: raw.seq,
                                message: "the hash chain breaks here: the event was changed, moved or inserted"))
                        failed = true
                        break pages
                    }
                    do { try state.apply(event.body, seq: raw.seq, verifying: true) } catch {
                        report.problems.append(VerifyProblem(document: info.name, seq: raw.seq, message: "does not apply: \(error)"))
                        failed = true
                        break pages
                    }
                    if let checkpoint = checkpoints.removeValue(forKey: raw.seq) {
                        if let problem = Self.compare(checkpoint: checkpoint, with: state, hash: hash) {
                            report.problems.append(VerifyProblem(document: info.name, seq: raw.seq, message: problem))
                        }
                    }
                    previousHash = hash
                    expected += 1
                }
                progress?(done, total)
            }
            if failed { continue }
            if let stray = checkpoints.keys.min() {
                report.problems.append(VerifyProblem(document: info.name, seq: stray, message: "a checkpoint exists past the last event"))
            }
            if expected - 1 != info.headSeq {
                report.problems.append(
                    VerifyProblem(
                        document: info.name, seq: expected,
                        message: "the document's head is \(info.headSeq) but the log ends at \(expected - 1)"))
            } else if previousHash != head.hash && info.headSeq > 0 {
                report.problems.append(VerifyProblem(document: info.name, seq: info.headSeq, message: "the head hash differs from the chain"))
            } else if report.problems.isEmpty, (try? await loadHead(info.name).state) != state {
                report.problems.append(
                    VerifyProblem(document: info.name, seq: info.headSeq, message: "the head projection differs from a full replay"))
            }
        }
        if integrity != ["ok"] {
            report.problems.append(
                VerifyProblem(document: "(database)", seq: nil, message: "integrity check: \(integrity.prefix(3).joined(separator: "; "))"))
        }
        return report
    }

    /// A document's id, head hash and block keys, read without building its head.
    func documentKeys(_ name: String) async throws(StoreError) -> (id: Int64, hash: [UInt8], blockIDs: [Int: String]) {
        guard let row = try await backend.documentRow(name) else { throw StoreError(.unknownDocument, "there is no document \(name)") }
        let keys = try await backend.blockKeys(doc: row.id)
        if try await backend.authorCount() != authorNames.count { try await loadAuthors() }
        return (row.id, row.headHash, keys)
    }

    private static func compare(
        checkpoint: StoredCheckpoint, with state: DocumentState, hash: [UInt8]
    ) -> String? {
        guard checkpoint.hash == hash else { return "the checkpoint's hash differs from the event's" }
        do {
            let bytes = try (checkpoint.codec == 1 ? PayloadCodec.lz4 : PayloadCodec.raw).decode(checkpoint.state)
            let stored = try DocumentState(checkpoint: bytes)
            return stored == state ? nil : "the checkpoint differs from the replay"
        } catch {
            return "the checkpoint is damaged: \(error)"
        }
    }

    /// Recomputes every projection from the log: checkpoints are dropped and written again every
    /// ``Options/checkpointEvents`` events, and the heads are rebuilt.
    public func rebuild(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws(StoreError) -> Int {
        let documents = try await self.documents()
        let total = documents.reduce(0) { $0 + $1.headSeq }
        var done = 0
        var written = 0
        for info in documents {
            // Built from the rows, not from the checkpoints this replaces (they may be the damaged part).
            let keys = try await documentKeys(info.name)
            var head = Head(
                id: keys.id, name: info.name, state: DocumentState(), hash: keys.hash, blockKeys: [:], blockIDs: keys.blockIDs,
                eventsSinceCheckpoint: 0, workSinceCheckpoint: 0)
            for (key, id) in keys.blockIDs { head.blockKeys[id] = key }
            let docID = head.id
            try await backend.deleteCheckpoints(doc: docID)
            var state = DocumentState()
            var pending = [CheckpointRow]()
            var sinceCheckpoint = 0
            var work = 0
            var lastHash = [UInt8]()
            while state.seq < info.headSeq {
                let raws = try await rawEvents(doc: head.id, after: state.seq, through: info.headSeq, limit: Self.pageSize)
                guard !raws.isEmpty else { throw StoreError(.corrupt, "\(info.name) has no event \(state.seq + 1); run verify") }
                for raw in raws {
                    guard raw.seq == state.seq + 1 else { throw StoreError(.corrupt, "\(info.name) jumps to seq \(raw.seq); run verify") }
                    try Self.replay(raw, into: &state, document: info.name, blockIDs: head.blockIDs, authors: authorNames)
                    lastHash = raw.hash
                    sinceCheckpoint += 1
                    work += Self.replayCost(blockID: raw.block.flatMap { head.blockIDs[$0] }, in: state, payloadBytes: raw.payload.count)
                    if sinceCheckpoint >= options.checkpointEvents || work >= options.checkpointWork {
                        work = 0
                        let (codec, bytes) = PayloadCodec.encode(state.encodeCheckpoint())
                        pending.append(
                            CheckpointRow(doc: head.id, seq: state.seq, codec: codec == .lz4 ? 1 : 0, state: Data(bytes), hash: Data(raw.hash)))
                        sinceCheckpoint = 0
                    }
                }
                done += raws.count
                progress?(done, total)
                if pending.count >= 16 || state.seq == info.headSeq {
                    let rows = pending
                    pending.removeAll()
                    written += rows.count
                    try await backend.insertCheckpoints(rows)
                }
            }
            head.state = state
            head.hash = lastHash
            head.eventsSinceCheckpoint = sinceCheckpoint
            head.workSinceCheckpoint = work
            heads[info.name] = head
        }
        scheduleYjsWarmUp(documents: documents.map(\.name))
        return written
    }

    /// Figures of the log.
    public func stats() async throws(StoreError) -> LogStats {
        let counts = try await backend.counts()
        var stats = LogStats()
        stats.documents = counts.documents
        stats.events = counts.events
        stats.authors = counts.authors
        stats.checkpoints = counts.checkpoints
        stats.checkpointBytes = counts.checkpointBytes
        stats.payloadBytesStored = counts.payloadBytesStored
        stats.payloadBytesDecoded = counts.payloadBytesDecoded
        stats.lz4Events = counts.lz4Events
        stats.fileBytes = counts.fileBytes
        stats.walBytes = counts.walBytes
        return stats
    }

    /// Copies every committed WAL page into the database file (`PRAGMA wal_checkpoint(TRUNCATE)`).
    public func checkpointWAL() async throws(StoreError) {
        try await backend.checkpointWAL()
    }

    // MARK: - Consumers

    /// The stored cursor of a durable consumer (nil when it has none yet).
    public func cursor(document: String, consumer: String) async throws(StoreError) -> Int? {
        let head = try await loadHead(document)
        return try await backend.cursor(doc: head.id, consumer: consumer)
    }

    /// Moves a durable consumer's cursor (durable when this returns).
    /// A new consumer (or one without an owner yet) gets `owner`, the identity allowed to move it.
    public func setCursor(document: String, consumer: String, seq: Int, owner: String? = nil) async throws(StoreError) {
        let head = try await loadHead(document)
        guard seq >= 0, seq <= head.state.seq else {
            throw StoreError(.seqOutOfRange, "cursor \(seq) is outside 0…\(head.state.seq) of \(document)")
        }
        let now = Self.nowMs()
        try await backend.setCursor(doc: head.id, consumer: consumer, seq: seq, updatedMs: now, owner: owner)
    }

    /// The owner of a durable consumer: nil when there is no such consumer, `.some(nil)` when it has none.
    public func consumerOwner(document: String, consumer: String) async throws(StoreError) -> String?? {
        let head = try await loadHead(document)
        return try await backend.consumerOwner(doc: head.id, consumer: consumer)
    }

    /// Durable consumers of a document with their cursors.
    public func consumers(document: String) async throws(StoreError) -> [(name: String, seq: Int, updatedMs: Int64)] {
        let head = try await loadHead(document)
        let rows = try await backend.consumers(doc: head.id)
        return rows.map { ($0.name, $0.seq, $0.updatedMs) }
    }
}

struct ConsumerRow: Sendable {
    var name: String
    var seq: Int
    var updatedMs: Int64
}
