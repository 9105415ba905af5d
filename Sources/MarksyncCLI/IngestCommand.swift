import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log ingest README.md`: a README becomes events (a new document, or what changed).
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Turn a README into events: a new document, or the changes since the log's head.",
        discussion: """
            The first ingest of a file creates the document (one event per block plus prose). A later ingest of \
            an edited file appends only what changed: patches, new and deleted blocks, prose edits. Prints the head seq.
            The log is .marksync/log.db next to the README (unless --db or MARKSYNC_DB says otherwise); the other \
            commands find it from that folder or any folder below it.

            Examples:
              marksync-log ingest README.md
              marksync-log ingest examples/task-manager-api/README.md --author alice
              marksync-log ingest README.md --db shared.db --doc tasks --json
            """
    )

    @Argument(help: "The Markpact README.")
    var readme: String

    @OptionGroup var log: LogOptions

    @Option(help: "Who the events are by.")
    var author: String = "file"

    @Flag(help: "Print {doc, seq, appended} as JSON.")
    var json = false

    @Flag(help: "Show progress on standard error even when it is not a terminal.")
    var progress = false

    struct Output: Encodable {
        var doc: String
        var seq: Int
        var appended: Int
    }

    func run() async throws {
        let text = try readTextFile(readme, what: "README")
        let document = log.doc ?? Self.defaultDocumentName(for: readme)
        let progress = ProgressLine("ingest", force: progress)
        // The Yjs checkpoints are a cache: `serve`, `export-yjs` or `rebuild` write them when needed.
        let eventLog = try await log.open(nextTo: readme, options: LogOptions.batchWriteOptions)
        let parsed = MarkpactDocument(parsing: text)
        let result = try await eventLog.ingest(document: document, parsed: parsed, author: author) { done, total in
            progress.callback?(done, total)
        }
        progress.finish()
        for warning in parsed.warnings { printError("warning: \(readme):\(warning.line): \(warning.message)") }
        if json {
            Console.out(try jsonText(Output(doc: result.document, seq: result.seq, appended: result.appended)))
        } else {
            Console.out("\(result.seq)")
            let what = result.created ? "created \(result.document)" : "\(result.document)"
            printError("\(what): \(result.appended) event\(result.appended == 1 ? "" : "s") appended, head seq \(result.seq) (\(eventLog.path))")
        }
    }

    /// The README's folder name (the contract's default document name).
    static func defaultDocumentName(for readme: String) -> String {
        let folder = URL(fileURLWithPath: readme).standardizedFileURL.deletingLastPathComponent().lastPathComponent
        return folder.isEmpty || folder == "/" ? "default" : folder
    }
}
