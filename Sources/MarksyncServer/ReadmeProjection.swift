import Foundation
import Logging
import MarksyncCore
import MarksyncStore
import Synchronization

/// How README projections are written and timed; tests replace the writer (a failing disk) and the clock.
public struct ProjectionHooks: Sendable {
    /// Writes a README's bytes in place (default: ``AtomicFile/write(_:_:)``).
    public var write: @Sendable (_ path: String, _ text: String) throws -> Void = { try AtomicFile.write($0, $1) }
    /// Now, for retry back-off.
    public var now: @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    /// The first retry after a failed write; each further failure doubles it, up to `maximumBackoff`.
    public var initialBackoff: Duration = .milliseconds(100)
    public var maximumBackoff: Duration = .seconds(5)
    public init() {}
}

/// README.md on disk as a projection of a document: written atomically, every write recorded in the log's
/// database (seq and sha256) so that a file is recognised as "the projection at seq N" for any N, and
/// watched for edits made by people, which are merged onto the head three-way (docs/operations.md).
final class ReadmeProjection: Sendable {
    let path: String
    let document: String
    /// The README's lock (`.README.md.lock`): one projector per path.
    let lock: OwnershipLock
    struct FileStamp: Equatable {
        var modified: Date?
        var size: Int?
        var inode: Int?
    }
    private struct State {
        /// What this process last wrote (or found in place, or merged from the file).
        var lastWritten: String?
        /// The text known to be in the file now (nil when it holds something else, or is unknown).
        var onDisk: String?
        /// The last few texts written or found: the candidate bases of an edit (newest last).
        var recent: [String] = []
        /// The file's stamp when its bytes were last known (nil: unknown, the next look reads the file).
        var stamp: FileStamp?
        /// The stamp seen by the last look, taken before its bytes were read.
        var observed: FileStamp?
        var dirty = false
        var failures = 0
        var lastError: String?
        var retryAt: ContinuousClock.Instant?
        /// The sha256 of the text last recorded in the log by this process.
        var recordedSHA: String?
    }
    private let state = Mutex(State())

    init(path: String, document: String, lock: OwnershipLock) {
        self.path = path
        self.document = document
        self.lock = lock
    }

