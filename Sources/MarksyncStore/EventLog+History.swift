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

/// Filters of `log`.
public struct HistoryFilter: Sendable, Equatable {
    public var block: String?
    public var author: String?
    public var kinds: Set<EventKind>?
    public var from: Int?
    public var to: Int?
    public var limit: Int?
    public init(block: String? = nil, author: String? = nil, kinds: Set<EventKind>? = nil, from: Int? = nil, to: Int? = nil, limit: Int? = nil) {
        self.block = block
        self.author = author
        self.kinds = kinds
        self.from = from
        self.to = to
        self.limit = limit
    }
}

extension EventLog {
    /// The events of a document that pass the filter, in seq order (paged in short read transactions).
    public func history(_ document: String, filter: HistoryFilter = HistoryFilter()) async throws(StoreError) -> [Event] {
        let headSeq = try await self.headSeq(document)
        var after = max(0, (filter.from ?? 1) - 1)
        let last = min(filter.to ?? headSeq, headSeq)
        var out = [Event]()
        while after < last {
            let page = try await events(document, after: after, limit: min(Self.pageSize, last - after))
            if page.isEmpty { break }
            for event in page {
                if let block = filter.block, event.body.blockID != block { continue }
                if let author = filter.author, event.author != author { continue }
                if let kinds = filter.kinds, !kinds.contains(event.body.kind) { continue }
                out.append(event)
                if let limit = filter.limit, out.count >= limit { return out }
            }
            after = page.last!.seq
        }
        return out
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
