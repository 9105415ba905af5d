import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log verify`: hash chain, checkpoints and projections against a full replay.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain, checkpoints and projections against a full replay.",
        discussion: """
            Exit code 0 when clean, 3 when the log is damaged (the first bad seq is named), 1 on other failures.

            Examples:
              marksync-log verify
              marksync-log verify --db backup.db --json
            """
    )

    @OptionGroup var log: LogOptions
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Show progress on standard error even when it is not a terminal.") var progress = false

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
        let progress = ProgressLine("verify", force: progress)
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
        commandName: "rebuild", abstract: "Recompute every projection (checkpoints, heads) from the log.",
        discussion: """
            Examples:
              marksync-log rebuild
              marksync-log rebuild --out README.md      also write the README at the head
            """)

    @OptionGroup var log: LogOptions
    @Option(help: "Also write the README of the document (atomically) to this file.") var out: String?
    @Flag(help: "Show progress on standard error even when it is not a terminal.") var progress = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let progress = ProgressLine("rebuild", force: progress)
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
        commandName: "stats", abstract: "Events, documents, bytes on disk, compression ratio, checkpoints.",
        discussion: """
            Examples:
              marksync-log stats
              marksync-log stats --json | jq .bytes_per_event
            """)

    @OptionGroup var log: LogOptions
    @Flag(help: "Print JSON (snake_case keys, like every JSON output).") var json = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let stats = try await eventLog.stats()
        if json {
            Console.out(try Self.json(Output(stats: stats)))
            return
        }
        Console.out("documents          \(stats.documents)")
        Console.out("events             \(stats.events)")
        Console.out("authors            \(stats.authors)")
        Console.out("checkpoints        \(stats.checkpoints) (\(stats.checkpointBytes) bytes)")
        Console.out("payload bytes      \(stats.payloadBytesStored) stored, \(stats.payloadBytesDecoded) decoded (ratio \(String(format: "%.2f", stats.compressionRatio)), \(stats.lz4Events) LZ4)")
        Console.out("file bytes         \(stats.fileBytes) + \(stats.walBytes) WAL (\(String(format: "%.1f", stats.bytesPerEvent)) bytes/event)")
    }

    /// The figures as JSON with snake_case keys (`payload_bytes_stored`, `bytes_per_event`, …).
    static func json(_ stats: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(stats), as: UTF8.self)
    }

    /// The stored figures and the derived ones (`compression_ratio`, `bytes_per_event`).
    struct Output: Encodable {
        var stats: LogStats

        func encode(to encoder: any Encoder) throws {
            try stats.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stats.compressionRatio, forKey: .compressionRatio)
            try container.encode(stats.bytesPerEvent, forKey: .bytesPerEvent)
        }

        enum CodingKeys: String, CodingKey { case compressionRatio, bytesPerEvent }
    }
}

/// `marksync-log export`: the log as JSON lines.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the whole log as JSON lines (a portable backup).",
        discussion: """
            The output is deterministic (the same log gives the same bytes) and `import` turns it back into an \
            identical log.

            Examples:
              marksync-log export --out backup.jsonl
              marksync-log export | gzip > backup.jsonl.gz
              marksync-log import backup.jsonl --db restored.db
            """)

    @OptionGroup var log: LogOptions
    @Option(help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Flag(help: "Show progress on standard error even when it is not a terminal.") var progress = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let documents = try await eventLog.documents()
        let events = documents.reduce(0) { $0 + $1.headSeq }
        let progress = ProgressLine("export", force: progress)
        if let out {
            _ = FileManager.default.createFile(atPath: out + ".tmp", contents: nil)
            guard let handle = FileHandle(forWritingAtPath: out + ".tmp") else { throw CLIError.failure("cannot write \(out)") }
            try await eventLog.export(to: handle, progress: progress.callback)
            try handle.synchronize()
            try handle.close()
            guard rename(out + ".tmp", out) == 0 else { throw CLIError.failure("cannot write \(out)") }
            progress.finish()
            let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            Console.out(
                "exported \(events) event\(events == 1 ? "" : "s") of \(documents.count) document\(documents.count == 1 ? "" : "s") "
                    + "to \(out) (\(bytes) bytes)")
        } else {
            try await eventLog.export(to: FileHandle.standardOutput, progress: progress.callback)
            progress.finish()
        }
    }
}

/// `marksync-log import F`: a backup into a new log.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Load a JSON-lines backup into a new log; the result is identical to the exported log.",
        discussion: """
            Every event's hash is checked against the exported one, so an altered file is refused.

            Examples:
              marksync-log import backup.jsonl --db restored.db
              gunzip -c backup.jsonl.gz | marksync-log import - --db restored.db --progress
            """)

    @OptionGroup var log: LogOptions
    @Argument(help: "The export file (- for standard input).") var file: String
    @Flag(help: "Show progress on standard error even when it is not a terminal.") var progress = false
    @Flag(help: "Also write the Yjs checkpoints now (a cache: serve writes them in the background, export-yjs replays what is missing).")
    var yjsWarmUp = false

    func run() async throws {
        let path = log.logPath()
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            text = try readTextFile(file, what: "export file")
        }
        // The Yjs checkpoints are written after the events, not alongside (they would compete for the CPU).
        let eventLog = try await EventLog.open(database: path, options: LogOptions.batchWriteOptions)
        guard try await eventLog.documents().isEmpty else {
            throw CLIError.failure("the log \(eventLog.path) is not empty; import into a new log (--db new.db, or an empty PostgreSQL database)")
        }
        let progress = ProgressLine("import", force: progress)
        // Split on the newline byte: splitting by Character (grapheme clusters) took half a second on 10 MB.
        let lines: [Substring] = text.utf8.split(separator: UInt8(ascii: "\n")).map { Substring($0) }
        var onProgress: (@Sendable (Int) -> Void)?
        if let callback = progress.callback {
            let total = Self.eventCount(lines)
            onProgress = { done in callback(done, total) }
        }
        let count = try await eventLog.importLog(lines: lines, progress: onProgress)
        progress.finish()
        if yjsWarmUp {
            ProgressLine("import", force: self.progress).phase("writing Yjs checkpoints")
            await warmYjs(eventLog)
            ProgressLine("import", force: self.progress).finish()
        }
        Console.out("imported \(count) events into \(eventLog.path)")
    }

    /// How many event lines an export holds (the progress total).
    static func eventCount(_ lines: [Substring]) -> Int {
        lines.reduce(0) { $0 + ($1.utf8.starts(with: #"{"author""#.utf8) || $1.contains(#""type":"event""#) ? 1 : 0) }
    }
}

