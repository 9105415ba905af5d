import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log log`: the event history, newest first (like `git log`).
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show the event history of a document, newest first.",
        discussion: """
            Filters and paging run in the database, so `--limit 3` costs three rows on any log. Revisions \
            (--from, --to) are a seq, HEAD, HEAD~N, an ISO time or a relative time (2h, 30m, 3d); --since and \
            --until take times. Blocks can be named by id, path, unique suffix or kind (main.py, app/main.py, run).

            Examples:
              marksync-log log -n 10                      the last ten events
              marksync-log log --reverse --from 1 -n 5    the first five, oldest first
              marksync-log log --block main.py -p         every change of app/main.py with its diff
              marksync-log log --since 2h --author alice --stat
              marksync-log log --since 2026-12-01 --until 2026-12-02T12:00:00+01:00
              marksync-log log --json | jq .seq           one JSON record per line
            """)

    @OptionGroup var log: LogOptions
    @Option(help: "Only events of this block (id, path, unique suffix or kind).") var block: String?
    @Option(help: "Only events by this author.") var author: String?
    @Option(help: "From this revision (seq, HEAD~N, time).") var from: String?
    @Option(help: "Up to this revision (seq, HEAD~N, time).") var to: String?
    @Option(help: "Only events at or after this time (2026-12-08, 2026-12-08T10:00:00Z, 2h, 3d).") var since: String?
    @Option(help: "Only events at or before this time.") var until: String?
    @Option(name: [.customShort("n"), .long], help: "At most this many events.") var limit: Int?
    @Option(help: "Skip this many events first (paging).") var skip: Int = 0
    @Flag(help: "Oldest first.") var reverse = false
    @Flag(name: [.customShort("p"), .customLong("patch")], help: "Show each event's diff of its block (or prose segment).") var patch = false
    @Flag(help: "Show the lines each event added and removed.") var stat = false
    @Flag(help: "JSON lines, one event record per line.") var json = false
    @OptionGroup var display: DisplayOptions

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
        if skip < 0 { throw ValidationError("--skip must be 0 or more") }
    }

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let blockID = try await block.asyncMap { try await eventLog.blockID($0, in: document) }
        let filter = HistoryFilter(
            block: blockID, author: author, from: try await eventLog.seq(ofOptional: from, in: document, what: "--from"),
            to: try await eventLog.seq(ofOptional: to, in: document, what: "--to"), limit: limit,
            sinceMs: try EventLog.timeBound(since, what: "--since"), untilMs: try EventLog.timeBound(until, what: "--until"), offset: skip,
            newestFirst: !reverse)
        let events = try await eventLog.history(document, filter: filter)
        let changes = patch || stat ? try await eventLog.textChanges(document, seqs: events.map(\.seq)) : [:]
        let pager = json ? nil : display.startPager()
        defer { pager?.finish() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for event in events { Console.out(String(decoding: try encoder.encode(EventRecord(event)), as: UTF8.self)) }
            return
        }
        for line in Self.render(events, changes: changes, patch: patch, stat: stat, style: display.style, times: display.times) {
            Console.out(line)
        }
    }

    /// The table (header, one aligned row per event), with each event's stat and patch under its row.
    static func render(
        _ events: [Event], changes: [Int: EventTextChange], patch: Bool, stat: Bool, style: Style, times: TimeFormat
    ) -> [String] {
        let headers = ["SEQ", "TIME", "AUTHOR", "KIND", "BLOCK", "CHANGE"]
        let rows = events.map { event in
            [String(event.seq), times.string(event.timestampMs), event.author, event.body.kind.name, event.body.blockID ?? "-", detail(event)]
        }
        var widths = headers.map(\.count)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        let colours: [Style.Colour?] = [.yellow, nil, .cyan, .green, .bold, nil]
        func format(_ row: [String], header: Bool) -> String {
            row.enumerated().map { column, cell in
                let text = column == 0 ? leftPadded(cell, widths[column]) : (column == row.count - 1 ? cell : padded(cell, widths[column]))
                if header { return style.paint(text, .dim) }
                return colours[column].map { style.paint(text, $0) } ?? text
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = [format(headers, header: true)]
        for (event, row) in zip(events, rows) {
            out.append(format(row, header: false))
            guard let change = changes[event.seq] else { continue }
            if stat {
                let (added, removed) = lineStat(old: change.old, new: change.new)
                out.append("    \(change.name) | \(style.paint("+\(added)", .green)) \(style.paint("-\(removed)", .red))")
            }
            if patch {
                var text = UnifiedDiff.make(
                    old: change.old, new: change.new, oldName: "\(change.name)@\(event.seq - 1)", newName: "\(change.name)@\(event.seq)")
                if text.hasSuffix("\n") { text.removeLast() }
                if !text.isEmpty { out.append(style.diff(text)) }
                out.append("")
            }
        }
        return out
    }

    /// Lines added and removed between two texts (as `diff` counts them).
    static func lineStat(old: String, new: String) -> (added: Int, removed: Int) {
        func lines(_ text: String) -> [Substring] {
            if text.isEmpty { return [] }
            var parts = LineDiff.lines(text)
            if parts.last == "" { parts.removeLast() }
            return parts
        }
        var added = 0
        var removed = 0
        for op in LineDiff.diff(lines(old), lines(new)) {
            switch op {
            case .insert(_, let count): added += count
            case .delete(_, let count): removed += count
            case .equal: break
            }
        }
        return (added, removed)
    }

    /// What an event did, in a few words.
    static func detail(_ event: Event) -> String {
        switch event.body {
        case .blockPatched(_, let patch, let length, _): "\(patch.utf8.count) B patch → \(length) chars"
        case .blockReplaced(_, let content): "\(content.unicodeScalars.count) chars"
        case .blockCreated(let created): "at \(created.index), \(created.content.unicodeScalars.count) chars"
        case .proseEdited(let index, let text): "segment \(index), \(text.unicodeScalars.count) chars"
        case .reviewNote(let note): "\(note.verdict) on seq \(note.blockSeq): \(note.text.prefix(60))"
        case .deployResult(let result): "exit \(result.exitCode.map(String.init) ?? "-") in \(result.durationMs) ms"
        case .lineEndingChanged(let ending): ending.rawValue
        case .blockDeleted, .blockHeaderChanged: ""
        }
    }
}

extension Optional {
    /// `map` with an async throwing transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
