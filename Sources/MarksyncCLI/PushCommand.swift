import ArgumentParser
import Foundation
import MarksyncClient
import MarksyncCore

/// `--server`, `--token`, `--name`, shared by `push`, `pull` and `watch`.
struct ServerConnectionOptions: ParsableArguments {
    init() {}

    @Option(help: "The sync server (default: $MARKSYNC_SERVER or ws://127.0.0.1:8765).")
    var server: String?

    @Option(help: "The token to present (default: $MARKSYNC_TOKEN).")
    var token: String?

    @Option(help: "The client's name: the author of its changes (default: marksync-cli).")
    var name: String?

    @Option(help: "The document on a server that serves several (default: its first).")
    var doc: String?

    /// The server URI from the flag, the environment/.env or the default.
    var serverURI: String { server ?? Settings().value("MARKSYNC_SERVER") ?? "ws://127.0.0.1:8765" }

    /// Client options from the flags and settings.
    func clientOptions(reconnectForever: Bool = false) -> SyncClient.Options {
        var options = SyncClient.Options()
        options.token = token ?? Settings().value("MARKSYNC_TOKEN")
        options.name = name ?? "marksync-cli"
        options.document = doc
        options.requestTimeout = .seconds(30)
        if reconnectForever {
            options.maxReconnectAttempts = nil
        } else {
            options.maxReconnectAttempts = 3
        }
        return options
    }

    /// Connects, turning failures into messages that say what to do.
    func connect(reconnectForever: Bool = false) async throws -> SyncClient {
        let uri = serverURI
        do {
            return try await SyncClient.connect(to: uri, options: clientOptions(reconnectForever: reconnectForever))
        } catch SyncClientError.rejected(let nack) {
            let hint = nack.reason == "unauthorized" ? " Pass --token or set MARKSYNC_TOKEN." : ""
            throw CLIError.failure("the server at \(uri) refused the connection: \(nack.description).\(hint)")
        } catch {
            throw CLIError.failure("cannot reach the sync server at \(uri): \(error). Is `marksync-log serve` running? (--server / MARKSYNC_SERVER)")
        }
    }

