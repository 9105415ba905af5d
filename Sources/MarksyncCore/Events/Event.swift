/// What an event does. The raw values are stored in the log and must never change.
public enum EventKind: UInt8, Sendable, CaseIterable, Codable {
    /// A new block at a position in the document.
    case blockCreated = 1
    /// A diff-match-patch patch applied to a block's content.
    case blockPatched = 2
    /// A block's whole content replaced.
    case blockReplaced = 3
    /// A block removed.
    case blockDeleted = 4
    /// A block's fence lines (header: lang, meta, fence length) changed; id and content unchanged.
    case blockHeaderChanged = 5
    /// The prose between two blocks changed.
    case proseEdited = 6
    /// A reviewer's note on one version of a block.
    case reviewNote = 7
    /// The result of a deploy run.
    case deployResult = 8
    /// The document's line ending style changed (LF ↔ CRLF).
    case lineEndingChanged = 9

    /// The name used in JSON, the CLI and the HTTP API.
    public var name: String {
        switch self {
        case .blockCreated: "block.created"
        case .blockPatched: "block.patched"
        case .blockReplaced: "block.replaced"
        case .blockDeleted: "block.deleted"
        case .blockHeaderChanged: "block.header_changed"
        case .proseEdited: "prose.edited"
        case .reviewNote: "review.note"
        case .deployResult: "deploy.result"
        case .lineEndingChanged: "document.line_ending"
        }
    }

    /// The kind with this name.
    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// The header of a block as written: everything but its content.
public struct BlockHeader: Sendable, Equatable, Hashable {
    public var kind: String
    public var lang: String
    public var meta: String
    public var path: String?
    public var style: MarkpactBlock.HeaderStyle
    public var openingLine: String
    public var closingLine: String

    public init(
        kind: String, lang: String, meta: String, path: String?, style: MarkpactBlock.HeaderStyle, openingLine: String,
        closingLine: String
    ) {
        self.kind = kind
        self.lang = lang
        self.meta = meta
        self.path = path
        self.style = style
        self.openingLine = openingLine
        self.closingLine = closingLine
    }

    /// The header of a parsed block.
    public init(_ block: MarkpactBlock) {
        self.init(
            kind: block.kind, lang: block.lang, meta: block.meta, path: block.path, style: block.headerStyle,
            openingLine: block.openingLine, closingLine: block.closingLine)
    }
}

/// The body of an event: what changed. Payloads are encoded by ``EventCodec``.
public enum EventBody: Sendable, Equatable {
    /// A block inserted at `index`; `proseBefore` (when set) replaces the prose segment before it, and
    /// `proseAfter` becomes the new segment after it.
    case blockCreated(BlockCreated)
    /// A patch (diff-match-patch text as received) applied to a block; `resultLength` in code points and
    /// `resultSHA256` (when the writer sent one) describe the block after it.
    case blockPatched(blockID: String, patch: String, resultLength: Int, resultSHA256: String?)
    /// A block's content replaced.
    case blockReplaced(blockID: String, content: String)
    /// A block removed; the prose around it is joined (see ``DocumentState/deleteBlock(at:)``).
    case blockDeleted(blockID: String)
    /// New fence lines for a block.
    case blockHeaderChanged(blockID: String, header: BlockHeader)
    /// The prose segment at `index` replaced by `text`.
    case proseEdited(index: Int, text: String)
    /// A review note on the block version at `blockSeq` (the seq of the event that made that version).
    case reviewNote(ReviewNote)
    /// A deploy run's result.
    case deployResult(DeployResult)
    /// The document's line ending style.
    case lineEndingChanged(MarkpactDocument.LineEnding)

    /// The kind of this body.
    public var kind: EventKind {
        switch self {
        case .blockCreated: .blockCreated
        case .blockPatched: .blockPatched
        case .blockReplaced: .blockReplaced
        case .blockDeleted: .blockDeleted
        case .blockHeaderChanged: .blockHeaderChanged
        case .proseEdited: .proseEdited
        case .reviewNote: .reviewNote
        case .deployResult: .deployResult
        case .lineEndingChanged: .lineEndingChanged
        }
    }

