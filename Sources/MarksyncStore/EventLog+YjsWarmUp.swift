import Foundation
import MarksyncCore

/// What the background warm-up of Yjs checkpoints has done since the log was opened
/// (``EventLog/yjsWarmUpStatus``).
public struct YjsWarmUpStatus: Sendable, Equatable {
    /// Whether a warm-up is running or waiting to run.
    public var running = false
    /// Documents waiting for their turn, in order.
    public var pending: [String] = []
    /// Warm-ups finished (including those that found nothing to do or failed).
    public var runs = 0
    /// Yjs checkpoints written by warm-ups.
    public var checkpointsWritten = 0
    /// Events replayed through the projection by warm-ups.
    public var eventsReplayed = 0
    /// Seconds the warm-ups took, end to end (replay, checkpoint encoding, reads and writes).
    public var seconds: Double = 0
    /// The last failure of each document (removed by its next successful warm-up).
    public var failures: [String: StoreError] = [:]
}

/// The warm-up's state, kept by the actor (``EventLog/yjsWarmUp``).
struct YjsWarmUpState {
    var pending: [String] = []
    var task: Task<Void, Never>?
    /// Bumped whenever a runner is started or stopped: a runner of an older generation ends at its next turn.
    var generation = 0
    /// Set by ``EventLog/stopYjsWarmUp()``, cleared by ``EventLog/resumeYjsWarmUp()``: nothing is warmed meanwhile.
    var paused = false
    var status = YjsWarmUpStatus()
    var onError: (@Sendable (String, StoreError) -> Void)?
    /// The projection the last warm-up ended with, and the hash of its event: the next warm-up of the same
    /// document continues from it instead of decoding the checkpoint it just wrote.
    var last: (docID: Int64, hash: [UInt8], projection: YjsProjection)?
    /// When `last` was kept: it is dropped once no warm-up has run for ``EventLog/yjsWarmUpKeepSeconds``.
    var lastKept: ContinuousClock.Instant?
}

/// One warm-up's work: replay from `start` to `target`, storing a checkpoint at each seq of `due`.
struct YjsWarmUpPlan: Sendable {
    var head: EventLog.Head
    var start: YjsProjection
    var due: Set<Int>
    var target: Int
}

/// The Yjs checkpoints follow the log's (docs/crdt.md, "Checkpoints").
///
/// When a commit writes log checkpoints, the documents concerned are queued for a **warm-up**: a background
/// task that replays each document through its ``YjsProjection`` from the nearest usable Yjs checkpoint (or
/// from where its previous warm-up stopped, kept in memory until the warm-ups have been idle for
/// ``yjsWarmUpKeepSeconds``) and stores a Yjs checkpoint at every log checkpoint that lacks
/// one, so that the first export at any seq replays only the events since the nearest checkpoint.
///
/// * The commit only queues (no I/O, no await): acks never wait for a warm-up.
/// * One runner per log at a time, taking the queued documents one after the other; a document is queued
///   at most once, so commits that write checkpoints while it runs coalesce into one more turn.
/// * The replay runs off the actor (the runner is a detached task); the actor is only entered for the
///   short reads of each page of events and for the writes of the checkpoints. A warm-up reads committed
///   rows only (log checkpoints are written in the transaction of their events) and Yjs checkpoints are a
///   function of the events up to their seq, so appends interleaving with it change nothing it computes.
/// * It is a cache: a failure is recorded in ``yjsWarmUpStatus`` and passed to the handler of
///   ``setYjsWarmUpErrorHandler(_:)``, never thrown at a writer; an export replays what is missing.
/// * ``stopYjsWarmUp()`` cancels it (at the next page of events) and waits for it: servers call it when
///   they shut down.
extension EventLog {
    /// What the warm-up has done so far.
    public var yjsWarmUpStatus: YjsWarmUpStatus {
        var status = yjsWarmUp.status
        status.running = yjsWarmUp.task != nil
        status.pending = yjsWarmUp.pending
        return status
    }