    /// Connects, runs `body` with the client and closes it (also when `body` throws).
    func withClient<T>(_ body: (SyncClient) async throws -> T) async throws -> T {
        let client = try await connect()
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// The README path argument's default: `$PROJECT_README`, else README.md.
func defaultReadmePath(_ given: String?) -> String { given ?? Settings().value("PROJECT_README") ?? "README.md" }

/// Reads and parses a Markpact README, printing its parse warnings on standard error.
func readReadme(_ path: String) throws -> MarkpactDocument {
    let local = MarkpactDocument(parsing: try readTextFile(path, what: "README"))
    for warning in local.warnings { printError("warning: \(path):\(warning.line): \(warning.message)") }
    return local
}

/// Turning local blocks into writes (shared by `push` and `watch`).
enum BlockWrites {
    /// One write planned for a block.
    struct Planned {
        var blockID: String
        var request: SyncRequest
        /// `patch`, `full`, `create` or `delete`.
        var kind: String { request.type }
    }

    /// A `patch` when it saves enough bytes, else `full` (``SyncRequest/update(blockID:from:to:baseSeq:id:)``).
    static func update(blockID: String, server: String, local: String, baseSeq: Int) -> SyncRequest {
        .update(blockID: blockID, from: server, to: local, baseSeq: baseSeq)
    }

    /// A new block with its kind, language and meta, at `index`.
    static func create(_ block: MarkpactBlock, index: Int) -> SyncRequest {
        .create(blockID: block.id, kind: block.kind, lang: block.lang, meta: block.meta, index: index, content: block.content)
    }

    /// The writes that make the server's blocks (`server`: id → content and seq of its version, `order`: the
    /// server's block order) equal to the local document's.
    static func plan(
        local: MarkpactDocument, server: [String: (content: String, seq: Int)], serverCount: Int, baseSeq: Int, deleteMissing: Bool
    ) -> [Planned] {
        var planned = [Planned]()
        var created = 0
        for (index, block) in local.blocks.enumerated() {
            if let remote = server[block.id] {
                if remote.content != block.content {
                    planned.append(Planned(blockID: block.id, request: update(blockID: block.id, server: remote.content, local: block.content, baseSeq: remote.seq)))
                }
            } else {
                planned.append(Planned(blockID: block.id, request: create(block, index: min(index, serverCount + created))))
                created += 1
            }
        }
        if deleteMissing {
            let localIDs = Set(local.blocks.map(\.id))
            for id in server.keys.sorted() where !localIDs.contains(id) {
                planned.append(Planned(blockID: id, request: .delete(blockID: id, baseSeq: baseSeq)))
            }
        }
        return planned
    }

    /// Sends the writes pipelined and returns each one's ack or refusal. A `create` the server refuses
    /// because the block's header does not give back its id is sent again as `full`.
    static func send(_ planned: [Planned], with client: SyncClient) async -> [(Planned, Result<SyncAck, any Error>)] {
        let replies = await client.sendAll(planned.map(\.request))
        var out = [(Planned, Result<SyncAck, any Error>)]()
        for (item, reply) in zip(planned, replies) {
            switch reply {
            case .success(let message):
                if let ack = SyncAck(message.message) {
                    out.append((item, .success(ack)))
                } else {
                    out.append((item, .failure(SyncClientError.protocolViolation("expected ack, got \(message.type)"))))
                }
            case .failure(SyncClientError.nack(let nack)) where item.kind == "create" && nack.reason == "bad_block_id":
                let content = item.request.fields["content"]?.stringValue ?? ""
                var retry = item
                retry.request = .full(blockID: item.blockID, content: content)
                do {
                    out.append((retry, .success(try await client.write(retry.request))))
                } catch {
                    out.append((retry, .failure(error)))
                }
            case .failure(let error):
                out.append((item, .failure(error)))
            }
        }
        return out
    }

    /// The ids of the local blocks the server has with other content (by the sha256 of its manifest).
    static func differing(_ local: MarkpactDocument, from manifest: SyncManifest) -> [String] {
        local.blocks.filter { manifest.blocks[$0.id] != nil && manifest.blocks[$0.id] != $0.sha256 }.map(\.id)
    }

    /// What one push did: the server's manifest before it, each write with its ack or refusal, and how
    /// many blocks exist only on the server.
    struct PushOutcome {
        var manifest: SyncManifest
        var results: [(Planned, Result<SyncAck, any Error>)]
        var serverOnly: Int
        /// The writes the server refused.
        var refused: Int { results.filter { if case .failure = $0.1 { true } else { false } }.count }
    }

    /// What `push` does: reads the server's content of every differing block, plans the writes that make
    /// the server's blocks equal to `local`'s (deleting server-only blocks when `deleteMissing`) and sends
    /// them. Throws when a block cannot be read from the server.
    static func push(_ local: MarkpactDocument, with client: SyncClient, deleteMissing: Bool) async throws -> PushOutcome {
        let manifest = await client.manifest

        // The server's content of every block that differs (get_block gives its content and version seq).
        let changed = differing(local, from: manifest)
        let replies = await client.sendAll(changed.map { SyncRequest.getBlock($0) })
        var server = [String: (content: String, seq: Int)]()
        for (id, reply) in zip(changed, replies) {
            guard case .success(let message) = reply, let content = message["content"]?.stringValue else {
                throw CLIError.failure("cannot read block \(id) from the server: \(reply)")
            }
            server[id] = (content, message.seq ?? 0)
        }
        // Blocks in sync are left out of the plan: give them their own content.
        for block in local.blocks where manifest.blocks[block.id] == block.sha256 { server[block.id] = (block.content, 0) }
        // Server-only blocks (deleted with --delete).
        for id in manifest.blocks.keys where server[id] == nil && local.block(withID: id) == nil { server[id] = ("", 0) }

        let planned = plan(local: local, server: server, serverCount: manifest.blocks.count, baseSeq: manifest.seq ?? 0, deleteMissing: deleteMissing)
        let results = planned.isEmpty ? [] : await send(planned, with: client)
        let serverOnly = manifest.blocks.keys.filter { local.block(withID: $0) == nil }.count
        return PushOutcome(manifest: manifest, results: results, serverOnly: serverOnly)
    }

    /// A line for people about one write's outcome.
    static func describe(_ item: Planned, _ result: Result<SyncAck, any Error>) -> String {
        switch result {
        case .success(let ack):
            var notes = [String]()
            if ack.rebased { notes.append("rebased") }
            if ack.duplicate { notes.append("already stored") }
            return "\(item.kind) \(item.blockID): ack seq \(ack.seq)" + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
        case .failure(SyncClientError.nack(let nack)):
            return "\(item.kind) \(item.blockID): nack \(nack.reason)" + (nack.message.isEmpty ? "" : ": \(nack.message)")
        case .failure(let error):
            return "\(item.kind) \(item.blockID): failed: \(error)"
        }
    }
}

/// `marksync-log push [README.md]`: sends the blocks that differ from the server's.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send the blocks of a README that differ from the server's; report every ack and nack.",
        discussion: """
            Each differing block goes as a diff-match-patch `patch` when the patch text is under 80 % of the block's \
            size, else as `full`; new blocks are created at their place. Every write carries a client message id and \
            the seq it was based on, so the server rebases it over concurrent edits or answers `nack conflict`. \
            Blocks that exist only on the server are left alone unless --delete. Exit code 1 when any write is refused.
            """
    )

    @Argument(help: "The Markpact README (default: $PROJECT_README or README.md).")
    var readme: String?

    @OptionGroup var connection: ServerConnectionOptions

    @Flag(help: "Delete the blocks that exist on the server but not in the file.")
    var delete = false

    func run() async throws {
        let path = defaultReadmePath(readme)
        let local = try readReadme(path)
        try await connection.withClient { client in try await push(local, path: path, client: client) }
    }

    private func push(_ local: MarkpactDocument, path: String, client: SyncClient) async throws {
        let outcome = try await BlockWrites.push(local, with: client, deleteMissing: delete)
        let seq = outcome.manifest.seq ?? 0
        if outcome.results.isEmpty {
            printError("\(path): every block is in sync with \(connection.serverURI) (seq \(seq))")
            return
        }
        for (item, result) in outcome.results { Console.out(BlockWrites.describe(item, result)) }
        if outcome.serverOnly > 0, !delete {
            printError("\(outcome.serverOnly) block\(outcome.serverOnly == 1 ? "" : "s") exist only on the server (left alone; --delete removes them)")
        }
        let count = outcome.results.count
        if outcome.refused > 0 {
            throw CLIError.failure("\(outcome.refused) of \(count) write\(count == 1 ? " was" : "s were") refused")
        }
        printError("pushed \(count) block\(count == 1 ? "" : "s") to \(connection.serverURI)")
    }
}
