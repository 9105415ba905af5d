/// A change a writer asks for. The log turns it into an event (``EventBody``) after checking it against the
/// document's current state.
public enum Change: Sendable, Equatable {
    /// Apply a diff-match-patch patch text to a block. With `expectedSHA256`, the result must hash to it.
    case patch(blockID: String, patch: String, expectedSHA256: String?)
    /// Replace a block's content; a block that does not exist is created at the end (the seed's `full`).
    case full(blockID: String, content: String)
    /// Create a block at a position (the end when nil) with a header derived from its id unless given.
    case create(blockID: String, index: Int?, header: BlockHeader?, content: String)
    /// Delete a block.
    case delete(blockID: String)
    /// Append an event as it is (ingest of a file, import of a backup, notes, deploy results).
    case event(EventBody)

    /// The block the change is about.
    public var blockID: String? {
        switch self {
        case .patch(let id, _, _), .full(let id, _), .create(let id, _, _, _), .delete(let id): id
        case .event(let body): body.blockID
        }
    }
}

extension DocumentState {
    /// Checks a change against this state and applies it; returns the event body to store. On error the
    /// state is unchanged.
    public mutating func prepare(_ change: Change, seq newSeq: Int) throws(ApplyError) -> EventBody {
        switch change {
        case .patch(let id, let patch, let sha):
            return try applyPatch(blockID: id, patchText: patch, expectedSHA256: sha, seq: newSeq)

        case .full(let id, let content):
            guard block(id) != nil else {
                return try prepare(.create(blockID: id, index: nil, header: nil, content: content), seq: newSeq)
            }
            let body = EventBody.blockReplaced(blockID: id, content: content)
            try apply(body, seq: newSeq)
            return body

        case .create(let id, let index, let header, let content):
            guard block(id) == nil else { throw ApplyError("block_exists", "block \(id) already exists") }
            guard let header = header ?? BlockHeader(derivedFrom: id) else {
                throw ApplyError("bad_block_id", "block id \(id) is not of the form markpact:<kind>[=<value>]")
            }
            let at = index ?? blocks.count
            guard at >= 0, at <= blocks.count else {
                throw ApplyError("bad_index", "position \(at) is outside 0…\(blocks.count)")
            }
            // Keep a blank line between the new block and what precedes it.
            var before = prose[at]
            if at == blocks.count {
                if !before.isEmpty, !before.hasSuffix("\n") { before += "\n" }
                if !before.isEmpty, !before.hasSuffix("\n\n") { before += "\n" }
            } else if !before.hasSuffix("\n") {
                before += "\n"
            }
            let after = at == blocks.count ? "\n" : "\n\n"
            var safeHeader = header
            // A content line that would close the fence makes the fence longer (never spills into prose).
            var probe = MarkpactBlock(
                id: id, kind: header.kind, lang: header.lang, meta: header.meta, path: header.path, headerStyle: header.style,
                openingLine: header.openingLine, closingLine: header.closingLine, content: "")
            probe.setContent(content)
            safeHeader.openingLine = probe.openingLine
            safeHeader.closingLine = probe.closingLine
            let body = EventBody.blockCreated(
                BlockCreated(
                    blockID: id, index: at, header: safeHeader, content: content,
                    proseBefore: before == prose[at] ? nil : before, proseAfter: after))
            try apply(body, seq: newSeq)
            return body

        case .delete(let id):
            let body = EventBody.blockDeleted(blockID: id)
            try apply(body, seq: newSeq)
            return body

        case .event(let body):
            try apply(body, seq: newSeq)
            return body
        }
    }
}

extension BlockHeader {
    /// A header for a block created over the wire, from its id: `markpact:file=app/main.py` becomes
    /// ```` ```python markpact:file path=app/main.py ````, `markpact:deps=python` becomes
    /// ```` ```text markpact:deps python ````. Parsing the rendered header gives the same id back.
    public init?(derivedFrom id: String) {
        guard id.hasPrefix("markpact:") else { return nil }
        let tag = id.dropFirst("markpact:".count)
        let kind = String(tag.prefix { $0 != "=" && $0 != "#" })
        guard !kind.isEmpty, kind.unicodeScalars.allSatisfy({ $0.isWordCharacter || $0 == "-" }) else { return nil }
        var value: String?
        if let equals = tag.firstIndex(of: "=") {
            var rest = String(tag[tag.index(after: equals)...])
            if let hash = rest.lastIndex(of: "#"), rest[rest.index(after: hash)...].allSatisfy(\.isNumber) {
                rest = String(rest[..<hash])
            }
            value = rest
        }
        guard value.map({ !$0.isEmpty && !$0.contains("\n") && !$0.contains("`") }) ?? true else { return nil }
        let meta: String
        var path: String?
        if let value {
            if kind == "file" || value.contains("/") {
                meta = "path=\(value)"
                path = value
            } else {
                meta = value
            }
        } else {
            meta = ""
        }
        let lang = Self.language(kind: kind, path: path)
        let opening = "```\(lang) markpact:\(kind)" + (meta.isEmpty ? "" : " \(meta)")
        self.init(kind: kind, lang: lang, meta: meta, path: path, style: .langFirst, openingLine: opening, closingLine: "```")
    }

    /// A language tag for a new block from its kind and file extension.
    static func language(kind: String, path: String?) -> String {
        if kind == "run" { return "bash" }
        guard let path, let dot = path.lastIndex(of: ".") else { return "text" }
        switch path[path.index(after: dot)...].lowercased() {
        case "py": return "python"
        case "js", "mjs": return "javascript"
        case "ts": return "typescript"
        case "swift": return "swift"
        case "go": return "go"
        case "rs": return "rust"
        case "sh": return "bash"
        case "json": return "json"
        case "yml", "yaml": return "yaml"
        case "toml": return "toml"
        case "md": return "markdown"
        case "html": return "html"
        case "css": return "css"
        case "sql": return "sql"
        case "c", "h": return "c"
        case "cpp", "cc", "hpp": return "c++"
        default: return "text"
        }
    }
}
