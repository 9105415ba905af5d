import Foundation
import MarksyncCore

/// One line of `blame`.
public struct BlameLine: Sendable, Equatable, Codable {
    /// 1-based line number.
    public var line: Int
    public var text: String
    /// The seq of the event that last changed the line.
    public var seq: Int
    public var author: String
    /// Unix milliseconds of that event.
    public var ts: Int64
}

/// Filters of `log`, applied in the database (a page costs O(page), not O(log)).
public struct HistoryFilter: Sendable, Equatable {
    /// Only events of this block (its exact id; an id the document never had gives no events).
    public var block: String?
    /// Only events by this author.
    public var author: String?
    public var kinds: Set<EventKind>?
    /// Only seqs in `from…to`.
    public var from: Int?
    public var to: Int?
    /// Only events recorded at or after / at or before these times (Unix milliseconds).
    public var sinceMs: Int64?
    public var untilMs: Int64?
    /// At most this many events (after `offset` skipped ones).
    public var limit: Int?
    /// Skip this many matching events first (paging).
    public var offset: Int
    /// Highest seq first (`log`'s default, like git); oldest first otherwise.
    public var newestFirst: Bool
    public init(
        block: String? = nil, author: String? = nil, kinds: Set<EventKind>? = nil, from: Int? = nil, to: Int? = nil, limit: Int? = nil,
        sinceMs: Int64? = nil, untilMs: Int64? = nil, offset: Int = 0, newestFirst: Bool = false
    ) {
        self.block = block
        self.author = author
        self.kinds = kinds
        self.from = from
        self.to = to
        self.limit = limit
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.offset = offset
        self.newestFirst = newestFirst
    }
}

extension EventLog {
    /// The events of a document that pass the filter, oldest first (or newest first with
    /// ``HistoryFilter/newestFirst``). Filters run in the database and pages are read by keyset on seq in
    /// short read transactions, so `limit: 3` reads three rows whatever the size of the log; the document's
    /// state is not loaded.
    public func history(_ document: String, filter: HistoryFilter = HistoryFilter()) async throws(StoreError) -> [Event] {
        let (doc, headSeq) = try await storedHead(document)
        var blockIDs = heads[document]?.blockIDs ?? [:]
        var query = HistoryQuery(
            after: max(0, (filter.from ?? 1) - 1), through: min(filter.to ?? headSeq, headSeq), newestFirst: filter.newestFirst, limit: 0)
        if let block = filter.block {
            if heads[document]?.blockKeys[block] == nil { blockIDs = try await backend.blockKeys(doc: doc) }
            guard let key = blockIDs.first(where: { $0.value == block })?.key else { return [] }
            query.block = key
        }
        if let author = filter.author {
            if authorIDs[author] == nil { try await loadAuthors() }
            guard let id = authorIDs[author] else { return [] }
            query.author = id
        }
        query.kinds = filter.kinds.map { $0.map { Int($0.rawValue) }.sorted() }
        query.sinceMs = filter.sinceMs
        query.untilMs = filter.untilMs
        var skip = max(0, filter.offset)
        var out = [Event]()
        while query.after < query.through {
            let wanted = filter.limit.map { $0 - out.count + skip } ?? Int.max
            if wanted <= 0 { break }
            query.limit = min(Self.pageSize, wanted)
            let page = try await backend.historyEvents(doc: doc, query)
            if page.isEmpty { break }
            blockIDs = try await names(covering: page, doc: doc, blockIDs: blockIDs)
            for raw in page {
                if skip > 0 {
                    skip -= 1
                    continue
                }
                out.append(try Self.decode(raw, document: document, blockIDs: blockIDs, authors: authorNames))
            }
            if page.count < query.limit { break }
            if filter.newestFirst { query.through = page.last!.seq - 1 } else { query.after = page.last!.seq }
        }
        return out
    }

    /// The document's id and head seq as stored (no replay when the head is not loaded yet).
    func storedHead(_ document: String) async throws(StoreError) -> (id: Int64, seq: Int) {
        if let head = heads[document] { return (head.id, head.state.seq) }
        guard let row = try await backend.documentRow(document) else {
            throw StoreError(.unknownDocument, "there is no document \(document) in \(path); `marksync-log ingest` creates one")
        }
        return (row.id, row.headSeq)
    }

    /// Every block id the document has ever had (the ids a block reference is resolved against), without
    /// loading its state.
    public func knownBlockIDs(_ document: String) async throws(StoreError) -> [String] {
        if let head = heads[document] { return Array(head.blockKeys.keys) }
        let (doc, _) = try await storedHead(document)
        return Array(try await backend.blockKeys(doc: doc).values)
    }

    /// The seq of the last event at or before a time (0 when the document had no event yet then).
    public func seq(_ document: String, atOrBeforeMs ms: Int64) async throws(StoreError) -> Int {
        let (doc, _) = try await storedHead(document)
        return try await backend.seq(doc: doc, atOrBeforeMs: ms)
    }