    /// Called with the document and the error when a warm-up fails (a server logs it).
    public func setYjsWarmUpErrorHandler(_ handler: (@Sendable (String, StoreError) -> Void)?) {
        yjsWarmUp.onError = handler
    }

    /// Warms every document whose log checkpoints lack Yjs checkpoints (after opening a log written by an
    /// older binary, a `rebuild`, an `import` or a cleared cache) and returns when the warm-up has nothing
    /// left to do. Does nothing after ``stopYjsWarmUp()`` until ``resumeYjsWarmUp()``.
    @discardableResult
    public func warmYjsCheckpoints() async -> YjsWarmUpStatus {
        do {
            enqueueYjsWarmUp(try await documentsLackingYjsCheckpoints())
        } catch {
            yjsWarmUpFailed("(all documents)", error)
        }
        await waitForYjsWarmUp()
        return yjsWarmUpStatus
    }

    /// Returns when no warm-up is running or queued.
    public func waitForYjsWarmUp() async {
        while let task = yjsWarmUp.task { await task.value }
    }

    /// Cancels the running warm-up, drops the queued ones and waits for the runner to stop (it stops at its
    /// next page of events). Nothing is warmed any more until ``resumeYjsWarmUp()``.
    public func stopYjsWarmUp() async {
        yjsWarmUp.paused = true
        yjsWarmUp.pending.removeAll()
        yjsWarmUp.last = nil
        yjsWarmUp.lastKept = nil
        yjsWarmUp.generation += 1
        let task = yjsWarmUp.task
        yjsWarmUp.task = nil
        task?.cancel()
        await task?.value
    }

    /// Lets commits and ``warmYjsCheckpoints()`` warm Yjs checkpoints again after ``stopYjsWarmUp()``.
    public func resumeYjsWarmUp() {
        yjsWarmUp.paused = false
    }

    /// The seq from which an export at `seq` (the head when nil) replays: its nearest usable Yjs checkpoint,
    /// or 0. Such an export replays `seq − yjsExportStart(…)` events.
    public func yjsExportStart(_ document: String, at seq: Int? = nil) async throws(StoreError) -> Int {
        let head = try await loadHead(document)
        let target = seq ?? head.state.seq
        guard target >= 0, target <= head.state.seq else {
            throw StoreError(.seqOutOfRange, "\(document) has events 1…\(head.state.seq); there is no seq \(target)")
        }
        return try await yjsStart(head: head, atOrBefore: target).seq
    }

    // MARK: - Scheduling

    /// Queues a warm-up of the documents of log checkpoints a commit just wrote (unless
    /// ``Options/warmsYjsCheckpoints`` is off). No I/O: the commit's callers are not kept waiting.
    func scheduleYjsWarmUp(for checkpoints: [CheckpointRow]) {
        let ids = Set(checkpoints.map(\.doc))
        scheduleYjsWarmUp(documents: heads.values.filter { ids.contains($0.id) }.map(\.name).sorted())
    }

    /// Queues a warm-up of documents whose log checkpoints changed (unless ``Options/warmsYjsCheckpoints`` is off).
    func scheduleYjsWarmUp(documents: [String]) {
        guard options.warmsYjsCheckpoints else { return }
        enqueueYjsWarmUp(documents)
    }

    private func enqueueYjsWarmUp(_ documents: [String]) {
        guard !yjsWarmUp.paused else { return }
        for name in documents where !yjsWarmUp.pending.contains(name) { yjsWarmUp.pending.append(name) }
        guard yjsWarmUp.task == nil, !yjsWarmUp.pending.isEmpty else { return }
        yjsWarmUp.generation += 1
        let generation = yjsWarmUp.generation
        yjsWarmUp.task = Task.detached(priority: .utility) { [self] in await Self.runYjsWarmUps(self, generation: generation) }
    }

    /// How long the projection of the last warm-up is kept in memory after the warm-ups stop (commits that
    /// write checkpoints come every few hundred milliseconds during an ingest; a quiet log frees it).
    static var yjsWarmUpKeepSeconds: Int { 10 }

