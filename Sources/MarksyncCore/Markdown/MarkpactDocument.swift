/// A Markpact README parsed into prose and blocks, losslessly.
///
/// The document is an alternation `prose[0], blocks[0], prose[1], blocks[1], …, prose[n]`: ``prose`` always
/// has one more element than ``blocks``. A prose segment is the exact text between two blocks (it starts
/// with the line terminator of the previous closing fence). ``render()`` of an unedited document gives
/// back the parsed text byte for byte.
///
/// A file whose every line ends in CRLF is modelled with LF line ends (so block content and sha256 match
/// what Python clients see) and rendered with CRLF again. A file with mixed line ends is kept as it is.
///
/// ```swift
/// let document = MarkpactDocument(parsing: readme)
/// for block in document.blocks { print(block.id, block.sha256) }
/// assert(document.render() == readme)
/// ```
public struct MarkpactDocument: Sendable, Equatable {
    /// How the file ends its lines.
    public enum LineEnding: String, Sendable, Codable {
        /// `\n` (or mixed: kept as written).
        case lf
        /// Every line ends in `\r\n`.
        case crlf
    }

    /// Something the parser wants the user to know; the document is still complete and lossless.
    public struct Warning: Sendable, Equatable, CustomStringConvertible {
        /// A stable reason code: `duplicate_id` or `unclosed_fence`.
        public var code: String
        /// The 1-based line the warning is about.
        public var line: Int
        /// A sentence for people.
        public var message: String

        public var description: String { "line \(line): \(message) [\(code)]" }
    }

    /// The blocks in document order.
    public var blocks: [MarkpactBlock]
    /// The prose around the blocks; `prose.count == blocks.count + 1`.
    public var prose: [String]
    /// The line ending style the document is rendered with.
    public var lineEnding: LineEnding
    /// What the parser noticed (duplicate ids, unclosed fences).
    public var warnings: [Warning]

    /// An empty document.
    public init() {
        blocks = []
        prose = [""]
        lineEnding = .lf
        warnings = []
    }

    /// Creates a document from its parts.
    /// - Precondition: `prose.count == blocks.count + 1`.
    public init(blocks: [MarkpactBlock], prose: [String], lineEnding: LineEnding = .lf) {
        precondition(prose.count == blocks.count + 1, "a document has one more prose segment than blocks")
        self.blocks = blocks
        self.prose = prose
        self.lineEnding = lineEnding
        self.warnings = []
    }

    /// Parses a README.
    public init(parsing text: String) {
        var bytes = Array(text.utf8)
        lineEnding = Self.normaliseLineEndings(&bytes)
        (blocks, prose, warnings) = bytes.withUnsafeBufferPointer { Self.split($0) }
    }

    /// The block with this id.
    public func block(withID id: String) -> MarkpactBlock? { blocks.first { $0.id == id } }

    /// The index of the block with this id.
    public func index(ofBlock id: String) -> Int? { blocks.firstIndex { $0.id == id } }

    /// The manifest of the wire protocol: block id → sha256 of its content.
    public var manifest: [String: String] {
        Dictionary(blocks.map { ($0.id, $0.sha256) }, uniquingKeysWith: { first, _ in first })
    }

    /// The README text.
    public func render() -> String {
        var out = ""
        out.reserveCapacity(prose.reduce(0) { $0 + $1.utf8.count } + blocks.reduce(0) { $0 + $1.content.utf8.count + 64 })
        for index in blocks.indices {
            out += prose[index]
            out += blocks[index].render()
        }
        out += prose[blocks.count]
        guard lineEnding == .crlf else { return out }
        var crlf = [UInt8]()
        crlf.reserveCapacity(out.utf8.count + out.utf8.count / 16)
        for byte in out.utf8 {
            if byte == UInt8(ascii: "\n") { crlf.append(UInt8(ascii: "\r")) }
            crlf.append(byte)
        }
        return String(decoding: crlf, as: UTF8.self)
    }

    // MARK: - Parsing

    /// Turns an all-CRLF text into LF and says so; leaves LF and mixed texts alone.
    private static func normaliseLineEndings(_ bytes: inout [UInt8]) -> LineEnding {
        var lf = 0
        var crlf = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lf += 1
            if index > 0, bytes[index - 1] == UInt8(ascii: "\r") { crlf += 1 }
        }
        guard lf > 0, lf == crlf else { return .lf }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count - crlf)
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { continue }
            out.append(bytes[index])
        }
        bytes = out
        return .crlf
    }

    private static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> ([MarkpactBlock], [String], [Warning]) {
        // Line k spans lineStarts[k] ..< lineEnd(k) (terminator excluded).
        var lineStarts = [0]
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\n") { lineStarts.append(index + 1) }
        let lineCount = lineStarts.count
        func lineEnd(_ k: Int) -> Int { k + 1 < lineCount ? lineStarts[k + 1] - 1 : bytes.count }
        func line(_ k: Int) -> Slice<UnsafeBufferPointer<UInt8>> { bytes[lineStarts[k]..<lineEnd(k)] }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

        var blocks = [MarkpactBlock]()
        var prose = [String]()
        var warnings = [Warning]()
        var seen = Set<String>()
        var proseStart = 0
        var k = 0
        while k < lineCount {
            guard let opening = FenceLine.parseOpening(line(k)) else {
                k += 1
                continue
            }
            let infoRange = (lineStarts[k] + opening.count)..<lineEnd(k)
            let header = MarkpactHeader.parse(string(infoRange))
            var close = k + 1
            while close < lineCount, !FenceLine.isClosing(line(close), character: opening.character, count: opening.count) {
                close += 1
            }
            guard close < lineCount else {
                // CommonMark: an unclosed fence runs to the end of the document. It stays prose.
                if header != nil {
                    warnings.append(
                        Warning(
                            code: "unclosed_fence", line: k + 1,
                            message: "the markpact block opened here has no closing fence; it is kept as prose"))
                }
                break
            }
            if let header {
                prose.append(string(proseStart..<lineStarts[k]))
                let content = close > k + 1 ? string(lineStarts[k + 1]..<lineEnd(close - 1)) : ""
                let oneEmptyLine = close == k + 2 && lineEnd(k + 1) == lineStarts[k + 1]
                let identity = header.identity
                var id = identity.id
                if seen.contains(id) {
                    var suffix = 2
                    while seen.contains("\(identity.id)#\(suffix)") { suffix += 1 }
                    id = "\(identity.id)#\(suffix)"
                    warnings.append(
                        Warning(
                            code: "duplicate_id", line: k + 1,
                            message: "block id \(identity.id) is used again; this block is kept as \(id)"))
                }
                seen.insert(id)
                blocks.append(
                    MarkpactBlock(
                        id: id, kind: header.kind, lang: header.lang, meta: header.meta, path: identity.path,
                        headerStyle: header.style, openingLine: string(lineStarts[k]..<lineEnd(k)),
                        closingLine: string(lineStarts[close]..<lineEnd(close)), content: content,
                        bodyIsOneEmptyLine: oneEmptyLine, lineStart: k + 1, lineEnd: close + 1))
                proseStart = lineEnd(close)
            }
            k = close + 1
        }
        prose.append(string(proseStart..<bytes.count))
        return (blocks, prose, warnings)
    }
}
