import Foundation
import MarksyncCore

/// Version of the sync protocol this client speaks.
public enum MarksyncClientVersion {
    /// Bumped when the client needs a newer server.
    public static let protocolVersion = 1
}

/// One request a client sends: a `type` and its fields (see the contract, §4).
///
/// Build requests with the factories (``patch(blockID:patch:sha:baseSeq:baseSHA:id:)``, ``full(blockID:content:baseSeq:baseSHA:id:)``,
/// ``getSnapshot(at:)``, …) or with ``init(type:fields:)`` for anything else. Writes (`patch`, `full`, `merge`,
/// `create`, `delete`) always carry a client message `id`; ``SyncClient`` generates one when it is missing, so a
/// resend after a reconnect is recognised by the server and stored once.
public struct SyncRequest: Sendable, Equatable {
    /// The message type (`patch`, `full`, `get_snapshot`, …).
    public var type: String
    /// The fields besides `type` and `ts`.
    public var fields: [String: JSONValue]

    /// A request of any type.
    public init(type: String, fields: [String: JSONValue] = [:]) {
        self.type = type
        self.fields = fields
    }

    /// The message types that append to the log (they are answered by `ack` or `nack`).
    public static let writeTypes: Set<String> = ["patch", "full", "merge", "create", "delete", "review", "deploy", "prose"]

    /// Whether the request changes the document.
    public var isWrite: Bool { Self.writeTypes.contains(type) }

    /// The client message id of a write.
    public var id: String? {
        get { fields["id"]?.stringValue }
        set { fields["id"] = newValue.map { .string($0) } }
    }

    /// The block the request is about, if any.
    public var blockID: String? { fields["block_id"]?.stringValue }

