/// The JSON form of an event (export files, `log --json`, the HTTP API): flat, with stable field names.
///
/// Encoded with sorted keys it is deterministic, so export → import → export gives the same bytes.
public struct EventRecord: Codable, Sendable, Equatable {
    public var doc: String
    public var seq: Int
    public var ts: Int64
    public var author: String
    public var client_id: String?
    public var base_seq: Int?
    public var kind: String
    public var block: String?
    public var hash: String?

    // Body fields; which ones are set depends on `kind`.
    public var index: Int?
    public var block_kind: String?
    public var lang: String?
    public var meta: String?
    public var path: String?
    public var style: String?
    public var opening: String?
    public var closing: String?
    public var content: String?
    public var one_empty_line: Bool?
    public var prose_before: String?
    public var prose_after: String?
    public var patch: String?
    public var result_length: Int?
    public var sha256: String?
    public var text: String?
    public var block_seq: Int?
    public var verdict: String?
    public var document_seq: Int?
    public var command: String?
    public var started_ms: Int64?
    public var duration_ms: Int64?
    public var exit_code: Int?
    public var output_tail: String?
    public var line_ending: String?

    /// The record of an event.
    public init(_ event: Event) {
        doc = event.document
        seq = event.seq
        ts = event.timestampMs
        author = event.author
        client_id = event.clientMessageID
        base_seq = event.baseSeq
        kind = event.body.kind.name
        block = event.body.blockID
        hash = event.hash.isEmpty ? nil : SHA256.hex(event.hash)
        switch event.body {
        case .blockCreated(let created):
            index = created.index
            setHeader(created.header)
            content = created.content
            one_empty_line = created.bodyIsOneEmptyLine ? true : nil
            prose_before = created.proseBefore
            prose_after = created.proseAfter
        case .blockPatched(_, let patch, let length, let sha):
            self.patch = patch
            result_length = length
            sha256 = sha
        case .blockReplaced(_, let content):
            self.content = content
        case .blockDeleted:
            break
        case .blockHeaderChanged(_, let header):
            setHeader(header)
        case .proseEdited(let index, let text):
            self.index = index
            self.text = text
        case .reviewNote(let note):
            block_seq = note.blockSeq
            sha256 = note.blockSHA256
            verdict = note.verdict
            text = note.text
        case .deployResult(let result):
            document_seq = result.documentSeq
            command = result.command
            started_ms = result.startedMs
            duration_ms = result.durationMs
            exit_code = result.exitCode
            output_tail = result.outputTail
        case .lineEndingChanged(let ending):
            line_ending = ending.rawValue
        }
    }

    private mutating func setHeader(_ header: BlockHeader) {
        block_kind = header.kind
        lang = header.lang
        meta = header.meta
        path = header.path
        style = header.style == .langFirst ? "lang_first" : "markpact_first"
        opening = header.openingLine
        closing = header.closingLine
    }

    /// Why a record does not describe a valid event.
    public struct InvalidRecord: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The event this record describes.
    public func event() throws(InvalidRecord) -> Event {
        guard let kind = EventKind(name: kind) else { throw InvalidRecord(message: "unknown event kind \(kind.debugDescription)") }
        func need<T>(_ value: T?, _ name: String) throws(InvalidRecord) -> T {
            guard let value else { throw InvalidRecord(message: "\(kind.name) event \(seq) has no \(name)") }
            return value
        }
        func header() throws(InvalidRecord) -> BlockHeader {
            BlockHeader(
                kind: try need(block_kind, "block_kind"), lang: try need(lang, "lang"), meta: try need(meta, "meta"), path: path,
                style: style == "markpact_first" ? .markpactFirst : .langFirst, openingLine: try need(opening, "opening"),
                closingLine: try need(closing, "closing"))
        }
        let body: EventBody
        switch kind {
        case .blockCreated:
            body = .blockCreated(
                BlockCreated(
                    blockID: try need(block, "block"), index: try need(index, "index"), header: try header(),
                    content: try need(content, "content"), bodyIsOneEmptyLine: one_empty_line ?? false, proseBefore: prose_before,
                    proseAfter: try need(prose_after, "prose_after")))
        case .blockPatched:
            body = .blockPatched(
                blockID: try need(block, "block"), patch: try need(patch, "patch"), resultLength: try need(result_length, "result_length"),
                resultSHA256: sha256)
        case .blockReplaced:
            body = .blockReplaced(blockID: try need(block, "block"), content: try need(content, "content"))
        case .blockDeleted:
            body = .blockDeleted(blockID: try need(block, "block"))
        case .blockHeaderChanged:
            body = .blockHeaderChanged(blockID: try need(block, "block"), header: try header())
        case .proseEdited:
            body = .proseEdited(index: try need(index, "index"), text: try need(text, "text"))
        case .reviewNote:
            body = .reviewNote(
                ReviewNote(
                    blockID: try need(block, "block"), blockSeq: try need(block_seq, "block_seq"), blockSHA256: try need(sha256, "sha256"),
                    verdict: try need(verdict, "verdict"), text: try need(text, "text")))
        case .deployResult:
            body = .deployResult(
                DeployResult(
                    documentSeq: try need(document_seq, "document_seq"), command: try need(command, "command"),
                    startedMs: try need(started_ms, "started_ms"), durationMs: try need(duration_ms, "duration_ms"), exitCode: exit_code,
                    outputTail: try need(output_tail, "output_tail")))
        case .lineEndingChanged:
            body = .lineEndingChanged(line_ending == "crlf" ? .crlf : .lf)
        }
        var bytes = [UInt8]()
        if let hash {
            guard let decoded = Self.hexToBytes(hash) else { throw InvalidRecord(message: "event \(seq) has a malformed hash") }
            bytes = decoded
        }
        return Event(
            document: doc, seq: seq, timestampMs: ts, author: author, clientMessageID: client_id, baseSeq: base_seq, body: body,
            hash: bytes)
    }

    static func hexToBytes(_ hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        var i = 0
        while i < utf8.count {
            guard let byte = UInt8(String(decoding: utf8[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
            i += 2
        }
        return out
    }
}
