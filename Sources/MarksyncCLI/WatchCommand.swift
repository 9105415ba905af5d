import ArgumentParser
import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncServer

/// `marksync-log watch [README.md]`: two-way sync of a file with the server.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Two-way sync: push local saves of the README, write remote changes into it.",
        discussion: """
            Subscribes from the server's current seq. Remote changes are applied to the document model and the file \
            is rewritten atomically (never while it holds local edits not yet sent). Local saves (the file is polled) \
            are sent as patches based on the last seq seen; the server rebases them over concurrent edits or answers \
            `conflict` (then the local version is kept in FILE.conflict and the server's is written). Prose edits \
            between blocks stay in the file (use `push` to send them). On a dropped connection it reconnects with \
            backoff and resumes after the last seq seen.

            Against a server that speaks only the seed's protocol (Python `marksync server`) there is no seq to \
            subscribe from: watch follows its broadcasts as they come and sends local saves as `full` (stripped, \
            as the seed's clients do); a change missed while disconnected is not caught up.

            Examples:
              marksync-log watch  # README.md ⇄ ws://127.0.0.1:8765
              marksync-log watch docs/README.md --server ws://hub.internal:8765 --name alice
              marksync-log watch --once  # sync once and exit
              marksync-log watch --for 60 --interval 100
            """
    )

    @Argument(help: "The README to keep in sync (default: $PROJECT_README or README.md).")
    var readme: String?

    @OptionGroup var connection: ServerConnectionOptions

    @Flag(help: "Sync once (push local changes, apply what the server has) and exit.")
    var once = false

    @Option(name: .customLong("for"), help: "Stop after this many seconds.")
    var seconds: Double?

    @Option(help: "How often the file is checked for saves, in milliseconds.")
    var interval: Int = 300

    func run() async throws {
        let path = defaultReadmePath(readme)
        let client = try await connection.connect(reconnectForever: true)
        let duration: Duration? = seconds.map { .milliseconds(Int($0 * 1000)) }
        var refused = 0
        do {
            if await client.isSeedServer {
                let session = SeedWatchSession(path: path, client: client, interval: .milliseconds(max(interval, 20)))
                try await session.run(once: once, duration: duration)
                refused = session.refused
            } else {
                let session = WatchSession(path: path, client: client, interval: .milliseconds(max(interval, 20)))
                try await session.run(once: once, duration: duration)
                refused = session.refused
            }
            await client.close()
        } catch {
            await client.close()
            throw error
        }
        if refused > 0 { throw CLIError.failure("\(refused) local change\(refused == 1 ? " was" : "s were") refused") }
    }
}

/// The state of one `watch`: the server's document as of `seq`, and what the file held when last synced.
final class WatchSession: @unchecked Sendable {
    let path: String
    let client: SyncClient
    let interval: Duration
    /// The document as the server has it at `seq`.
    private var model = MarkpactDocument()
    private var seq = 0
    /// The file's text when it was last written by this session or last sent.
    private var lastSeen: String?
    /// The highest seq of our own writes (the file is not rewritten until the model has them).
    private var awaitingEcho = 0
    private var dirty = false
    private(set) var refused = 0
    /// The client message ids of this session's writes (their events are not announced).
    private var ownIDs = Set<String>()

    init(path: String, client: SyncClient, interval: Duration) {
        self.path = path
        self.client = client
        self.interval = interval
    }

