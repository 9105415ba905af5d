import ArgumentParser
import MarksyncCore

/// `marksync-log blocks README.md [--json]`: the table of markpact blocks of a README.
struct BlocksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocks",
        abstract: "List the markpact blocks of a README: id, kind, lang, lines, size, sha256.",
        discussion: """
            Warnings (duplicate ids, unclosed fences) go to standard error.

            Examples:
              marksync-log blocks
              marksync-log blocks examples/task-manager-api/README.md --json | jq -r '.[].block_id'
            """
    )

    @Argument(help: "The Markpact README to read.")
    var readme: String = "README.md"

    @Flag(help: "Print a JSON list of {block_id, kind, lang, path, line_start, line_end, size, sha256}.")
    var json = false

    /// One row of `--json` output.
    struct Row: Encodable {
        var block_id: String
        var kind: String
        var lang: String
        var path: String?
        var line_start: Int
        var line_end: Int
        var size: Int
        var sha256: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(block_id, forKey: .block_id)
            try container.encode(kind, forKey: .kind)
            try container.encode(lang, forKey: .lang)
            try container.encode(path, forKey: .path)  // null when the block has no path
            try container.encode(line_start, forKey: .line_start)
            try container.encode(line_end, forKey: .line_end)
            try container.encode(size, forKey: .size)
            try container.encode(sha256, forKey: .sha256)
        }

        enum CodingKeys: String, CodingKey { case block_id, kind, lang, path, line_start, line_end, size, sha256 }
    }

    func run() async throws {
        let document = MarkpactDocument(parsing: try readTextFile(readme, what: "README"))
        for warning in document.warnings { printError("warning: \(readme):\(warning.line): \(warning.message)") }
        let rows = document.blocks.map {
            Row(
                block_id: $0.id, kind: $0.kind, lang: $0.lang, path: $0.path, line_start: $0.lineStart,
                line_end: $0.lineEnd, size: $0.size, sha256: $0.sha256)
        }
        if json {
            Console.out(try jsonText(rows))
            return
        }
        Console.out(Self.table(rows))
    }

    static func table(_ rows: [Row]) -> String {
        let headers = ["BLOCK ID", "KIND", "LANG", "LINES", "SIZE", "SHA256"]
        let cells = rows.map { [$0.block_id, $0.kind, $0.lang, "\($0.line_start)-\($0.line_end)", "\($0.size)", String($0.sha256.prefix(12))] }
        var widths = headers.map(\.count)
        for row in cells { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        func format(_ row: [String]) -> String {
            row.enumerated().map { column, cell in
                column == 4 ? leftPadded(cell, widths[column]) : padded(cell, widths[column])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var lines = [format(headers)]
        lines += cells.map(format)
        let total = rows.reduce(0) { $0 + $1.size }
        lines.append("\(rows.count) block\(rows.count == 1 ? "" : "s"), \(total) bytes of content")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
