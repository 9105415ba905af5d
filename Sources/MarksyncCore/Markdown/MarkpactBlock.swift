/// One fenced `markpact:*` code block of a Markpact README.
///
/// The block keeps its opening and closing fence lines as they were written, so that rendering an
/// unedited document gives back the input byte for byte. ``content`` is the text between the two fence
/// lines without the newline that ends the last body line (the wire protocol's block content).
public struct MarkpactBlock: Sendable, Equatable, Hashable {
    /// The block id, by the seed's rules: `markpact:<kind>[=<path or meta>]`, plus `#2`, `#3`, … for
    /// later duplicates in the same document.
    public var id: String
    /// The kind after `markpact:` (`file`, `deps`, `run`, …).
    public var kind: String
    /// The language tag (`python`, `c++`, …); `text` when the header has none.
    public var lang: String
    /// What follows the kind on the header line (for the `=` form without extra words, the embedded value).
    public var meta: String
    /// The file path of the block: `path=` in the meta, or the embedded value of `markpact:file=<path>`.
    public var path: String?
    /// The header style the block was written in.
    public var headerStyle: HeaderStyle
    /// The opening fence line, as written (without its line terminator).
    public var openingLine: String
    /// The closing fence line, as written (without its line terminator).
    public var closingLine: String
    /// The text between the fence lines, without the newline that ends the last body line.
    public private(set) var content: String
    /// True when the body is one empty line (which has the same ``content`` "" as a body of no lines).
    public private(set) var bodyIsOneEmptyLine: Bool
    /// The 1-based line of the opening fence in the file the block was parsed from.
    public var lineStart: Int
    /// The 1-based line of the closing fence in the file the block was parsed from.
    public var lineEnd: Int

    /// The two header styles of the seed.
    public enum HeaderStyle: String, Sendable, Codable {
        /// ```` ```python markpact:file path=app/main.py ```` — language first.
        case langFirst
        /// ```` ```markpact:file python path=app/main.py ```` — markpact tag first.
        case markpactFirst
    }

    /// Creates a block from its parts.
    public init(
        id: String, kind: String, lang: String, meta: String, path: String?, headerStyle: HeaderStyle,
        openingLine: String, closingLine: String, content: String, bodyIsOneEmptyLine: Bool = false,
        lineStart: Int = 0, lineEnd: Int = 0
    ) {
        self.id = id
        self.kind = kind
        self.lang = lang
        self.meta = meta
        self.path = path
        self.headerStyle = headerStyle
        self.openingLine = openingLine
        self.closingLine = closingLine
        self.content = content
        self.bodyIsOneEmptyLine = bodyIsOneEmptyLine && content.isEmpty
        self.lineStart = lineStart
        self.lineEnd = lineEnd
    }

    /// The lowercase hex sha256 of the UTF-8 bytes of ``content`` (what manifests carry).
    public var sha256: String { SHA256.hexDigest(of: content) }

    /// The number of UTF-8 bytes of ``content``.
    public var size: Int { content.utf8.count }

    /// The info string: what follows the fence characters on the opening line, trimmed.
    public var info: String { FenceLine.parseOpening(openingLine)?.info ?? "" }

    /// Replaces the content. When the new content holds a line that would close the fence early (the
    /// seed's fence-injection bug), the fence is lengthened so the block stays one block.
    public mutating func setContent(_ newContent: String) {
        content = newContent
        bodyIsOneEmptyLine = false
        guard let opening = FenceLine.parseOpening(openingLine) else { return }
        let needed = FenceLine.fenceLengthNeeded(for: newContent, character: opening.character, current: opening.count)
        if needed > opening.count {
            let extra = String(repeating: Character(Unicode.Scalar(opening.character)), count: needed - opening.count)
            openingLine = extra + openingLine
            if let closing = FenceLine.closingRun(closingLine, character: opening.character) {
                let leading = String(closingLine.prefix(closing.indent))
                let rest = String(closingLine.dropFirst(closing.indent))
                closingLine = leading + extra + rest
            } else {
                closingLine = String(repeating: Character(Unicode.Scalar(opening.character)), count: needed)
            }
        }
    }

    /// The block as it appears in the file (fences included, no line terminator after the closing fence),
    /// with LF line ends.
    public func render() -> String {
        var out = openingLine
        out += "\n"
        if !content.isEmpty {
            out += content
            out += "\n"
        } else if bodyIsOneEmptyLine {
            out += "\n"
        }
        out += closingLine
        return out
    }
}
