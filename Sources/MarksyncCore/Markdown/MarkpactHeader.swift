/// The markpact part of a fence's info string, read by the seed's rules (seed-marksync.md §1.2–1.4).
struct MarkpactHeader: Equatable {
    var style: MarkpactBlock.HeaderStyle
    var kind: String
    var lang: String
    var meta: String
    var embedded: String?

    /// The seed's id: `markpact:kind=<path=value>`, else `markpact:kind=<meta>`, else `markpact:kind`.
    var id: String { identity.id }

    /// The path of the block: `path=` in the meta, or the embedded value of the `markpact:file=…` form.
    var path: String? { identity.path }

    /// The id and the path from one reading of the meta (a README of 20,000 blocks reads 20,000 metas).
    var identity: (id: String, path: String?) {
        if let path = Self.pathValue(in: meta) { return ("markpact:\(kind)=\(path)", path) }
        let path = kind == "file" && embedded?.isEmpty == false ? embedded : nil
        let trimmed = meta.trimmingWhitespace()
        if !trimmed.isEmpty { return ("markpact:\(kind)=\(trimmed)", path) }
        return ("markpact:\(kind)", path)
    }

    private static let tagPrefix = Array("markpact:".unicodeScalars)

    /// Parses an info string (the text after the fence characters). Returns nil when it carries no
    /// markpact tag in either header style.
    static func parse(_ info: String) -> MarkpactHeader? {
        let scalars = Array(info.unicodeScalars)
        var index = 0
        func skipBlanks() { while index < scalars.count, scalars[index].isBlank { index += 1 } }
        func token() -> ArraySlice<Unicode.Scalar> {
            let start = index
            while index < scalars.count, !scalars[index].isWhitespaceLike { index += 1 }
            return scalars[start..<index]
        }
        func rest() -> String {
            String(String.UnicodeScalarView(scalars[index...])).trimmingWhitespace()
        }

        if scalars.starts(with: tagPrefix) {
            // Style 1: ```markpact:kind[=x] [lang] [meta]
            guard let tag = parseTag(token()) else { return nil }
            skipBlanks()
            let save = index
            var lang = "text"
            let candidate = token()
            if !candidate.isEmpty, candidate.allSatisfy(\.isWordCharacter) {
                lang = String(String.UnicodeScalarView(candidate))
            } else {
                index = save
            }
            skipBlanks()
            return make(style: .markpactFirst, tag: tag, lang: lang, meta: rest())
        }
        // Style 0: ```lang markpact:kind[=x] [meta]   (lang may be empty: ``` markpact:run)
        let langToken = token()
        guard index < scalars.count, scalars[index].isBlank else { return nil }
        skipBlanks()
        guard scalars[index...].starts(with: tagPrefix), let tag = parseTag(token()) else { return nil }
        skipBlanks()
        let lang = langToken.isEmpty ? "text" : String(String.UnicodeScalarView(langToken))
        return make(style: .langFirst, tag: tag, lang: lang, meta: rest())
    }

    private static func make(style: MarkpactBlock.HeaderStyle, tag: (kind: String, embedded: String?), lang: String, meta: String)
        -> MarkpactHeader
    {
        var meta = meta
        // The seed: extra words after the `=` form replace the embedded value as meta.
        if let embedded = tag.embedded, meta.isEmpty { meta = embedded }
        return MarkpactHeader(style: style, kind: tag.kind, lang: lang, meta: meta, embedded: tag.embedded)
    }

    /// `markpact:kind` or `markpact:kind=value`; the kind is word characters or `-`.
    private static func parseTag(_ token: ArraySlice<Unicode.Scalar>) -> (kind: String, embedded: String?)? {
        guard token.starts(with: tagPrefix) else { return nil }
        let body = token.dropFirst(tagPrefix.count)
        let kindPart = body.prefix { $0 != "=" }
        guard !kindPart.isEmpty, kindPart.allSatisfy({ $0.isWordCharacter || $0 == "-" }) else { return nil }
        let kind = String(String.UnicodeScalarView(kindPart))
        guard kindPart.endIndex < body.endIndex else { return (kind, nil) }
        let value = body[(kindPart.endIndex + 1)...]
        guard !value.isEmpty, !value.contains("`") else { return nil }
        return (kind, String(String.UnicodeScalarView(value)))
    }

    /// The value of the first `path=` in the meta (the seed's `re.search(r"path=(\S+)")`).
    static func pathValue(in meta: String) -> String? {
        let scalars = Array(meta.unicodeScalars)
        let key = Array("path=".unicodeScalars)
        guard scalars.count > key.count else { return nil }
        var start = 0
        while start + key.count < scalars.count {
            if scalars[start..<(start + key.count)].elementsEqual(key), !scalars[start + key.count].isWhitespaceLike {
                var end = start + key.count
                while end < scalars.count, !scalars[end].isWhitespaceLike { end += 1 }
                return String(String.UnicodeScalarView(scalars[(start + key.count)..<end]))
            }
            start += 1
        }
        return nil
    }
}

extension Unicode.Scalar {
    /// Python's `\w` for str patterns: letters, digits (any script) and underscore.
    var isWordCharacter: Bool {
        self == "_" || properties.isAlphabetic || properties.numericType != nil
    }

    /// Space or tab.
    var isBlank: Bool { self == " " || self == "\t" }

    /// Python's `\s` (close enough: Unicode whitespace).
    var isWhitespaceLike: Bool { properties.isWhitespace }
}

extension String {
    /// The string without leading and trailing Unicode whitespace (Python's `str.strip()`).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isWhitespaceLike }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.isWhitespaceLike })!
        return String(scalars[first...last])
    }
}
