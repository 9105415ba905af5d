/// Recognises fence lines (```` ``` ```` and `~~~`, three or more characters) the CommonMark way.
///
/// Opening fences must start at column 0 (as in the seed); closing fences may be indented by up to three
/// spaces, use the same character at least as many times as the opening fence, and carry nothing but
/// whitespace after the run.
enum FenceLine {
    static let backtick = UInt8(ascii: "`")
    static let tilde = UInt8(ascii: "~")

    static func parseOpening(_ line: String) -> (character: UInt8, count: Int, info: String)? {
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            guard let opening = parseOpening(buffer[...]) else { return nil }
            let infoBytes = buffer[(opening.count)...]
            return (opening.character, opening.count, String(decoding: infoBytes, as: UTF8.self))
        }
    }

    /// Parses an opening fence from the bytes of one line (without its terminator).
    static func parseOpening(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> (character: UInt8, count: Int)? {
        guard let first = line.first, first == backtick || first == tilde else { return nil }
        var count = 0
        var index = line.startIndex
        while index < line.endIndex, line[index] == first {
            count += 1
            index += 1
        }
        guard count >= 3 else { return nil }
        // CommonMark: the info string of a backtick fence may not contain backticks.
        if first == backtick, line[index...].contains(backtick) { return nil }
        return (first, count)
    }

    /// Whether the line closes a fence of `character` opened with `count` characters.
    static func isClosing(_ line: Slice<UnsafeBufferPointer<UInt8>>, character: UInt8, count: Int) -> Bool {
        guard let run = closingRun(line, character: character) else { return false }
        return run.count >= count
    }

    /// The indent and run length of a line that has the shape of a closing fence.
    static func closingRun(_ line: Slice<UnsafeBufferPointer<UInt8>>, character: UInt8) -> (indent: Int, count: Int)? {
        var index = line.startIndex
        var indent = 0
        while index < line.endIndex, line[index] == UInt8(ascii: " "), indent < 4 {
            indent += 1
            index += 1
        }
        guard indent <= 3 else { return nil }
        var count = 0
        while index < line.endIndex, line[index] == character {
            count += 1
            index += 1
        }
        guard count >= 3 else { return nil }
        while index < line.endIndex {
            let byte = line[index]
            guard byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") else { return nil }
            index += 1
        }
        return (indent, count)
    }

    static func closingRun(_ line: String, character: UInt8) -> (indent: Int, count: Int)? {
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBufferPointer { closingRun($0[...], character: character) }
    }

    /// The fence length a block needs so that none of its content lines closes it early.
    static func fenceLengthNeeded(for content: String, character: UInt8, current: Int) -> Int {
        var needed = current
        let bytes = Array(content.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            while start <= buffer.count {
                var end = start
                while end < buffer.count, buffer[end] != UInt8(ascii: "\n") { end += 1 }
                if let run = closingRun(buffer[start..<end], character: character), run.count >= needed {
                    needed = run.count + 1
                }
                start = end + 1
            }
        }
        return needed
    }
}