    /// The block this event is about, if any.
    public var blockID: String? {
        switch self {
        case .blockCreated(let created): created.blockID
        case .blockPatched(let id, _, _, _), .blockReplaced(let id, _), .blockDeleted(let id), .blockHeaderChanged(let id, _):
            id
        case .reviewNote(let note): note.blockID
        case .proseEdited, .deployResult, .lineEndingChanged: nil
        }
    }

    /// True for events that change the document text (everything but notes and deploy results).
    public var changesDocument: Bool {
        switch self {
        case .reviewNote, .deployResult: false
        default: true
        }
    }
}

/// A new block.
public struct BlockCreated: Sendable, Equatable {
    public var blockID: String
    public var index: Int
    public var header: BlockHeader
    public var content: String
    public var bodyIsOneEmptyLine: Bool
    public var proseBefore: String?
    public var proseAfter: String

    public init(
        blockID: String, index: Int, header: BlockHeader, content: String, bodyIsOneEmptyLine: Bool = false,
        proseBefore: String? = nil, proseAfter: String
    ) {
        self.blockID = blockID
        self.index = index
        self.header = header
        self.content = content
        self.bodyIsOneEmptyLine = bodyIsOneEmptyLine && content.isEmpty
        self.proseBefore = proseBefore
        self.proseAfter = proseAfter
    }
}

/// A reviewer's note tied to one version of a block.
public struct ReviewNote: Sendable, Equatable {
    public var blockID: String
    /// The seq of the event that produced the reviewed version.
    public var blockSeq: Int
    /// The sha256 of the reviewed content.
    public var blockSHA256: String
    /// `ok`, `warning`, `error`, or free text.
    public var verdict: String
    public var text: String

    public init(blockID: String, blockSeq: Int, blockSHA256: String, verdict: String, text: String) {
        self.blockID = blockID
        self.blockSeq = blockSeq
        self.blockSHA256 = blockSHA256
        self.verdict = verdict
        self.text = text
    }
}

/// The result of a deploy run.
public struct DeployResult: Sendable, Equatable {
    /// The document seq that was deployed.
    public var documentSeq: Int
    public var command: String
    /// Unix time in milliseconds when the run started.
    public var startedMs: Int64
    public var durationMs: Int64
    /// The exit code, or nil when the command could not start.
    public var exitCode: Int?
    /// The last lines of output.
    public var outputTail: String

    public init(documentSeq: Int, command: String, startedMs: Int64, durationMs: Int64, exitCode: Int?, outputTail: String) {
        self.documentSeq = documentSeq
        self.command = command
        self.startedMs = startedMs
        self.durationMs = durationMs
        self.exitCode = exitCode
        self.outputTail = outputTail
    }
}

/// One event of a document's log.
public struct Event: Sendable, Equatable {
    /// The document name.
    public var document: String
    /// The position in the document's log: 1, 2, 3, … with no gaps.
    public var seq: Int
    /// Unix time in milliseconds.
    public var timestampMs: Int64
    /// Who made the change: a client or agent name, or `file` for edits picked up from disk.
    public var author: String
    /// The client's message id, for idempotent writes.
    public var clientMessageID: String?
    /// The seq the writer based the change on.
    public var baseSeq: Int?
    /// What changed.
    public var body: EventBody
    /// The hash chained over the previous event's hash and this event (``EventCodec/chainHash``).
    public var hash: [UInt8]
    /// The connection that wrote the event, while it is live (not stored, not hashed): the server
    /// uses it not to echo a change back to its writer.
    public var origin: String?

    public init(
        document: String, seq: Int, timestampMs: Int64, author: String, clientMessageID: String? = nil, baseSeq: Int? = nil,
        body: EventBody, hash: [UInt8] = [], origin: String? = nil
    ) {
        self.document = document
        self.seq = seq
        self.timestampMs = timestampMs
        self.author = author
        self.clientMessageID = clientMessageID
        self.baseSeq = baseSeq
        self.body = body
        self.hash = hash
        self.origin = origin
    }
}