    /// The lock file of a README path.
    static func lockPath(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).lock").path
    }

    var conflictPath: String { path + ".conflict" }

    func markDirty() { state.withLock { $0.dirty = true } }
    var isDirty: Bool { state.withLock { $0.dirty } }
    var lastWritten: String? { state.withLock { $0.lastWritten } }
    var onDisk: String? { state.withLock { $0.onDisk } }
    /// The texts an edit of the file may have started from, newest last.
    var recentTexts: [String] { state.withLock { $0.recent } }
    static let recentLimit = 8

    private static func remember(_ text: String, in state: inout State) {
        state.lastWritten = text
        state.recent.removeAll { $0 == text }
        state.recent.append(text)
        if state.recent.count > recentLimit { state.recent.removeFirst(state.recent.count - recentLimit) }
    }
    /// The current failure (attempts and the last error) while writes fail.
    var failure: (attempts: Int, error: String)? {
        state.withLock { $0.failures > 0 ? ($0.failures, $0.lastError ?? "unknown error") : nil }
    }

    /// The file's modification time, size and inode now; nil when there is no regular file at the path.
    static func stamp(_ path: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular
        else { return nil }
        return FileStamp(
            modified: attributes[.modificationDate] as? Date, size: (attributes[.size] as? NSNumber)?.intValue,
            inode: (attributes[.systemFileNumber] as? NSNumber)?.intValue)
    }

    /// What is at the path when it changed since the last write or check: `.some(data)` for a file someone
    /// wrote, `.some(nil)` when the path holds no readable file (deleted, or a folder); nil when unchanged.
    ///
    /// A stamp is only ever taken before the bytes it stands for are read, never after a write or a merge:
    /// a save landing in between then shows as a new stamp at the next look instead of being taken for
    /// bytes already known (and overwritten later). After a write the stamp is unknown, so the next look
    /// reads the file; bytes equal to what this process knows are there are not a change.
    func changeOnDisk() -> Data?? {
        let now = Self.stamp(path)
        let changed = state.withLock { state -> Bool in
            state.observed = now
            if now == nil { return true }
            return state.stamp != now
        }
        guard changed else { return nil }
        guard now != nil, let data = FileManager.default.contents(atPath: path) else { return .some(nil) }
        let known = state.withLock { state -> Bool in
            guard let onDisk = state.onDisk, onDisk.utf8.elementsEqual(data) else { return false }
            state.stamp = now
            return true
        }
        return known ? nil : .some(data)
    }

    /// Takes the bytes read by the last ``changeOnDisk()`` as known (after they were reconciled with the
    /// log): `text` when they are what the log has, nil when the file holds something else (restored next).
    func noteChecked(text: String?) {
        state.withLock { state in
            state.stamp = state.observed
            state.onDisk = text
            if let text { Self.remember(text, in: &state) }
        }
    }

    var debugState: String {
        state.withLock { s in
            "\(path): dirty \(s.dirty), failures \(s.failures) (\(s.lastError ?? "-")), retry at \(s.retryAt.map { "\($0)" } ?? "-"), stamp \(s.stamp.map { "\($0)" } ?? "nil"), observed \(s.observed.map { "\($0)" } ?? "nil"), on disk \(s.onDisk?.utf8.count ?? -1) B, last written \(s.lastWritten?.utf8.count ?? -1) B"
        }
    }

    /// Whether a write should be tried now (dirty, and past the back-off of a failure).
    func writeDue(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in state.dirty && (state.retryAt.map { now >= $0 } ?? true) }
    }

    var recordedSHA: String? { state.withLock { $0.recordedSHA } }

    /// The text (of this sha256) is in place and recorded in the log.
    func wrote(_ text: String, sha256: String) {
        state.withLock { state in
            state.recordedSHA = sha256
            state.onDisk = text
            Self.remember(text, in: &state)
            // Unknown until the next look reads the file (a save right after the rename must not be missed).
            state.stamp = nil
            state.dirty = false
            state.failures = 0
            state.lastError = nil
            state.retryAt = nil
        }
    }

    /// Records a failed write: the projection stays dirty and is retried after a doubling back-off.
    /// Returns the number of consecutive failures.
    func failed(_ error: String, at now: ContinuousClock.Instant, hooks: ProjectionHooks) -> Int {
        state.withLock { state in
            state.failures += 1
            state.lastError = error
            state.dirty = true
            var backoff = hooks.initialBackoff
            for _ in 1..<min(state.failures, 20) { backoff = min(backoff * 2, hooks.maximumBackoff) }
            state.retryAt = now + min(backoff, hooks.maximumBackoff)
            return state.failures
        }
    }

    /// Removes `.README.md.<uuid>.tmp` files a kill left behind in the README's folder (the lock is held, so
    /// no writer of this README is under way). Returns the names removed.
    func removeStaleTemporaryFiles() -> [String] {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed = [String]()
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }
}

/// Why the server is degraded, for `/health`.
public struct HealthProblem: Sendable, Equatable, CustomStringConvertible {
    /// Stable reason codes.
    public struct Reason: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The log's file vanished or was replaced: writes are refused.
        public static let storage = Reason(rawValue: "storage")
        /// A README projection cannot be written (retrying).
        public static let projection = Reason(rawValue: "projection_write_failed")
        /// A README.md.conflict holds text from the file that was not taken into the log (a note, not a
        /// problem: the server is healthy, but someone should look at it and then delete the file).
        public static let conflictKept = Reason(rawValue: "projection_conflict")
    }
    public var reason: Reason
    public var message: String
    public var description: String { "\(reason.rawValue): \(message)" }
}

