import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncDSL

/// `SYNC push|pull|status` for the DSL, with the executor's settings: `server_uri`, `token` and `doc` say
/// which server and document, `readme` which file (default `$PROJECT_README` or README.md).
///
/// - `push` does what `marksync-log push` does (``BlockWrites/push(_:with:deleteMissing:)``) and answers
///   `{patches, fulls, creates, acks, nacks, writes: [{kind, block_id, seq | reason}], seq}`; any refused
///   write makes the command fail, with each refusal in the message.
/// - `pull` writes the server's document to the file like `marksync-log pull` (atomically) and answers
///   `{path, seq, doc, bytes, changed}`.
/// - `status` compares the file's blocks with the server's manifest and answers
///   `{in_sync, differing, only_local, only_server, seq}` (block ids, sorted in document order).
func dslSyncAction() -> DSLExecutor.SyncAction {
    { action, settings in
        var connection = ServerConnectionOptions()
        connection.server = settings["server_uri"]
        connection.token = settings["token"]
        connection.doc = settings["doc"]
        connection.name = "marksync-shell"
        let path = defaultReadmePath(settings["readme"])
        switch action {
        case "push": return try await DSLSync.push(path: path, connection: connection)
        case "pull": return try await DSLSync.pull(path: path, connection: connection)
        case "status": return try await DSLSync.status(path: path, connection: connection)
        default: throw CLIError.usage("unknown SYNC action \(action.debugDescription): use push, pull or status")
        }
    }
}

/// The three `SYNC` actions, as JSON results.
enum DSLSync {
    static func push(path: String, connection: ServerConnectionOptions) async throws -> JSONValue {
        let local = try readReadme(path)
        let outcome = try await connection.withClient { client in try await BlockWrites.push(local, with: client, deleteMissing: false) }
        var counts = ["patch": 0, "full": 0, "create": 0, "delete": 0]
        var writes = [JSONValue]()
        var acks = 0
        var seq = outcome.manifest.seq ?? 0
        for (item, result) in outcome.results {
            counts[item.kind, default: 0] += 1
            var write: [String: JSONValue] = ["kind": .string(item.kind), "block_id": .string(item.blockID)]
            switch result {
            case .success(let ack):
                acks += 1
                seq = max(seq, ack.seq)
                write["seq"] = .int(ack.seq)
                if ack.rebased { write["rebased"] = .bool(true) }
            case .failure(SyncClientError.nack(let nack)):
                write["reason"] = .string(nack.reason)
            case .failure(let error):
                write["reason"] = .string("\(error)")
            }
            writes.append(.object(write))
        }
        let summary: [String: JSONValue] = [
            "path": .string(path), "patches": .int(counts["patch"] ?? 0), "fulls": .int(counts["full"] ?? 0),
            "creates": .int(counts["create"] ?? 0), "acks": .int(acks), "nacks": .int(outcome.refused), "only_server": .int(outcome.serverOnly),
            "writes": .array(writes), "seq": .int(seq), "unsent": .array(outcome.unsent.map { .string($0) }),
        ]
        if outcome.refused > 0 {
            let refusals = outcome.results.filter { if case .failure = $0.1 { true } else { false } }.map { BlockWrites.describe($0.0, $0.1) }
            throw CLIError.failure(
                "\(outcome.refused) of \(outcome.results.count) writes refused (acks \(acks)): \(refusals.joined(separator: "; "))")
        }
        if !outcome.unsent.isEmpty { throw CLIError.failure("not sent: \(outcome.unsent.joined(separator: "; "))") }
        return .object(summary)
    }

    static func pull(path: String, connection: ServerConnectionOptions) async throws -> JSONValue {
        let snapshot = try await PullCommand.snapshot(from: connection)
        let before = FileManager.default.contents(atPath: path)
        try PullCommand.write(snapshot, to: path)
        return .object([
            "path": .string(path), "seq": .int(snapshot.seq), "doc": snapshot.document.map { .string($0) } ?? .null,
            "bytes": .int(snapshot.markdown.utf8.count), "changed": .bool(before != Data(snapshot.markdown.utf8)),
        ])
    }

    static func status(path: String, connection: ServerConnectionOptions) async throws -> JSONValue {
        let local = try readReadme(path)
        let manifest = try await connection.withClient { client in await client.manifest }
        let differing = BlockWrites.differing(local, from: manifest)
        let onlyLocal = local.blocks.map(\.id).filter { manifest.blocks[$0] == nil }
        let localIDs = Set(local.blocks.map(\.id))
        let onlyServer = manifest.blocks.keys.filter { !localIDs.contains($0) }.sorted()
        func ids(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        return .object([
            "path": .string(path), "in_sync": .bool(differing.isEmpty && onlyLocal.isEmpty && onlyServer.isEmpty),
            "differing": ids(differing), "only_local": ids(onlyLocal), "only_server": ids(onlyServer), "seq": .int(manifest.seq ?? 0),
            "doc": manifest.document.map { .string($0) } ?? .null,
        ])
    }
}
