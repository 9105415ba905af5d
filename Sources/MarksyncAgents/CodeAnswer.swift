import Foundation

/// Turns an LLM's answer into block content or a review verdict.
public enum CodeAnswer {
    /// The code in an answer: the first fenced block when the answer has one (```` ```python … ``` ```` or
    /// `~~~`), else the answer itself; surrounding blank lines removed. A fence inside a block's content would
    /// break the README's structure, which the seed let happen.
    public static func code(from answer: String) -> String {
        let lines = answer.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        if let open = lines.firstIndex(where: { isFence($0) }) {
            let marker = fenceMarker(lines[open])
            if let close = lines[(open + 1)...].firstIndex(where: { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix(marker) && trimmed.allSatisfy { $0 == marker.first }
            }) {
                return lines[(open + 1)..<close].joined(separator: "\n").trimmingBlankLines()
            }
            // An opening fence with no closing one: drop the fence line.
            return lines[(open + 1)...].joined(separator: "\n").trimmingBlankLines()
        }
        return answer.trimmingBlankLines()
    }

    private static func isFence(_ line: Substring) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~")
    }

    private static func fenceMarker(_ line: Substring) -> String {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let char = trimmed.first ?? "`"
        return String(trimmed.prefix { $0 == char })
    }

    /// The verdict of a review: the first word of its first line when it is OK, WARNING or ERROR (any
    /// case, with or without a colon), else `note`.
    public static func verdict(of review: String) -> String {
        let firstLine = review.split(separator: "\n").first.map(String.init) ?? ""
        let word = firstLine.trimmingCharacters(in: .whitespaces).prefix { $0.isLetter }.lowercased()
        switch word {
        case "ok", "lgtm": return "ok"
        case "warning", "warn": return "warning"
        case "error", "critical": return "error"
        default: return "note"
        }
    }
}

extension String {
    /// The text without leading and trailing blank lines (indentation of the first line is kept).
    func trimmingBlankLines() -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false)
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}