    func run(once: Bool, duration: Duration?) async throws {
        let snapshot = try await client.snapshot()
        model = MarkpactDocument(parsing: snapshot.markdown)
        seq = snapshot.seq
        let fileExists = FileManager.default.fileExists(atPath: path)
        if fileExists {
            let text = try readTextFile(path, what: "README")
            if text != model.render() {
                printError("\(path) differs from the server (seq \(seq)): sending its blocks")
                try await pushLocal(text)
            } else {
                lastSeen = text
            }
        }
        dirty = true
        let updates = try await client.subscribe(since: seq)
        let watched = WatchInputs(updates: updates, interval: interval, duration: duration)
        defer { watched.stop() }
        let inputs = watched.stream
        if !once { printError("watching \(path) ⇄ \(client.url) from seq \(seq) (Ctrl-C stops)") }
        for await input in inputs {
            switch input {
            case .remote(.event(let event)):
                try await apply(event)
                try writeIfPossible()
            case .remote(.caughtUp):
                try writeIfPossible()
                if once {
                    try await checkLocal()
                    if awaitingEcho <= seq { return }
                }
            case .tick:
                try await checkLocal()
                try writeIfPossible()
                if once, awaitingEcho <= seq, !dirty { return }
            case .ended(let error):
                if let error { throw CLIError.failure("the subscription to \(client.url) ended: \(error)") }
                return
            }
        }
    }

    // MARK: - Remote → file

    /// Applies one event to the model (a patch or full of a known block directly; anything else by reading the
    /// snapshot at that seq).
    private func apply(_ event: SyncEvent) async throws {
        guard event.seq > seq else { return }
        var applied = false
        if let blockID = event.blockID, let index = model.index(ofBlock: blockID) {
            switch event.type {
            case "patch" where event.patch != nil:
                let dmp = DiffMatchPatch()
                if let patches = try? dmp.patchFromText(event.patch!) {
                    let result = dmp.patchApply(patches, to: model.blocks[index].content)
                    if result.applied.allSatisfy({ $0 }), event.sha == nil || SHA256.hexDigest(of: result.text) == event.sha {
                        model.blocks[index].setContent(result.text)
                        applied = true
                    }
                }
            case "full" where !event.created && event.content != nil:
                model.blocks[index].setContent(event.content!)
                applied = true
            default: break
            }
        } else if ["review", "deploy"].contains(event.type) {
            applied = true  // notes about the document, not its text
        }
        if !applied {
            let snapshot = try await client.snapshot(at: event.seq)
            model = MarkpactDocument(parsing: snapshot.markdown)
        }
        seq = event.seq
        dirty = true
        if event.id.map({ !ownIDs.contains($0) }) ?? true {
            printError("seq \(event.seq): \(event.type) \(event.blockID ?? "") by \(event.sender ?? "?")")
        }
    }

    /// Rewrites the file from the model, unless it holds local edits not sent yet or our own writes have not
    /// come back yet. Prose edited locally (not carried by the protocol) is kept.
    private func writeIfPossible() throws {
        guard dirty, awaitingEcho <= seq else { return }
        guard let text = try WatchFile.write(model, to: path, lastSeen: lastSeen) else { return }  // local edits: the next tick sends them
        lastSeen = text
        dirty = false
    }

    // MARK: - File → server

    private func checkLocal() async throws {
        guard awaitingEcho <= seq else { return }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return }
        if text == lastSeen { return }
        try await pushLocal(text)
    }

    /// Sends the blocks of `text` that differ from the model, based on the current seq.
    private func pushLocal(_ text: String) async throws {
        let local = MarkpactDocument(parsing: text)
        var server = [String: (content: String, seq: Int)]()
        for block in model.blocks { server[block.id] = (block.content, seq) }
        let planned = BlockWrites.plan(local: local, server: server, serverCount: model.blocks.count, baseSeq: seq, deleteMissing: true)
        lastSeen = text
        if planned.isEmpty {
            if local.prose != model.prose { printError("note: prose edits in \(path) are kept locally (the sync protocol carries blocks)") }
            return
        }
        let results = await BlockWrites.send(planned, with: client)
        var conflict = false
        for (item, result) in results {
            Console.out(BlockWrites.describe(item, result))
            switch result {
            case .success(let ack):
                awaitingEcho = max(awaitingEcho, ack.seq)
                if let id = ack.id { ownIDs.insert(id) }
            case .failure:
                refused += 1
                conflict = true
            }
        }
        if conflict {
            let saved = path + ".conflict"
            try? AtomicFile.write(saved, text)
            printError("some local changes were refused; your version is kept in \(saved), \(path) gets the server's")
            lastSeen = nil
            dirty = true
        }
    }
}
