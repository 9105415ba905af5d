/// A block's content as the seed (Python marksync 0.2.x) sees it.
///
/// The seed's parser keeps `body.strip()`: Python's `str.strip()` drops every leading and trailing
/// whitespace code point (`str.isspace()`: blank lines, spaces, tabs, `\r`, NBSP, …). Its clients hash that
/// stripped text and send it in `full`. This project keeps a block's content byte for byte, so a block that
/// begins or ends with whitespace (typically a blank line before the closing fence) has two shas: the exact
/// one (``MarkpactBlock/sha256``) and the seed's (``sha256(of:)`` here). The server advertises the seed's to
/// the seed's clients and treats a seed `full` equal to the stripped content as no change.
public enum SeedContent {
    /// Python's `str.isspace()` for one code point.
    public static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// The content split into its leading whitespace, the stripped core (Python's `str.strip()`) and its
    /// trailing whitespace; the three concatenated give `content` back.
    public static func split(_ content: String) -> (leading: String, core: String, trailing: String) {
        let scalars = content.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return (content, "", "") }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        let afterLast = scalars.index(after: last)
        return (String(scalars[..<first]), String(scalars[first..<afterLast]), String(scalars[afterLast...]))
    }

    /// Python's `content.strip()`.
    public static func strip(_ content: String) -> String {
        guard let first = content.unicodeScalars.first, let last = content.unicodeScalars.last, isSpace(first) || isSpace(last) else {
            return content
        }
        return split(content).core
    }

    /// Whether the seed would see other text than `content` (it begins or ends with whitespace).
    public static func differs(_ content: String) -> Bool {
        guard let first = content.unicodeScalars.first, let last = content.unicodeScalars.last else { return false }
        return isSpace(first) || isSpace(last)
    }

    /// The sha256 the seed computes for a block with this content: of its stripped text.
    public static func sha256(of content: String) -> String { SHA256.hexDigest(of: strip(content)) }

    /// `core` given the surrounding whitespace of `old`: what a seed client's stripped `core` means for a
    /// block that held `old` (the seed's own server kept that whitespace around a new body in the file).
    public static func rewrap(_ core: String, like old: String) -> String {
        guard differs(old), !differs(core), !core.isEmpty else { return core }
        let (leading, _, trailing) = split(old)
        return leading + core + trailing
    }
}

extension MarkpactBlock {
    /// The sha256 the seed's parser computes for this block (of its stripped content).
    public var seedSHA256: String { SeedContent.sha256(of: content) }
}
