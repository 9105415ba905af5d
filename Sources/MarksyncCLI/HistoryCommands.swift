import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log replay --to REV`: the README (or one block) as it was at a revision.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "The README (or one block) as it was at a revision.",
        discussion: """
            A revision is a seq, HEAD, HEAD~N, an ISO time (the last event at or before it) or a relative time.

            Examples:
              marksync-log replay --to HEAD~1                 the README before the last event
              marksync-log replay --to 2h --out old.md        as it was two hours ago, into old.md
              marksync-log replay --to 2026-12-08T09:00 --block main.py
              marksync-log replay --json | jq -r .content
            """)

    @OptionGroup var log: LogOptions
    @Option(help: "The revision: seq, HEAD~N, ISO time, or 2h/30m/3d (default: HEAD).") var to: String?
    @Option(help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Option(help: "Only this block's content (id, path, unique suffix or kind).") var block: String?
    @Flag(help: "Print {doc, seq, block, content} as JSON.") var json = false

    struct Output: Encodable {
        var doc: String
        var seq: Int
        var block: String?
        var content: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(doc, forKey: .doc)
            try container.encode(seq, forKey: .seq)
            try container.encode(block, forKey: .block)  // null for the whole README
            try container.encode(content, forKey: .content)
        }

        enum CodingKeys: String, CodingKey { case doc, seq, block, content }
    }

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let seq = try await eventLog.seq(of: to ?? "HEAD", in: document, what: "--to")
        let state = try await eventLog.state(document, at: seq)
        var text: String
        var blockID: String?
        if let block {
            let id = try await eventLog.blockID(block, in: document, state: state)
            guard let found = state.block(id) else {
                throw CLIError.failure("block \(id) does not exist at seq \(seq); `marksync-log log --block \(id)` shows its history")
            }
            blockID = id
            text = found.content
        } else {
            text = state.render()
        }
        if json {
            let encoded = try jsonText(Output(doc: document, seq: seq, block: blockID, content: text))
            if let out { try writeFileAtomically(out, encoded + "\n") } else { Console.out(encoded) }
            return
        }
        if let out {
            try writeFileAtomically(out, text)
        } else {
            if text.hasSuffix("\n") { text.removeLast() }
            Console.out(text)
        }
    }
}

/// `marksync-log diff A [B]`: a unified diff between two revisions.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Unified diff of the document (or one block) between two revisions.",
        discussion: """
            Revisions are seqs, HEAD, HEAD~N, ISO times or relative times (2h, 30m, 3d).

            Examples:
              marksync-log diff HEAD~1                   what the last event changed
              marksync-log diff 12 40 --block main.py    one block between seq 12 and 40
              marksync-log diff 1d HEAD                  everything since yesterday
              marksync-log diff HEAD~5 --json
            """)

    @OptionGroup var log: LogOptions
    @Argument(help: "The older revision.") var from: String
    @Argument(help: "The newer revision (default: HEAD).") var to: String?
    @Option(help: "Only this block (id, path, unique suffix or kind).") var block: String?
    @Flag(help: "Print {doc, from, to, block, diff} as JSON.") var json = false
    @OptionGroup var display: DisplayOptions

    struct Output: Encodable {
        var doc: String
        var from: Int
        var to: Int
        var block: String?
        var diff: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(doc, forKey: .doc)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(block, forKey: .block)
            try container.encode(diff, forKey: .diff)
        }

        enum CodingKeys: String, CodingKey { case doc, from, to, block, diff }
    }

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let start = try await eventLog.seq(of: from, in: document, what: "the older revision")
        let end = try await eventLog.seq(of: to ?? "HEAD", in: document, what: "the newer revision")
        let blockID = try await block.asyncMap { try await eventLog.blockID($0, in: document) }
        var text = try await eventLog.diff(document, from: start, to: end, block: blockID)
        if json {
            Console.out(try jsonText(Output(doc: document, from: start, to: end, block: blockID, diff: text)))
            return
        }
        if text.hasSuffix("\n") { text.removeLast() }
        if text.isEmpty { return }
        let pager = display.startPager()
        defer { pager?.finish() }
        Console.out(display.style.diff(text))
    }
}

/// `marksync-log blame BLOCK`: each line with the event that last changed it.
struct BlameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame", abstract: "Each line of a block with the seq, author and time that last changed it.",
        discussion: """
            The block is named by id, path, unique suffix or kind; an ambiguous or unknown name lists the candidates.

            Examples:
              marksync-log blame main.py
              marksync-log blame app/main.py --at HEAD~3
              marksync-log blame run --at 2h --utc
              marksync-log blame markpact:file=app/main.py --json
            """)

    @OptionGroup var log: LogOptions
    @Argument(help: "The block: id, path, unique suffix or kind (main.py, app/main.py, run).") var block: String
    @Option(help: "As of this revision: seq, HEAD~N, ISO time, 2h (default: HEAD).") var at: String?
    @Flag(help: "A JSON list of {line, text, seq, author, ts}.") var json = false
    @OptionGroup var display: DisplayOptions

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let seq = try await eventLog.seq(of: at ?? "HEAD", in: document, what: "--at")
        let blockID = try await eventLog.blockID(block, in: document, state: try await eventLog.state(document, at: seq))
        let lines = try await eventLog.blame(document, block: blockID, at: seq)
        if json {
            Console.out(try jsonText(lines))
            return
        }
        let style = display.style
        let times = display.times
        let seqWidth = max(3, String(lines.map(\.seq).max() ?? 0).count)
        let authorWidth = max(6, min(20, lines.map(\.author.count).max() ?? 0))
        let numberWidth = max(4, String(lines.count).count)
        let timeWidth = times.string(0).count
        let pager = display.startPager()
        defer { pager?.finish() }
        Console.out(
            style.paint(
                "\(leftPadded("SEQ", seqWidth)) \(padded("AUTHOR", authorWidth)) \(padded("TIME", timeWidth)) \(leftPadded("LINE", numberWidth))  TEXT",
                .dim))
        for line in lines {
            Console.out(
                "\(style.paint(leftPadded(String(line.seq), seqWidth), .yellow)) \(style.paint(padded(String(line.author.prefix(20)), authorWidth), .cyan)) "
                    + "\(times.string(line.ts)) \(leftPadded(String(line.line), numberWidth))) \(line.text)")
        }
    }
}

/// Writes the Yjs checkpoints missing for the log's checkpoints before the command exits (they are a cache:
/// a failure is reported, not fatal; the first export replays what is missing).
func warmYjs(_ eventLog: EventLog) async {
    let status = await eventLog.warmYjsCheckpoints()
    for (document, error) in status.failures.sorted(by: { $0.key < $1.key }) {
        Console.err("warning: Yjs checkpoints of \(document) not written: \(error)")
    }
}