    /// The runner's next document; nil (and the runner slot freed) when there is none or the runner was stopped.
    private func nextYjsWarmUp(_ generation: Int) -> String? {
        guard generation == yjsWarmUp.generation else { return nil }
        guard !Task.isCancelled, !yjsWarmUp.paused, !yjsWarmUp.pending.isEmpty else {
            yjsWarmUp.task = nil
            if yjsWarmUp.last != nil {
                Task.detached(priority: .utility) { [self] in
                    try? await Task.sleep(for: .seconds(Self.yjsWarmUpKeepSeconds))
                    await self.dropIdleYjsWarmUpProjection()
                }
            }
            return nil
        }
        return yjsWarmUp.pending.removeFirst()
    }

    private func dropIdleYjsWarmUpProjection() {
        guard yjsWarmUp.task == nil, let kept = yjsWarmUp.lastKept, ContinuousClock.now - kept >= .seconds(Self.yjsWarmUpKeepSeconds) else {
            return
        }
        yjsWarmUp.last = nil
        yjsWarmUp.lastKept = nil
    }

    private func finishYjsWarmUp(_ document: String, _ result: Result<(written: Int, replayed: Int), StoreError>, took: Duration) {
        yjsWarmUp.status.runs += 1
        yjsWarmUp.status.seconds += Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        switch result {
        case .success(let done):
            yjsWarmUp.status.checkpointsWritten += done.written
            yjsWarmUp.status.eventsReplayed += done.replayed
            yjsWarmUp.status.failures[document] = nil
        case .failure(let error):
            yjsWarmUpFailed(document, error)
        }
    }

    private func yjsWarmUpFailed(_ document: String, _ error: StoreError) {
        yjsWarmUp.status.failures[document] = error
        yjsWarmUp.onError?(document, error)
    }

    private func keepYjsWarmUpProjection(docID: Int64, _ projection: YjsProjection) async {
        guard projection.seq > 0, let raw = try? await rawEvents(doc: docID, after: projection.seq - 1, through: projection.seq, limit: 1).first
        else { return }
        yjsWarmUp.last = (docID, raw.hash, projection)
        yjsWarmUp.lastKept = .now
    }

    // MARK: - The runner (off the actor)

    private static func runYjsWarmUps(_ log: EventLog, generation: Int) async {
        while let document = await log.nextYjsWarmUp(generation) {
            let started = ContinuousClock.now
            let result: Result<(written: Int, replayed: Int), StoreError>
            do { result = .success(try await warmYjs(log, document)) } catch { result = .failure(error) }
            await log.finishYjsWarmUp(document, result, took: ContinuousClock.now - started)
        }
    }

    /// Replays one document through its projection up to its last log checkpoint lacking a Yjs checkpoint,
    /// storing the missing ones as it passes them (the replay runs here, off the actor).
    private static func warmYjs(_ log: EventLog, _ document: String) async throws(StoreError) -> (written: Int, replayed: Int) {
        guard var plan = try await log.yjsWarmUpPlan(document) else { return (0, 0) }
        // The only reference to the start projection from here on: replaying into it copies nothing.
        var projection = plan.start
        plan.start = YjsProjection(document: document)
        var due = plan.due
        var written = 0
        var replayed = 0
        var snapshots = [(seq: Int, bytes: [UInt8])]()
        if due.remove(projection.seq) != nil { snapshots.append((projection.seq, projection.encodeCheckpoint())) }
        while projection.seq < plan.target, !Task.isCancelled {
            let page = try await log.yjsReplayEvents(head: plan.head, after: projection.seq, through: plan.target, limit: pageSize)
            guard !page.isEmpty else { throw StoreError(.corrupt, "the log of \(document) has no event \(projection.seq + 1)") }
            for (index, event) in page.enumerated() {
                do { try projection.apply(event, encoding: false) } catch {
                    throw StoreError(.corrupt, "event \(event.seq) of \(document) does not apply to its Yjs projection: \(error)")
                }
                if due.remove(event.seq) != nil { snapshots.append((event.seq, projection.encodeCheckpoint())) }
                // Two cores, two threads in the cooperative pool: let request handlers in now and then.
                if index % 1024 == 1023 { await Task.yield() }
            }
            replayed += page.count
            if !snapshots.isEmpty {
                try await log.writeYjsCheckpoints(docID: plan.head.id, snapshots)
                written += snapshots.count
                snapshots.removeAll()
            }
        }
        if !snapshots.isEmpty {
            try await log.writeYjsCheckpoints(docID: plan.head.id, snapshots)
            written += snapshots.count
        }
        await log.keepYjsWarmUpProjection(docID: plan.head.id, projection)
        return (written, replayed)
    }