    /// A diff-match-patch patch of one block (Python `patch_toText` format, code-point positions).
    /// - Parameters:
    ///   - sha: sha256 of the content the patch must give (else `nack hash_mismatch`).
    ///   - baseSeq: the seq the patch was made against (the server rebases it or answers `nack conflict`).
    ///   - baseSHA: the sha256 of the block version the patch was made against.
    ///   - id: the client message id (generated when nil).
    public static func patch(
        blockID: String, patch: String, sha: String? = nil, baseSeq: Int? = nil, baseSHA: String? = nil, id: String? = nil
    ) -> SyncRequest {
        var fields: [String: JSONValue] = ["block_id": .string(blockID), "patch": .string(patch)]
        fields["sha"] = sha.map { .string($0) }
        fields["base_seq"] = baseSeq.map { .int($0) }
        fields["base_sha"] = baseSHA.map { .string($0) }
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "patch", fields: fields)
    }

    /// The full content of a block (replaces it, or creates it at the end).
    public static func full(blockID: String, content: String, baseSeq: Int? = nil, baseSHA: String? = nil, id: String? = nil)
        -> SyncRequest
    {
        var fields: [String: JSONValue] = ["block_id": .string(blockID), "content": .string(content)]
        fields["base_seq"] = baseSeq.map { .int($0) }
        fields["base_sha"] = baseSHA.map { .string($0) }
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "full", fields: fields)
    }

    /// The write that turns `old` into `new`: a `patch` (with the sha256 of `new`) when its text is under
    /// 80 % of the new content in code points (it saves at least 20 %, the seed's rule), else `full`.
    public static func update(blockID: String, from old: String, to new: String, baseSeq: Int? = nil, id: String? = nil) -> SyncRequest {
        let dmp = DiffMatchPatch()
        let patchText = dmp.patchToText(dmp.patchMake(old, new))
        if Double(patchText.unicodeScalars.count) < Double(new.unicodeScalars.count) * 0.8 {
            return .patch(blockID: blockID, patch: patchText, sha: SHA256.hexDigest(of: new), baseSeq: baseSeq, id: id)
        }
        return .full(blockID: blockID, content: new, baseSeq: baseSeq, id: id)
    }

    /// A new block at `index` (end when nil) with its kind, language and meta (`path=app.py`), which must give
    /// `blockID` by the seed's id rules.
    public static func create(
        blockID: String, kind: String? = nil, lang: String? = nil, meta: String? = nil, index: Int? = nil, content: String = "",
        id: String? = nil
    ) -> SyncRequest {
        var fields: [String: JSONValue] = ["block_id": .string(blockID), "content": .string(content)]
        fields["kind"] = kind.map { .string($0) }
        fields["lang"] = lang.map { .string($0) }
        fields["meta"] = meta.map { .string($0) }
        fields["index"] = index.map { .int($0) }
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "create", fields: fields)
    }

    /// Replaces the prose segment `index` (0: before the first block, n: after the last block n-1). With
    /// `old`, the server refuses with `nack conflict` when the segment no longer holds it. The seed's
    /// servers do not know this message (``SyncClient`` refuses it for them at once).
    public static func prose(index: Int, text: String, old: String? = nil, baseSeq: Int? = nil, id: String? = nil) -> SyncRequest {
        var fields: [String: JSONValue] = ["index": .int(index), "text": .string(text)]
        fields["old"] = old.map { .string($0) }
        fields["base_seq"] = baseSeq.map { .int($0) }
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "prose", fields: fields)
    }

    /// Deletes a block.
    public static func delete(blockID: String, baseSeq: Int? = nil, id: String? = nil) -> SyncRequest {
        var fields: [String: JSONValue] = ["block_id": .string(blockID)]
        fields["base_seq"] = baseSeq.map { .int($0) }
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "delete", fields: fields)
    }

    /// A review note on the version of a block made by the event at `blockSeq` (never changes the block).
    /// - Parameters:
    ///   - sha: the sha256 of the reviewed content (else the server takes it from the log).
    ///   - verdict: `ok`, `warning`, `error` or `note`.
    public static func review(blockID: String, blockSeq: Int, sha: String? = nil, verdict: String, text: String, id: String? = nil)
        -> SyncRequest
    {
        var fields: [String: JSONValue] = [
            "block_id": .string(blockID), "block_seq": .int(blockSeq), "verdict": .string(verdict), "text": .string(text),
        ]
        fields["sha"] = sha.map { .string($0) }
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "review", fields: fields)
    }

    /// The result of a deploy run of the document as it was at `documentSeq`.
    public static func deploy(
        documentSeq: Int, command: String, startedMs: Int64, durationMs: Int64, exitCode: Int?, outputTail: String, id: String? = nil
    ) -> SyncRequest {
        var fields: [String: JSONValue] = [
            "document_seq": .int(documentSeq), "command": .string(command), "started_ms": .int(Int(startedMs)),
            "duration_ms": .int(Int(durationMs)), "output_tail": .string(outputTail),
        ]
        fields["exit_code"] = exitCode.map { .int($0) } ?? .null
        fields["id"] = id.map { .string($0) }
        return SyncRequest(type: "deploy", fields: fields)
    }

    /// The README (at seq `at`, or the head). Answered by `snapshot`.
    public static func getSnapshot(at: Int? = nil) -> SyncRequest {
        SyncRequest(type: "get_snapshot", fields: at.map { ["at": .int($0)] } ?? [:])
    }

    /// One block (at seq `at`, or the head). Answered by `full` with `exists`.
    public static func getBlock(_ blockID: String, at: Int? = nil) -> SyncRequest {
        var fields: [String: JSONValue] = ["block_id": .string(blockID)]
        fields["at"] = at.map { .int($0) }
        return SyncRequest(type: "get_block", fields: fields)
    }

    /// A page of the event history after `since`. Answered by `log`.
    public static func getLog(since: Int = 0, limit: Int = 100, blockID: String? = nil) -> SyncRequest {
        var fields: [String: JSONValue] = ["since": .int(since), "limit": .int(limit)]
        fields["block_id"] = blockID.map { .string($0) }
        return SyncRequest(type: "get_log", fields: fields)
    }

    /// The JSON text sent on the wire (with `type` and `ts`).
    public var text: String {
        var object = fields
        object["type"] = .string(type)
        object["ts"] = .double(Date().timeIntervalSince1970)
        return JSONValue.object(object).text
    }
}

