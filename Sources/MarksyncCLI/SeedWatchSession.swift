import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncServer

/// `watch` against a server that speaks only the seed's protocol (Python `marksync server`): no seq to
/// subscribe from, so it follows the broadcasts the seed sends every other connection (`full` and `patch`)
/// and sends local saves as `full` with the stripped content (what the seed's own clients send). Blocks
/// are compared the way the seed sees them (stripped), and a block's surrounding whitespace in the file is
/// kept around what the seed sends (the seed's own server keeps it in its file too).
final class SeedWatchSession: @unchecked Sendable {
    let path: String
    let client: SyncClient
    let interval: Duration
    /// The seed server's blocks as this session knows them, with the file's prose.
    private var model = MarkpactDocument()
    /// The file's text when it was last written by this session or last sent.
    private var lastSeen: String?
    private(set) var refused = 0
    private var memoryOnlyNoted = Set<String>()

    init(path: String, client: SyncClient, interval: Duration) {
        self.path = path
        self.client = client
        self.interval = interval
    }

    func run(once: Bool, duration: Duration?) async throws {
        // Follow first, so no broadcast between the snapshot and the loop is missed.
        let updates = await client.followBroadcasts()
        let snapshot = try await client.snapshot()
        let localText = FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
        printError("note: \(client.url) speaks only the seed's protocol (Python marksync 0.2.x): following its broadcasts, no seqs, no catch-up")
        if snapshot.markdown.isEmpty {
            // The seed started without a README: its blocks (if any) live in memory only.
            model = MarkpactDocument(parsing: localText ?? "")
        } else {
            model = MarkpactDocument(parsing: snapshot.markdown)
        }
        if let localText {
            if Self.seedView(MarkpactDocument(parsing: localText)) != Self.seedView(model) {
                printError("\(path) differs from the server: sending its blocks")
                try await pushLocal(localText)
            } else {
                lastSeen = localText
            }
        } else {
            try write()
        }
        if once { return }

        let watched = WatchInputs(updates: updates, interval: interval, duration: duration)
        defer { watched.stop() }
        let inputs = watched.stream
        printError("watching \(path) ⇄ \(client.url) (seed protocol; Ctrl-C stops)")
        for await input in inputs {
            switch input {
            case .remote(.event(let event)):
                try await apply(event)
            case .remote(.caughtUp):
                break
            case .tick:
                try await checkLocal()
            case .ended(let error):
                if let error { throw CLIError.failure("the connection to \(client.url) ended: \(error)") }
                return
            }
        }
    }

    /// Block id → content as the seed sees it (stripped), in order.
    static func seedView(_ document: MarkpactDocument) -> [String] {
        document.blocks.map { "\($0.id)\u{0}\(SeedContent.strip($0.content))" }
    }

    // MARK: - Remote → file

    private func apply(_ event: SyncEvent) async throws {
        guard let blockID = event.blockID else { return }
        guard let index = model.index(ofBlock: blockID) else {
            if memoryOnlyNoted.insert(blockID).inserted {
                printError("seq \(event.seq): \(blockID) is not in the file (the seed's server keeps new blocks in memory only): not written")
            }
            return
        }
        let current = model.blocks[index].content
        var core: String?
        switch event.type {
        case "full":
            core = event.content
        case "patch":
            // The seed relays the writer's fuzzy patch, made against its stripped content; the sha says what it gave.
            let dmp = DiffMatchPatch()
            if let text = event.patch, let patches = try? dmp.patchFromText(text) {
                let result = dmp.patchApply(patches, to: SeedContent.strip(current))
                if event.sha == nil || SHA256.hexDigest(of: result.text) == event.sha { core = result.text }
            }
            if core == nil { core = try? await client.block(blockID).content }
        default:
            return
        }
        guard let core else { return }
        model.blocks[index].setContent(SeedContent.rewrap(core, like: current))
        printError("seq \(event.seq): \(event.type) \(blockID) by \(event.sender.flatMap { $0.isEmpty ? nil : $0 } ?? "?")")
        try write()
    }

    /// Writes the model into the file, keeping the file's prose, unless the file holds local edits not sent
    /// yet (the next tick sends them).
    private func write() throws {
        if let text = try WatchFile.write(model, to: path, lastSeen: lastSeen) { lastSeen = text }
    }

    // MARK: - File → server

    private func checkLocal() async throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return }
        if text == lastSeen { return }
        try await pushLocal(text)
    }

    /// Sends the blocks of `text` that the seed would see as changed, as `full` with their stripped content.
    private func pushLocal(_ text: String) async throws {
        let local = MarkpactDocument(parsing: text)
        lastSeen = text
        var planned = [BlockWrites.Planned]()
        for block in local.blocks {
            let core = SeedContent.strip(block.content)
            if let index = model.index(ofBlock: block.id), SeedContent.strip(model.blocks[index].content) == core { continue }
            planned.append(BlockWrites.Planned(blockID: block.id, request: .full(blockID: block.id, content: core)))
        }
        if local.prose != model.prose { printError("note: prose edits in \(path) stay local (the seed's protocol carries blocks only)") }
        let removed = model.blocks.map(\.id).filter { local.block(withID: $0) == nil }
        if !removed.isEmpty { printError("note: \(removed.joined(separator: ", ")) removed here stay on the server (the seed's protocol has no delete)") }
        if planned.isEmpty {
            model = local
            return
        }
        let results = await BlockWrites.send(planned, with: client)
        for (item, result) in results {
            Console.out(BlockWrites.describe(item, result))
            if case .failure = result { refused += 1 }
        }
        model = local
    }
}
