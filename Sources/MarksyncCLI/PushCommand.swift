import ArgumentParser
import Foundation
import MarksyncClient
import MarksyncCore

/// `--server`, `--token`, `--name`, shared by `push`, `pull` and `watch`.
struct ServerConnectionOptions: ParsableArguments {
    init() {}

    @Option(
        name: [.customLong("server"), .customLong("server-uri")],
        help: "The sync server; --server-uri is the seed's name for it (default: $MARKSYNC_SERVER or ws://127.0.0.1:8765).")
    var server: String?

    @Option(help: "The token to present (default: $MARKSYNC_TOKEN).")
    var token: String?

    @Option(help: "The client's name: the author of its changes (default: marksync-cli).")
    var name: String?

    @Option(help: "The document on a server that serves several (default: its first).")
    var doc: String?

    /// The server URI from the flag, the environment/.env or the default.
    var serverURI: String { server ?? Settings().value("MARKSYNC_SERVER") ?? defaultServerURI }

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
            throw CLIError.failure(connectFailureMessage(uri, error))
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

/// The sync server every command connects to when neither a flag nor MARKSYNC_SERVER names one.
let defaultServerURI = "ws://127.0.0.1:8765"

/// "cannot connect to ws://…: connection refused — is `marksync-log serve` running?" for a failed connect.
func connectFailureMessage(_ uri: String, _ error: any Error) -> String {
    let reason: String
    switch error {
    case SyncClientError.connectionFailed(let why): reason = why
    case SyncClientError.timeout: reason = "no manifest within 10 s (is it a marksync sync server?)"
    default: reason = SyncClient.humanReason(error)
    }
    return "cannot connect to \(uri): \(reason) — is `marksync-log serve` running? (--server / MARKSYNC_SERVER)"
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

    /// What one push did: the server's manifest before it, each write with its ack or refusal, how many
    /// blocks exist only on the server, and what could not be sent at all.
    struct PushOutcome {
        var manifest: SyncManifest
        var results: [(Planned, Result<SyncAck, any Error>)]
        var serverOnly: Int
        /// Differences the server could not be sent (each names what and why); `push` fails when any.
        var unsent: [String] = []
        /// Things worth knowing that are not failures.
        var notes: [String] = []
        /// The server speaks only the seed's protocol.
        var seedOnly = false
        /// The writes the server refused.
        var refused: Int { results.filter { if case .failure = $0.1 { true } else { false } }.count }
    }

    /// What `push` does: reads the server's content of every differing block, plans the writes that make
    /// the server's blocks equal to `local`'s (deleting server-only blocks when `deleteMissing`) and sends
    /// them, then sends the prose (the text between blocks) that differs. Throws when a block cannot be
    /// read from the server. Against a server that speaks only the seed's protocol, see ``pushToSeed``.
    static func push(_ local: MarkpactDocument, with client: SyncClient, deleteMissing: Bool) async throws -> PushOutcome {
        let manifest = await client.manifest
        if await client.isSeedServer { return try await pushToSeed(local, with: client, manifest: manifest, deleteMissing: deleteMissing) }

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
        var results = planned.isEmpty ? [] : await send(planned, with: client)
        let serverOnly = manifest.blocks.keys.filter { local.block(withID: $0) == nil }.count
        var outcome = PushOutcome(manifest: manifest, results: results, serverOnly: serverOnly)
        guard outcome.refused == 0 else { return outcome }

        // Prose and fence lines: compared with the server's document after the block writes.
        let snapshot: SyncSnapshot
        do { snapshot = try await client.snapshot() } catch {
            outcome.unsent.append("prose (the text between blocks): cannot read the server's document to compare it: \(error)")
            return outcome
        }
        let remote = MarkpactDocument(parsing: snapshot.markdown)
        let (prose, unsent, notes) = proseWrites(local: local, remote: remote, baseSeq: snapshot.seq)
        outcome.unsent += unsent
        outcome.notes += notes
        if !prose.isEmpty {
            results += await send(prose, with: client)
            outcome.results = results
        }
        return outcome
    }

    /// The `prose` writes that make the server's text between blocks equal to the file's (each with the
    /// text it replaces, so a concurrent edit is refused, not overwritten), and the differences that cannot
    /// be sent: fence lines (the protocol has no header write), the line ending, and prose when the
    /// server's blocks are not the file's (segments cannot be matched).
    static func proseWrites(local: MarkpactDocument, remote: MarkpactDocument, baseSeq: Int) -> (writes: [Planned], unsent: [String], notes: [String]) {
        var unsent = [String]()
        let notes = [String]()
        for block in local.blocks {
            if let other = remote.block(withID: block.id), other.openingLine != block.openingLine {
                unsent.append(
                    "the fence line of \(block.id) (\(block.openingLine.debugDescription) here, \(other.openingLine.debugDescription) on the server): "
                        + "the sync protocol has no write for a block's header")
            }
        }
        if local.lineEnding != remote.lineEnding {
            unsent.append("the line ending (\(local.lineEnding.rawValue) here, \(remote.lineEnding.rawValue) on the server): the sync protocol has no write for it")
        }
        let (pairs, unmatched) = matchProse(local: local, remote: remote)
        if !unmatched.isEmpty {
            unsent.append(
                "prose (text between blocks) in \(unmatched.count) place\(unmatched.count == 1 ? "" : "s"): next to blocks the server does not have "
                    + "in the same order, so its place there is unknown; push --delete or pull first")
        }
        var planned = [Planned]()
        for pair in pairs where pair.local != pair.remote {
            planned.append(
                Planned(blockID: "prose#\(pair.remoteIndex)", request: .prose(index: pair.remoteIndex, text: pair.local, old: pair.remote, baseSeq: baseSeq)))
        }
        return (planned, unsent, notes)
    }

    /// The file's prose segments matched to the server's: a segment lies between two neighbours (a block id,
    /// or the start or end of the file), and segments with the same neighbours are the same place. A segment
    /// with no match whose text is new (not only whitespace, and not found anywhere on the server) is
    /// returned in `unmatched`: it cannot be placed.
    static func matchProse(local: MarkpactDocument, remote: MarkpactDocument)
        -> (pairs: [(localIndex: Int, remoteIndex: Int, local: String, remote: String)], unmatched: [Int])
    {
        func place(_ document: MarkpactDocument, _ index: Int) -> String {
            (index == 0 ? "^" : document.blocks[index - 1].id) + "\u{0}" + (index == document.blocks.count ? "$" : document.blocks[index].id)
        }
        var remoteByPlace = [String: Int]()
        for index in remote.prose.indices { remoteByPlace[place(remote, index)] = index }
        let known = Set(remote.prose)
        var pairs = [(localIndex: Int, remoteIndex: Int, local: String, remote: String)]()
        var unmatched = [Int]()
        for index in local.prose.indices {
            if let other = remoteByPlace[place(local, index)] {
                pairs.append((index, other, local.prose[index], remote.prose[other]))
            } else {
                let text = local.prose[index]
                if !known.contains(text), text.contains(where: { !$0.isWhitespace }) { unmatched.append(index) }
            }
        }
        return (pairs, unmatched)
    }

    /// `push` to a server that speaks only the seed's protocol (Python marksync 0.2.x): blocks are compared
    /// by the seed's sha (of the stripped content, as its manifest has them) and sent as `full` with the
    /// stripped content — what the seed's own client sends, so the seed's server neither rewrites nor grows
    /// an unchanged file. New blocks go as `full` too (there is no `create`); deletes and prose cannot be
    /// sent and are reported.
    static func pushToSeed(_ local: MarkpactDocument, with client: SyncClient, manifest: SyncManifest, deleteMissing: Bool) async throws
        -> PushOutcome
    {
        var planned = [Planned]()
        var created = [String]()
        for block in local.blocks {
            let core = SeedContent.strip(block.content)
            if manifest.blocks[block.id] == SHA256.hexDigest(of: core) { continue }
            if manifest.blocks[block.id] == nil { created.append(block.id) }
            planned.append(Planned(blockID: block.id, request: .full(blockID: block.id, content: core)))
        }
        let results = planned.isEmpty ? [] : await send(planned, with: client)
        let serverOnlyIDs = manifest.blocks.keys.filter { local.block(withID: $0) == nil }.sorted()
        var outcome = PushOutcome(manifest: manifest, results: results, serverOnly: serverOnlyIDs.count, seedOnly: true)
        outcome.notes.append("\(client.url) speaks only the seed's protocol (Python marksync 0.2.x): blocks sent as `full`, compared by the seed's sha")
        if !created.isEmpty {
            outcome.notes.append(
                "new block\(created.count == 1 ? "" : "s") \(created.joined(separator: ", ")) sent as `full`: the seed's server keeps new blocks in memory only (not in its README)")
        }
        if deleteMissing, !serverOnlyIDs.isEmpty {
            outcome.unsent.append("deletes of \(serverOnlyIDs.joined(separator: ", ")): the seed's protocol has no delete")
        }
        if let snapshot = try? await client.snapshot(), !snapshot.markdown.isEmpty {
            let remote = MarkpactDocument(parsing: snapshot.markdown)
            let (pairs, unmatched) = matchProse(local: local, remote: remote)
            let changed = pairs.filter { $0.local != $0.remote }.count + unmatched.count
            if changed > 0 {
                outcome.unsent.append(
                    "prose (text between blocks) in \(changed) place\(changed == 1 ? "" : "s"): the seed's protocol carries blocks only")
            }
        }
        return outcome
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
            Edited prose (the text between blocks) goes as `prose` writes once the blocks match the server's. \
            Blocks that exist only on the server are left alone unless --delete. Exit code 1 when any write is refused \
            or anything could not be sent (named: a fence line, the line ending, prose that cannot be matched).

            Against a server that speaks only the seed's protocol (Python `marksync server`), blocks are compared by \
            the seed's sha (of the stripped content) and sent as `full`, new blocks included; prose and deletes cannot \
            be sent there and make the push fail, naming them.

            Examples:
              marksync-log push  # README.md to ws://127.0.0.1:8765
              marksync-log push docs/README.md --server ws://hub:8765 --token "$TOKEN"
              marksync-log push --server-uri ws://127.0.0.1:8765 --name alice
              marksync-log push --delete  # also delete blocks gone from the file
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
        for note in outcome.notes { printError(note.hasPrefix("not sent") ? "warning: \(note)" : "note: \(note)") }
        for (item, result) in outcome.results { Console.out(BlockWrites.describe(item, result)) }
        if outcome.serverOnly > 0, !delete {
            printError("\(outcome.serverOnly) block\(outcome.serverOnly == 1 ? "" : "s") exist only on the server (left alone; --delete removes them)")
        }
        let count = outcome.results.count
        var failures = [String]()
        if outcome.refused > 0 { failures.append("\(outcome.refused) of \(count) write\(count == 1 ? " was" : "s were") refused") }
        if !outcome.unsent.isEmpty {
            failures.append("not sent: " + outcome.unsent.joined(separator: "; "))
        }
        if !failures.isEmpty { throw CLIError.failure(failures.joined(separator: ". ")) }
        if count == 0 {
            let seq = outcome.seedOnly ? "" : " (seq \(outcome.manifest.seq ?? 0))"
            printError("\(path): blocks and prose are in sync with \(connection.serverURI)\(seq)")
            return
        }
        printError("pushed \(count) change\(count == 1 ? "" : "s") to \(connection.serverURI)")
    }
}