    /// A revision as a seq of the document: `HEAD~N` counts back from the head, a time is the last event at
    /// or before it.
    public func resolve(_ revision: Revision, in document: String) async throws(StoreError) -> Int {
        let (_, head) = try await storedHead(document)
        if let seq = revision.seq(head: head) { return seq }
        guard case .time(let ms) = revision else { return head }
        return try await seq(document, atOrBeforeMs: ms)
    }

    /// A unified diff of the README (or of one block) between two seqs.
    public func diff(_ document: String, from a: Int, to b: Int, block: String? = nil) async throws(StoreError) -> String {
        let old = try await state(document, at: a)
        let new = try await state(document, at: b)
        if let block {
            guard old.block(block) != nil || new.block(block) != nil else {
                throw StoreError(.rejected, "block \(block) exists neither at seq \(a) nor at seq \(b) of \(document)")
            }
            return UnifiedDiff.make(
                old: old.block(block)?.content ?? "", new: new.block(block)?.content ?? "", oldName: "\(block)@\(a)",
                newName: "\(block)@\(b)")
        }
        return UnifiedDiff.make(old: old.render(), new: new.render(), oldName: "\(document)@\(a)", newName: "\(document)@\(b)")
    }

    /// Each line of a block at seq `at` (default: the head) with the seq, author and time of the event that
    /// last changed it.
    public func blame(_ document: String, block: String, at: Int? = nil) async throws(StoreError) -> [BlameLine] {
        var seq = try await headSeq(document)
        if let at { seq = at }
        let state = try await self.state(document, at: seq)
        guard let current = state.block(block) else {
            throw StoreError(.rejected, "block \(block) does not exist at seq \(seq) of \(document)")
        }
        if current.length == 0 { return [] }  // an empty block has no lines
        var lines = LineDiff.lines(current.content)
        var versions = current.lines.versions
        if lines.count > 1, lines.last == "" {
            // The newline that ends the last line does not make a line of its own.
            lines.removeLast()
            versions.removeLast()
        }
        let who = try await authorsAndTimes(document, seqs: Set(versions))
        return zip(lines, versions).enumerated().map { index, pair in
            BlameLine(line: index + 1, text: String(pair.0), seq: pair.1, author: who[pair.1]?.author ?? "?", ts: who[pair.1]?.ts ?? 0)
        }
    }

    /// Author and time of some events.
    func authorsAndTimes(_ document: String, seqs: Set<Int>) async throws(StoreError) -> [Int: (author: String, ts: Int64)] {
        let head = try await loadHead(document)
        let list = Array(seqs)
        var out = [Int: (author: String, ts: Int64)]()
        var start = 0
        while start < list.count {
            let chunk = Array(list[start..<min(start + 500, list.count)])
            let rows = try await backend.authorsAndTimes(doc: head.id, seqs: chunk)
            if rows.contains(where: { authorNames[$0.author] == nil }) { try await loadAuthors() }
            for row in rows { out[row.seq] = (authorNames[row.author] ?? "?", row.ts) }
            start += 500
        }
        return out
    }
}

/// What one event did to the text it touches: its block's content (or its prose segment) before and after.
public struct EventTextChange: Sendable, Equatable {
    /// The seq of the event.
    public var seq: Int
    /// What changed: the block id, or `prose[N]`.
    public var name: String
    public var old: String
    public var new: String
}

extension EventLog {
    /// For each of these seqs, the text its event changed, before and after (`log -p`, `log --stat`). Events
    /// that change no text (review notes, deploy results, line endings, headers) have no entry. Replays
    /// once from the state before the lowest seq to the highest.
    public func textChanges(_ document: String, seqs: [Int]) async throws(StoreError) -> [Int: EventTextChange] {
        guard let low = seqs.min(), let high = seqs.max(), low >= 1 else { return [:] }
        let wanted = Set(seqs)
        var state = try await self.state(document, at: low - 1)
        var out = [Int: EventTextChange]()
        while state.seq < high {
            let page = try await events(document, after: state.seq, limit: min(Self.pageSize, high - state.seq))
            if page.isEmpty { break }
            for event in page {
                var name: String?
                var old = ""
                if wanted.contains(event.seq) {
                    switch event.body {
                    case .proseEdited(let index, _):
                        name = "prose[\(index)]"
                        old = index < state.prose.count ? state.prose[index] : ""
                    case .blockPatched, .blockReplaced, .blockCreated, .blockDeleted:
                        if let id = event.body.blockID {
                            name = id
                            old = state.block(id)?.content ?? ""
                        }
                    default: break
                    }
                }
                do { try state.apply(event.body, seq: event.seq) } catch {
                    throw StoreError(.corrupt, "event \(event.seq) of \(document) does not apply: \(error)")
                }
                guard let name else { continue }
                var new = ""
                if case .proseEdited(let index, _) = event.body {
                    new = index < state.prose.count ? state.prose[index] : ""
                } else {
                    new = state.block(name)?.content ?? ""
                }
                out[event.seq] = EventTextChange(seq: event.seq, name: name, old: old, new: new)
            }
        }
        return out
    }
}