    /// Where a warm-up of `document` starts and what it must store; nil when every log checkpoint has its
    /// Yjs checkpoint.
    private func yjsWarmUpPlan(_ document: String) async throws(StoreError) -> YjsWarmUpPlan? {
        let head: Head
        if let loaded = heads[document] {
            head = loaded
        } else {
            // The projection needs the document's id and block keys, not its state: no head is built for it.
            let keys = try await documentKeys(document)
            head = Head(
                id: keys.id, name: document, state: DocumentState(), hash: keys.hash, blockKeys: [:], blockIDs: keys.blockIDs,
                eventsSinceCheckpoint: 0, workSinceCheckpoint: 0)
        }
        let coverage = try await yjsCheckpointCoverage(docID: head.id)
        guard let first = coverage.firstIndex(where: { !$0.stored }) else { return nil }
        let due = coverage[first...].filter { !$0.stored }.map(\.seq)
        let firstMissing = coverage[first].seq
        // Every log checkpoint before the first missing one has its Yjs checkpoint: start from the last of
        // them, or from the previous warm-up's projection when it is at least as far and still the log's.
        let previous = first > 0 ? coverage[first - 1].seq : 0
        var start: YjsProjection?
        if let last = yjsWarmUp.last, last.docID == head.id, last.projection.seq >= previous, last.projection.seq <= firstMissing,
            let raw = try await rawEvents(doc: head.id, after: last.projection.seq - 1, through: last.projection.seq, limit: 1).first,
            raw.hash == last.hash
        {
            // Taken out, not shared: the warm-up mutates it, and a second reference would make that a copy of
            // the whole document.
            start = last.projection
            yjsWarmUp.last = nil
            yjsWarmUp.lastKept = nil
        }
        if start == nil { start = try await yjsStart(head: head, atOrBefore: firstMissing) }
        return YjsWarmUpPlan(head: head, start: start ?? YjsProjection(document: document), due: Set(due), target: due.last ?? 0)
    }

    /// Every log checkpoint of a document, in seq order, with whether a usable Yjs checkpoint of this
    /// binary's format is stored at its seq.
    func yjsCheckpointCoverage(docID: Int64) async throws(StoreError) -> [(seq: Int, stored: Bool)] {
        let format = Self.yjsCheckpointFormat
        let seqs = try await backend.checkpointSeqs(doc: docID, after: 0, through: Int.max)
        let missing = Set(try await backend.missingYjsCheckpoints(doc: docID, after: 0, through: Int.max, format: format))
        return seqs.map { ($0, !missing.contains($0)) }
    }

    /// Documents with a log checkpoint that has no usable Yjs checkpoint, by name.
    func documentsLackingYjsCheckpoints() async throws(StoreError) -> [String] {
        let format = Self.yjsCheckpointFormat
        var out = [String]()
        for info in try await backend.documents() {
            guard let row = try await backend.documentRow(info.name) else { continue }
            if !(try await backend.missingYjsCheckpoints(doc: row.id, after: 0, through: Int.max, format: format)).isEmpty {
                out.append(info.name)
            }
        }
        return out
    }
}