/// A successful reply: `ack`, `snapshot`, `full` (to `get_block`), `log`, `subscribed`, `cursor`, ….
public struct SyncReply: Sendable, Equatable {
    /// The whole message.
    public var message: JSONValue
    public init(message: JSONValue) { self.message = message }
    /// The reply's type.
    public var type: String { message["type"]?.stringValue ?? "" }
    /// A field of the reply.
    public subscript(key: String) -> JSONValue? { message[key] }
    /// The `seq` field, when there is one.
    public var seq: Int? { message["seq"]?.intValue }
}

/// A write the server accepted: stored durably at `seq`.
public struct SyncAck: Sendable, Equatable {
    /// The block written.
    public var blockID: String
    /// The seq of the event that holds the write.
    public var seq: Int
    /// The sha256 of the block after the write, when the server says it.
    public var sha: String?
    /// The client message id.
    public var id: String?
    /// The patch was made against an older version and was rebased onto the current content.
    public var rebased: Bool
    /// The id had been seen before: this is the original ack and nothing new was stored.
    public var duplicate: Bool

    /// Reads an `ack` message.
    public init?(_ message: JSONValue) {
        guard message["type"]?.stringValue == "ack", let seq = message["seq"]?.intValue else { return nil }
        blockID = message["block_id"]?.stringValue ?? ""
        self.seq = seq
        sha = message["sha"]?.stringValue
        id = message["id"]?.stringValue
        rebased = message["rebased"]?.boolValue ?? false
        duplicate = message["duplicate"]?.boolValue ?? false
    }
}

/// A refusal: `nack` (or `error`) with a stable reason code.
public struct SyncNack: Error, Sendable, Equatable, CustomStringConvertible {
    /// The block, when the refused message named one.
    public var blockID: String?
    /// The stable reason code (`conflict`, `hash_mismatch`, `patch_failed`, `forbidden`, `unauthorized`, …).
    public var reason: String
    /// A sentence for people.
    public var message: String
    /// For `conflict`: the block's current content, sha256 and seq.
    public var content: String?
    public var sha: String?
    public var seq: Int?
    /// The client message id of the refused write.
    public var id: String?
    /// The whole message.
    public var raw: JSONValue

    /// Reads a `nack` or `error` message.
    public init(_ message: JSONValue) {
        raw = message
        blockID = message["block_id"]?.stringValue
        reason = message["reason"]?.stringValue ?? "unknown"
        self.message = message["message"]?.stringValue ?? ""
        content = message["content"]?.stringValue
        sha = message["sha"]?.stringValue
        seq = message["seq"]?.intValue
        id = message["id"]?.stringValue
    }

    public var description: String { message.isEmpty ? reason : "\(reason): \(message)" }
}

/// What went wrong on the client side.
public enum SyncClientError: Error, Sendable, CustomStringConvertible {
    /// The server refused the request (`nack` or `error`): an error result, never a silent drop.
    case nack(SyncNack)
    /// The server refused the connection (first message was an `error`, e.g. `unauthorized`).
    case rejected(SyncNack)
    /// The WebSocket could not be opened.
    case connectionFailed(String)
    /// The connection dropped and automatic reconnection is off or gave up.
    case disconnected(String)
    /// No reply within the request timeout.
    case timeout(String)
    /// ``SyncClient/close()`` was called.
    case closed
    /// The server speaks only the seed's protocol (Python marksync 0.2.x) and has no such message; the
    /// request was not sent.
    case unsupportedBySeed(String)
    /// The server sent something this client cannot make sense of.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .nack(let nack): "nack \(nack)"
        case .rejected(let nack): "connection refused by the server: \(nack)"
        case .connectionFailed(let message): "cannot connect: \(message)"
        case .disconnected(let message): "disconnected: \(message)"
        case .timeout(let message): "timed out: \(message)"
        case .closed: "the client is closed"
        case .unsupportedBySeed(let what): "the server speaks only the seed's protocol (Python marksync 0.2.x, no seqs, no subscriptions): \(what) is not available there"
        case .protocolViolation(let message): "protocol violation: \(message)"
        }
    }
}

/// The first message of a connection: every block's sha256, the document and its head seq.
public struct SyncManifest: Sendable, Equatable {
    /// Block id → sha256 of its content.
    public var blocks: [String: String]
    /// The document name.
    public var document: String?
    /// The head seq when the manifest was made.
    public var seq: Int?

