import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log log`: the event history.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Show the event history of a document.")

    @OptionGroup var log: LogOptions
    @Option(help: "Only events of this block.") var block: String?
    @Option(help: "Only events by this author.") var author: String?
    @Option(help: "From this seq.") var from: Int?
    @Option(help: "Up to this seq.") var to: Int?
    @Option(help: "At most this many events.") var limit: Int?
    @Flag(help: "JSON lines, one event record per line.") var json = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let events = try await eventLog.history(
            document, filter: HistoryFilter(block: block, author: author, from: from, to: to, limit: limit))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for event in events {
            if json {
                Console.out(String(decoding: try encoder.encode(EventRecord(event)), as: UTF8.self))
            } else {
                Console.out(Self.summary(event))
            }
        }
    }

    static func summary(_ event: Event) -> String {
        var line = "\(event.seq)\t\(formatTime(event.timestampMs))\t\(event.author)\t\(event.body.kind.name)"
        if let block = event.body.blockID { line += "\t\(block)" }
        switch event.body {
        case .blockPatched(_, let patch, let length, _): line += "\t\(patch.utf8.count) B patch → \(length) chars"
        case .blockReplaced(_, let content): line += "\t\(content.unicodeScalars.count) chars"
        case .blockCreated(let created): line += "\tat \(created.index), \(created.content.unicodeScalars.count) chars"
        case .proseEdited(let index, let text): line += "\tsegment \(index), \(text.unicodeScalars.count) chars"
        case .reviewNote(let note): line += "\t\(note.verdict) on seq \(note.blockSeq): \(note.text.prefix(60))"
        case .deployResult(let result): line += "\texit \(result.exitCode.map(String.init) ?? "-") in \(result.durationMs) ms"
        case .lineEndingChanged(let ending): line += "\t\(ending.rawValue)"
        case .blockDeleted, .blockHeaderChanged: break
        }
        return line
    }
}

/// `marksync-log replay --to N`: the README (or one block) as it was at seq N.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "The README (or one block) as it was at a seq.")

    @OptionGroup var log: LogOptions
    @Option(help: "The seq (default: the head).") var to: Int?
    @Option(help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Option(help: "Only this block's content.") var block: String?

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let seq: Int
        if let to { seq = to } else { seq = try await eventLog.headSeq(document) }
        let state = try await eventLog.state(document, at: seq)
        var text: String
        if let block {
            guard let found = state.block(block) else {
                throw CLIError.failure("block \(block) does not exist at seq \(seq); `marksync-log log --block \(block)` shows its history")
            }
            text = found.content
        } else {
            text = state.render()
        }
        if let out {
            try writeFileAtomically(out, text)
        } else {
            if text.hasSuffix("\n") { text.removeLast() }
            Console.out(text)
        }
    }
}

/// `marksync-log diff A B`: a unified diff between two seqs.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Unified diff of the document (or one block) between two seqs.")

    @OptionGroup var log: LogOptions
    @Argument(help: "The older seq.") var from: Int
    @Argument(help: "The newer seq (default: the head).") var to: Int?
    @Option(help: "Only this block.") var block: String?

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let end: Int
        if let to { end = to } else { end = try await eventLog.headSeq(document) }
        var text = try await eventLog.diff(document, from: from, to: end, block: block)
        if text.hasSuffix("\n") { text.removeLast() }
        if !text.isEmpty { Console.out(text) }
    }
}

/// `marksync-log blame BLOCK`: each line with the event that last changed it.
struct BlameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame", abstract: "Each line of a block with the seq, author and time that last changed it.")

    @OptionGroup var log: LogOptions
    @Argument(help: "The block id, e.g. markpact:file=app/main.py.") var block: String
    @Option(help: "As of this seq (default: the head).") var at: Int?
    @Flag(help: "A JSON list of {line, text, seq, author, ts}.") var json = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let lines = try await eventLog.blame(document, block: block, at: at)
        if json {
            Console.out(try jsonText(lines))
            return
        }
        let seqWidth = String(lines.map(\.seq).max() ?? 0).count
        let authorWidth = min(20, lines.map(\.author.count).max() ?? 0)
        let numberWidth = String(lines.count).count
        for line in lines {
            Console.out(
                "\(leftPadded(String(line.seq), seqWidth)) \(padded(String(line.author.prefix(20)), authorWidth)) "
                    + "\(formatTime(line.ts)) \(leftPadded(String(line.line), numberWidth))) \(line.text)")
        }
    }
}

/// `marksync-log verify`: hash chain, checkpoints and projections against a full replay.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain, checkpoints and projections against a full replay.",
        discussion: "Exit code 0 when clean, 3 when the log is damaged (the first bad seq is named), 1 on other failures."
    )

    @OptionGroup var log: LogOptions
    @Flag(help: "Print the report as JSON.") var json = false

    struct Output: Encodable {
        var ok: Bool
        var documents: Int
        var events: Int
        var checkpoints: Int
        var problems: [Problem]
        struct Problem: Encodable {
            var doc: String
            var seq: Int?
            var message: String
        }
    }

    func run() async throws {
        let eventLog = try await log.openExisting()
        let progress = ProgressLine("verify")
        let report = try await eventLog.verify(progress: progress.callback)
        progress.finish()
        if json {
            Console.out(
                try jsonText(
                    Output(
                        ok: report.isClean, documents: report.documents, events: report.events, checkpoints: report.checkpoints,
                        problems: report.problems.map { .init(doc: $0.document, seq: $0.seq, message: $0.message) })))
        } else {
            for problem in report.problems { Console.out("CORRUPT \(problem)") }
            Console.out(
                "\(report.isClean ? "ok" : "damaged"): \(report.documents) document(s), \(report.events) events, "
                    + "\(report.checkpoints) checkpoints checked")
        }
        if !report.isClean {
            let first = report.problems[0]
            throw CLIError(message: "the log is damaged; first problem: \(first)", exitCode: 3)
        }
    }
}

/// `marksync-log rebuild`: recompute every projection from the log.
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Recompute every projection (checkpoints, heads) from the log.")

    @OptionGroup var log: LogOptions
    @Option(help: "Also write the README of the document (atomically) to this file.") var out: String?

    func run() async throws {
        let eventLog = try await log.openExisting()
        let progress = ProgressLine("rebuild")
        let written = try await eventLog.rebuild(progress: progress.callback)
        progress.finish()
        await warmYjs(eventLog)
        if let out {
            let document = try await log.document(in: eventLog)
            try writeFileAtomically(out, try await eventLog.head(document).render())
        }
        Console.out("rebuilt: \(written) checkpoint(s) written")
    }
}

/// `marksync-log stats`: figures of a log.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Events, documents, bytes on disk, compression ratio, checkpoints.")

    @OptionGroup var log: LogOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let stats = try await eventLog.stats()
        if json {
            Console.out(try jsonText(stats))
            return
        }
        Console.out("documents          \(stats.documents)")
        Console.out("events             \(stats.events)")
        Console.out("authors            \(stats.authors)")
        Console.out("checkpoints        \(stats.checkpoints) (\(stats.checkpointBytes) bytes)")
        Console.out("payload bytes      \(stats.payloadBytesStored) stored, \(stats.payloadBytesDecoded) decoded (ratio \(String(format: "%.2f", stats.compressionRatio)), \(stats.lz4Events) LZ4)")
        Console.out("file bytes         \(stats.fileBytes) + \(stats.walBytes) WAL (\(String(format: "%.1f", stats.bytesPerEvent)) bytes/event)")
    }
}

/// `marksync-log export`: the log as JSON lines.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the whole log as JSON lines (a portable backup).")

    @OptionGroup var log: LogOptions
    @Option(help: "Write to this file instead of standard output.") var out: String?

    func run() async throws {
        let eventLog = try await log.openExisting()
        let progress = ProgressLine("export")
        if let out {
            _ = FileManager.default.createFile(atPath: out + ".tmp", contents: nil)
            guard let handle = FileHandle(forWritingAtPath: out + ".tmp") else { throw CLIError.failure("cannot write \(out)") }
            try await eventLog.export(to: handle, progress: progress.callback)
            try handle.synchronize()
            try handle.close()
            guard rename(out + ".tmp", out) == 0 else { throw CLIError.failure("cannot write \(out)") }
        } else {
            try await eventLog.export(to: FileHandle.standardOutput, progress: progress.callback)
        }
        progress.finish()
    }
}

/// `marksync-log import F`: a backup into a new log.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load a JSON-lines backup into a new log; the result is identical to the exported log.")

    @OptionGroup var log: LogOptions
    @Argument(help: "The export file (- for standard input).") var file: String

    func run() async throws {
        let path = log.logPath()
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            text = try readTextFile(file, what: "export file")
        }
        let eventLog = try await EventLog.open(database: path)
        guard try await eventLog.documents().isEmpty else {
            throw CLIError.failure("the log \(eventLog.path) is not empty; import into a new log (--db new.db, or an empty PostgreSQL database)")
        }
        let progress = ProgressLine("import")
        var onProgress: (@Sendable (Int) -> Void)?
        if let callback = progress.callback { onProgress = { done in callback(done, 0) } }
        let lines: [Substring] = text.split(separator: "\n")
        let count = try await eventLog.importLog(lines: lines, progress: onProgress)
        progress.finish()
        await warmYjs(eventLog)
        Console.out("imported \(count) events into \(eventLog.path)")
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