extension SyncServer {
    /// What keeps the server from being healthy now (empty when it is): `/health` reports `degraded` with these.
    public func healthProblems() -> [HealthProblem] {
        var problems = [HealthProblem]()
        if let storage = log.storageProblem { problems.append(HealthProblem(reason: .storage, message: storage)) }
        for projection in projectionList() {
            if let failure = projection.failure {
                problems.append(
                    HealthProblem(
                        reason: .projection,
                        message: "\(projection.path) (document \(projection.document)) not written after \(failure.attempts) attempts, retrying: \(failure.error)"))
            }
        }
        return problems
    }

    /// The projections' internal state in one line (for a test that failed to see a write).
    public func projectionDebugState() -> String {
        projectionList().map { $0.debugState }.joined(separator: "; ")
    }

    /// What someone should look at though the server is healthy: each README.md.conflict still present
    /// next to a projected README (`/health` lists them as `notes`; the file's removal clears the note).
    public func healthNotes() -> [HealthProblem] {
        projectionList().compactMap { projection in
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: projection.conflictPath) else { return nil }
            let when = (attributes[.modificationDate] as? Date).map { " since \($0.ISO8601Format())" } ?? ""
            return HealthProblem(
                reason: .conflictKept,
                message: "\(projection.conflictPath) holds an edit of \(projection.path) not taken into the log\(when): merge it by hand, then delete it")
        }
    }

    /// Takes a README for a document: its lock, stale temporary files removed, the file reconciled with the
    /// log (imported when the document is new), then written from the log when it differs.
    func openProjection(_ document: String, readme: String) async throws {
        let lock: OwnershipLock
        do { lock = try OwnershipLock.acquire(ReadmeProjection.lockPath(of: readme), what: "the README \(readme)") } catch {
            logger.error("\(error.message)")
            throw error
        }
        let projection = ReadmeProjection(path: readme, document: document, lock: lock)
        for name in projection.removeStaleTemporaryFiles() { logger.warning("removed \(name), left by a write that was interrupted") }
        if !(try await log.hasDocument(document)) {
            if let data = FileManager.default.contents(atPath: readme), let text = String(data: data, encoding: .utf8) {
                _ = try await log.ingest(document: document, markdown: text, author: "file")
            } else {
                try await log.createDocument(document)
            }
        } else if case .some(.some(let data)) = projection.changeOnDisk() {
            try await reconcile(projection, data: data, bases: [])
        }
        projection.markDirty()
        registerProjection(projection)
        await writeProjection(projection)
    }

    /// Writes dirty projections (with back-off after failures) and merges edits made to the files.
    func maintainProjections() async {
        _ = log.storageProblem
        for projection in projectionList() {
            do {
                if case .some(let found) = projection.changeOnDisk() {
                    if let data = found {
                        try await reconcile(projection, data: data, bases: projection.recentTexts)
                    } else {
                        // Deleted, or not a file: restored from the log.
                        projection.markDirty()
                    }
                }
            } catch {
                logger.error("projection of \(projection.document) to \(projection.path): \(error)")
            }
            if projection.writeDue(at: projectionHooks.withLock { $0 }.now()) { await writeProjection(projection) }
        }
    }

    /// Writes every dirty projection now (at shutdown), once.
    func flushProjections() async {
        for projection in projectionList() where projection.isDirty { await writeProjection(projection) }
    }

    /// A file found on disk, compared with the log: the head or a recorded projection (rewritten to the head
    /// if stale), an empty, truncated or unparseable file (restored from the log; its text kept aside), or an
    /// edit, merged three-way onto the head from its base — of the last projections written to that path
    /// (`bases`, else the log's records), the one nearest the file. What cannot merge goes to
    /// README.md.conflict; nothing acked is ever reverted.
    func reconcile(_ projection: ReadmeProjection, data: Data, bases known: [String]) async throws {
        let document = projection.document
        let path = projection.path
        defer { projection.markDirty() }
        guard let text = String(data: data, encoding: .utf8) else {
            keepAside(projection, data: data, why: "\(path) is not UTF-8 text: restored from the log")
            return projection.noteChecked(text: nil)
        }
        let head = try await log.head(document)
        if text == head.render() { return projection.noteChecked(text: text) }
        if let seq = try await log.projectedSeq(document: document, sha256: SHA256.hexDigest(of: Array(data))) {
            logger.info("\(path) is the projection of seq \(seq) (the head is \(head.seq)): rewritten from the log, not taken for an edit")
            return projection.noteChecked(text: nil)
        }
        if text.allSatisfy(\.isWhitespace) {
            logger.warning("\(path) is empty: restored from the log (an empty file is never read as deleting every block)")
            return projection.noteChecked(text: nil)
        }
        var candidates = known
        if candidates.isEmpty {
            for record in try await log.recentProjections(document: document, path: path) {
                candidates.append(try await log.state(document, at: record.seq).render())
            }
            candidates.reverse()
        }
        guard let nearest = Self.nearest(to: text, among: candidates) else {
            keepAside(projection, data: data, why: "\(path) differs from the log and no projection of it is recorded to merge from: restored from the log")
            return projection.noteChecked(text: nil)
        }
        let base = try await baseBeforeMissingBlocks(projection, text: text, base: nearest, head: head)
        let parsed = MarkpactDocument(parsing: text)
        let truncated = text.count < base.count && base.hasPrefix(text) && !text.hasSuffix("\n")
        if truncated || parsed.warnings.contains(where: { $0.code == "unclosed_fence" }) {
            keepAside(projection, data: data, why: "\(path) is \(truncated ? "truncated" : "unparseable (a fence is not closed)"): restored from the log")
            return projection.noteChecked(text: nil)
        }
        switch try await log.mergeEdit(document: document, base: base, edited: text, author: "file") {
        case .unchanged:
            return projection.noteChecked(text: text)
        case .merged(let seq, let appended):
            logger.info("\(path) was edited on disk: merged onto the head as \(appended) events by author file (head \(seq))")
            // The file is now what the next edit starts from (its changes are in the log).
            return projection.noteChecked(text: text)
        case .conflict(let seq):
            keepAside(
                projection, data: data,
                why: "\(path) was edited on disk where the log changed too (head \(seq)): the log's version is kept, the edit is in \(projection.conflictPath)")
        }
        projection.noteChecked(text: nil)
    }

    /// The candidate base closest to the edited text (the fewest bytes outside their common prefix and
    /// suffix; the newest on a tie): an editor that loaded an older projection than the last one written
    /// has that older one as its base, and merging from a newer one would undo the changes in between.
    static func nearest(to text: String, among candidates: [String]) -> String? {
        let edited = Array(text.utf8)
        var best: (text: String, distance: Int)?
        for candidate in candidates.reversed() {
            let distance = Self.distance(Array(candidate.utf8), edited)
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.text
    }

    /// The bytes of `a` and `b` outside their common prefix and suffix.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let limit = min(a.count, b.count)
        var prefix = 0
        while prefix < limit && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < limit - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        return a.count + b.count - 2 * (prefix + suffix)
    }

    /// How many projections recorded before a block's creation are tried as the base of an edit without it.
    static let olderBaseLimit = 4

    /// The base to merge an edit from, given the nearest recent projection `base`. A block in that base and
    /// in the head but not in the file looks deleted by the edit, yet the editor may simply hold a copy
    /// loaded before the block was created (by an agent, while the file was open). So the projections
    /// recorded before that block's creation are tried too, and one at least as near the file wins: a
    /// deletion is never inferred where an older base explains the file as well (a block the user really
    /// removed can be removed again; an acked block lost cannot be brought back by anyone).
    func baseBeforeMissingBlocks(_ projection: ReadmeProjection, text: String, base: String, head: DocumentState) async throws -> String {
        let inFile = Set(MarkpactDocument(parsing: text).blocks.map(\.id))
        let created = MarkpactDocument(parsing: base).blocks.map(\.id)
            .filter { !inFile.contains($0) }
            .compactMap { head.block($0)?.createdSeq }
        guard !created.isEmpty else { return base }
        let edited = Array(text.utf8)
        var best = (text: base, distance: Self.distance(Array(base.utf8), edited))
        for seq in Set(created).sorted(by: >) {
            let records = try await log.recentProjections(
                document: projection.document, path: projection.path, before: seq, limit: Self.olderBaseLimit)
            for record in records {
                let candidate = try await log.state(projection.document, at: record.seq).render()
                let distance = Self.distance(Array(candidate.utf8), edited)
                if distance <= best.distance { best = (candidate, distance) }
            }
        }
        if best.text != base {
            logger.info("\(projection.path) lacks blocks created after the copy it was edited from: merged from that older projection, so they are kept")
        }
        return best.text
    }

    /// Keeps a file's text that is not taken into the log in README.md.conflict, and says so.
    private func keepAside(_ projection: ReadmeProjection, data: Data, why: String) {
        metrics.projectionConflict()
        do {
            try AtomicFile.write(projection.conflictPath, String(decoding: data, as: UTF8.self))
            logger.warning("\(why); the file's text is in \(projection.conflictPath)")
        } catch {
            logger.error("\(why); its text could not be kept in \(projection.conflictPath): \(error)")
        }
    }

    /// Writes the head to the README when it differs: the write is recorded in the log first (seq, sha256),
    /// then done (temp file, fsync, rename), then confirmed. A failure keeps the projection dirty, counts
    /// in the metrics, and is retried with back-off.
    func writeProjection(_ projection: ReadmeProjection) async {
        let hooks = projectionHooks.withLock { $0 }
        do {
            let head = try await log.head(projection.document)
            let text = head.render()
            let sha256 = SHA256.hexDigest(of: Array(text.utf8))
            if projection.onDisk == text, projection.changeOnDisk() == nil {
                if projection.recordedSHA != sha256 {
                    // Found in place (at start, or an edit equal to the head): recorded, so that it is recognised
                    // after a restart and an edit made to it later has a base.
                    try await log.recordProjection(document: projection.document, path: projection.path, seq: head.seq, sha256: sha256)
                    try await log.confirmProjection(document: projection.document, path: projection.path, seq: head.seq)
                }
                projection.wrote(text, sha256: sha256)
                return
            }
            if case .some(.some) = projection.changeOnDisk(), projection.lastWritten != nil {
                // Edited since the last look: merged first (next round), never overwritten.
                return
            }
            try await log.recordProjection(document: projection.document, path: projection.path, seq: head.seq, sha256: sha256)
            // Looked at again right before the rename (the record took a commit): a save made meanwhile is
            // merged first, not replaced. (What remains is the instant between this look and the rename.)
            if case .some(.some) = projection.changeOnDisk(), projection.lastWritten != nil { return }
            try hooks.write(projection.path, text)
            projection.wrote(text, sha256: sha256)
            try await log.confirmProjection(document: projection.document, path: projection.path, seq: head.seq)
        } catch {
            metrics.projectionWriteFailed()
            let attempts = projection.failed("\(error)", at: hooks.now(), hooks: hooks)
            if attempts == 1 || attempts.isMultiple(of: 20) {
                logger.error("cannot write \(projection.path) (attempt \(attempts); retrying with back-off, /health is degraded): \(error)")
            }
        }
    }
}

/// Atomic file writes: temporary file in the same folder, fsync, rename, fsync of the folder.
public enum AtomicFile {
    /// Writes `text` to `path` so that the path holds either the old bytes or all the new ones.
    public static func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(RandomID.make()).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ServerError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        func fail(_ what: String) -> ServerError {
            let message = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            return ServerError(.io, "cannot \(what) \(path): \(message)")
        }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { throw fail("write") }
            offset += written
        }
        guard fsync(fd) == 0 else { throw fail("sync") }
        guard close(fd) == 0 else {
            unlink(temporary)
            throw ServerError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw ServerError(.io, "cannot replace \(path): \(message)")
        }
        let directory = open(folder.path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