    /// Whether the server speaks this project's extensions (its manifest names the document and the head
    /// seq). A server that speaks only the seed's protocol (Python marksync 0.2.x) sends `blocks` alone: no
    /// `subscribe`, `create`, `delete`, `prose`, `get_log`, `at`, consumers or seqs that survive a restart.
    public var speaksExtensions: Bool

    /// Reads a `manifest` message. `blocks` holds the exact sha256 of each block's content: marksync-log
    /// advertises the seed's sha (of the stripped content) in `blocks` and the exact one in `exact` for the
    /// blocks where they differ.
    public init(_ message: JSONValue) {
        var blocks = [String: String]()
        for (id, sha) in message["blocks"]?.objectValue ?? [:] { if let sha = sha.stringValue { blocks[id] = sha } }
        for (id, sha) in message["exact"]?.objectValue ?? [:] { if let sha = sha.stringValue { blocks[id] = sha } }
        self.blocks = blocks
        document = message["doc"]?.stringValue
        seq = message["seq"]?.intValue
        speaksExtensions = seq != nil || document != nil
    }

    public init(blocks: [String: String] = [:], document: String? = nil, seq: Int? = nil, speaksExtensions: Bool = true) {
        self.blocks = blocks
        self.document = document
        self.seq = seq
        self.speaksExtensions = speaksExtensions
    }
}

/// The README as the server has it (reply to `get_snapshot`).
public struct SyncSnapshot: Sendable, Equatable {
    public var markdown: String
    public var seq: Int
    public var document: String?
}

/// One block as the server has it (reply to `get_block`).
public struct SyncBlock: Sendable, Equatable {
    public var blockID: String
    /// The content (`""` when the block does not exist).
    public var content: String
    public var sha: String?
    /// The seq of the block's last change (the head seq when it does not exist).
    public var seq: Int
    public var exists: Bool
}

/// One event of a document, as a subscriber receives it (`patch`, `full`, `delete`, `prose`, `header`,
/// `review`, `deploy`, `line_ending`).
public struct SyncEvent: Sendable, Equatable {
    /// The whole message.
    public var message: JSONValue
    /// The event's seq (dense per document).
    public var seq: Int

    public init?(_ message: JSONValue) {
        guard let seq = message["seq"]?.intValue else { return nil }
        self.message = message
        self.seq = seq
    }

    /// The message type.
    public var type: String { message["type"]?.stringValue ?? "" }
    /// The block, for block events.
    public var blockID: String? { message["block_id"]?.stringValue }
    /// The author of the event.
    public var sender: String? { message["sender"]?.stringValue }
    /// The client message id of the write, if it carried one.
    public var id: String? { message["id"]?.stringValue }
    /// `patch`: the patch text from the previous content to the new one.
    public var patch: String? { message["patch"]?.stringValue }
    /// `full`: the new content.
    public var content: String? { message["content"]?.stringValue }
    /// sha256 of the block after the event.
    public var sha: String? { message["sha"]?.stringValue }
    /// `full` of a new block.
    public var created: Bool { message["created"]?.boolValue ?? false }
}

/// What a subscription yields: events in seq order, and `caught_up` when the catch-up from the log reached
/// the head (live events follow).
public enum SyncUpdate: Sendable, Equatable {
    case event(SyncEvent)
    case caughtUp(seq: Int)

    /// The event, when this is one.
    public var event: SyncEvent? { if case .event(let event) = self { event } else { nil } }
}

/// Counters of what a subscription saw on the wire; all stay 0 when the server keeps its promise
/// (no gap, no duplicate at the hand-over from catch-up to live).
public struct SubscriptionStats: Sendable, Equatable {
    /// Events delivered to the subscriber.
    public var delivered = 0
    /// Events at or below the cursor that were dropped (the server sent them twice).
    public var duplicatesDropped = 0
    /// Times the next event's seq was more than the cursor + 1.
    public var gaps = 0
    /// Times the client reconnected and resumed.
    public var reconnects = 0
    public init() {}
}
