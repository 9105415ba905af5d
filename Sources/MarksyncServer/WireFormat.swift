import Foundation
import MarksyncCore
import MarksyncStore

/// Builds the JSON messages of the sync protocol (every message has `type` and `ts`).
enum Wire {
    static func now() -> Double { Date().timeIntervalSince1970 }

    /// The largest integer accepted from the wire (2^53, JSON's exact integers): seqs, cursors, limits, sizes.
    static let maxInteger = 1 << 53

    /// A message with `type`, `ts` and the given fields.
    static func message(_ type: String, _ fields: [String: JSONValue] = [:]) -> String {
        var object = fields
        object["type"] = .string(type)
        object["ts"] = .double(now())
        return JSONValue.object(object).text
    }

    static func nack(_ blockID: String?, _ reason: String, _ message: String, extra: [String: JSONValue] = [:]) -> String {
        var fields = extra
        if let blockID { fields["block_id"] = .string(blockID) }
        fields["reason"] = .string(reason)
        fields["message"] = .string(message)
        return Self.message("nack", fields)
    }

    static func error(_ reason: String, _ message: String) -> String {
        Self.message("error", ["reason": .string(reason), "message": .string(message)])
    }

    /// The first message of a connection. `blocks` carries each block's sha256 as the seed's clients compute
    /// it (of the content stripped of surrounding whitespace, `body.strip()`), so that `marksync push` of an
    /// unchanged README sends nothing; `exact` carries the sha256 of the content byte for byte for the blocks
    /// where the two differ (this project's clients compare with it).
    static func manifest(_ state: DocumentState, document: String) -> String {
        var blocks = [String: JSONValue]()
        var exact = [String: JSONValue]()
        for block in state.blocks {
            let content = block.content
            if SeedContent.differs(content) {
                blocks[block.id] = .string(SeedContent.sha256(of: content))
                exact[block.id] = .string(block.sha256)
            } else {
                blocks[block.id] = .string(block.sha256)
            }
        }
        return message("manifest", ["blocks": .object(blocks), "exact": .object(exact), "doc": .string(document), "seq": .int(state.seq)])
    }

    /// Applies a committed event to `state` (a subscriber's view of the document, at the seq before the
    /// event) and returns the message subscribers get for it. A patch is relayed as the writer sent it when
    /// it is one hunk found exactly where it says (any client in sync applies it exactly); otherwise a patch
    /// is computed from the block before to the block after. The sha is the one the writer's patch was
    /// checked against, when it gave one.
    static func applyForSubscribers(_ event: Event, to state: inout DocumentState) throws(ApplyError) -> String {
        guard case .blockPatched(let blockID, let patchText, let length, let resultSHA) = event.body else {
            try state.apply(event.body, seq: event.seq)
            return eventMessage(event, patch: nil)
        }
        let relay = try state.applyPatchForRelay(blockID: blockID, patchText: patchText, resultLength: length, resultSHA256: resultSHA, seq: event.seq)
        let block = state.block(blockID)
        switch relay {
        case .verbatim:
            return eventMessage(event, patch: (patchText, resultSHA ?? block?.sha256 ?? SHA256.hexDigest(of: "")))
        case .recompute(let old):
            let new = block?.content ?? ""
            let dmp = DiffMatchPatch()
            return eventMessage(event, patch: (dmp.patchToText(dmp.patchMake(old, new)), resultSHA ?? SHA256.hexDigest(of: new)))
        }
    }

    /// The message a subscriber gets for one event. For a patch event, `patch` is the patch text to send
    /// and the block's new sha (see ``applyForSubscribers(_:to:)``).
    static func eventMessage(_ event: Event, patch: (text: String, sha: String)?) -> String {
        var fields: [String: JSONValue] = ["seq": .int(event.seq), "sender": .string(event.author), "doc": .string(event.document)]
        if let id = event.clientMessageID { fields["id"] = .string(MessageIDScope.unscoped(id)) }
        switch event.body {
        case .blockPatched(let blockID, _, _, _):
            fields["block_id"] = .string(blockID)
            fields["patch"] = .string(patch?.text ?? "")
            fields["sha"] = .string(patch?.sha ?? "")
            return message("patch", fields)
        case .blockReplaced(let blockID, let content):
            fields["block_id"] = .string(blockID)
            fields["content"] = .string(content)
            fields["sha"] = .string(SHA256.hexDigest(of: content))
            return message("full", fields)
        case .blockCreated(let created):
            fields["block_id"] = .string(created.blockID)
            fields["content"] = .string(created.content)
            fields["sha"] = .string(SHA256.hexDigest(of: created.content))
            fields["created"] = .bool(true)
            fields["index"] = .int(created.index)
            fields["kind"] = .string(created.header.kind)
            fields["lang"] = .string(created.header.lang)
            return message("full", fields)
        case .blockDeleted(let blockID):
            fields["block_id"] = .string(blockID)
            return message("delete", fields)
        case .blockHeaderChanged(let blockID, let header):
            fields["block_id"] = .string(blockID)
            fields["lang"] = .string(header.lang)
            fields["meta"] = .string(header.meta)
            fields["opening"] = .string(header.openingLine)
            return message("header", fields)
        case .proseEdited(let index, let text):
            fields["index"] = .int(index)
            fields["text"] = .string(text)
            return message("prose", fields)
        case .reviewNote(let note):
            fields["block_id"] = .string(note.blockID)
            fields["block_seq"] = .int(note.blockSeq)
            fields["block_sha"] = .string(note.blockSHA256)
            fields["verdict"] = .string(note.verdict)
            fields["text"] = .string(note.text)
            return message("review", fields)
        case .deployResult(let result):
            fields["document_seq"] = .int(result.documentSeq)
            fields["command"] = .string(result.command)
            fields["started_ms"] = .int(Int(result.startedMs))
            fields["exit_code"] = result.exitCode.map { .int($0) } ?? .null
            fields["duration_ms"] = .int(Int(result.durationMs))
            fields["output_tail"] = .string(result.outputTail)
            return message("deploy", fields)
        case .lineEndingChanged(let ending):
            fields["line_ending"] = .string(ending.rawValue)
            return message("line_ending", fields)
        }
    }

    /// An event as a JSON object (the `log` reply and the HTTP API), from its record.
    static func record(_ event: Event) -> JSONValue {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(EventRecord(event)), let value = JSONValue.parse(data) else { return .null }
        return value
    }
}
