/// Resolves what a user types for a block (`main.py`, `app/main.py`, `run`, `markpact:file=app/main.py`)
/// against a document's block ids. Pure: the caller passes the ids.
///
/// The rules, in order (the first that matches anything decides):
/// 1. the exact id;
/// 2. a kind: `run` or `markpact:run` matches every block of kind `run` (`markpact:run`, `markpact:run=…`);
/// 3. a suffix of the id that starts at a `/`, `:` or `=` boundary: `main.py` and `app/main.py` match
///    `markpact:file=app/main.py`, `python` matches `markpact:deps=python`.
///
/// A reference that matches several blocks is ambiguous (the candidates are listed); one that matches
/// none is unknown (the closest ids by edit distance are suggested).
public enum BlockReference {
    /// The outcome of ``resolve(_:in:)``.
    public enum Resolution: Sendable, Equatable {
        /// Exactly one block.
        case unique(String)
        /// Several blocks match; the candidates, sorted.
        case ambiguous([String])
        /// No block matches; the closest ids, best first (maybe none).
        case unknown(suggestions: [String])
    }

    /// Why a reference does not name one block, with a message that names the candidates.
    public struct ResolveError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reference: String
        public var resolution: Resolution
        /// Every block id, for the message when there is nothing closer to suggest.
        public var known: [String]

        public var description: String {
            switch resolution {
            case .unique(let id): return "\(reference) is \(id)"
            case .ambiguous(let candidates):
                return "block \(reference.debugDescription) is ambiguous; it matches:\n"
                    + candidates.map { "  \($0)" }.joined(separator: "\n")
            case .unknown(let suggestions):
                var message = "no block \(reference.debugDescription) in this document"
                if !suggestions.isEmpty {
                    message += "; did you mean:\n" + suggestions.map { "  \($0)" }.joined(separator: "\n")
                } else if !known.isEmpty {
                    let shown = known.sorted().prefix(10)
                    message += "; its blocks are:\n" + shown.map { "  \($0)" }.joined(separator: "\n")
                    if known.count > shown.count { message += "\n  … (\(known.count - shown.count) more)" }
                } else {
                    message += " (it has no blocks)"
                }
                return message
            }
        }
    }

    /// The kind of a block id: `markpact:file=app/main.py` → `file`, `markpact:run#2` → `run`.
    public static func kind(of id: String) -> String {
        var rest = Substring(id)
        if rest.hasPrefix("markpact:") { rest = rest.dropFirst("markpact:".count) }
        return String(rest.prefix { $0 != "=" && $0 != "#" })
    }

    /// Resolves a reference against the block ids of a document.
    public static func resolve(_ reference: String, in ids: some Collection<String>) -> Resolution {
        let all = Array(Set(ids)).sorted()
        if all.contains(reference) { return .unique(reference) }
        let wantedKind = reference.hasPrefix("markpact:") ? String(reference.dropFirst("markpact:".count)) : reference
        if !wantedKind.contains("="), !wantedKind.contains("#"), !wantedKind.isEmpty {
            let byKind = all.filter { kind(of: $0) == wantedKind }
            if let decided = decide(byKind) { return decided }
        }
        let bySuffix = all.filter { id in
            guard id.count > reference.count, id.hasSuffix(reference), !reference.isEmpty else { return false }
            let boundary = id[id.index(id.endIndex, offsetBy: -reference.count - 1)]
            return boundary == "/" || boundary == ":" || boundary == "=" || reference.first == "/" || reference.first == "="
        }
        if let decided = decide(bySuffix) { return decided }
        return .unknown(suggestions: suggestions(for: reference, in: all))
    }

    /// Resolves a reference or throws an error that lists the candidates.
    public static func require(_ reference: String, in ids: some Collection<String>) throws(ResolveError) -> String {
        let resolution = resolve(reference, in: ids)
        if case .unique(let id) = resolution { return id }
        throw ResolveError(reference: reference, resolution: resolution, known: Array(ids))
    }

    private static func decide(_ matches: [String]) -> Resolution? {
        switch matches.count {
        case 0: nil
        case 1: .unique(matches[0])
        default: .ambiguous(matches)
        }
    }

    /// Up to five ids close to the reference: by edit distance to the whole id, or to its last component
    /// (after `/`, `=` or `:`), within a third of the reference's length (at least 2).
    static func suggestions(for reference: String, in ids: [String]) -> [String] {
        let needle = Array(reference.lowercased().unicodeScalars)
        let limit = max(2, needle.count / 3)
        var scored = [(distance: Int, id: String)]()
        for id in ids {
            let lowered = id.lowercased()
            var parts = [lowered]
            if let cut = lowered.lastIndex(where: { $0 == "/" || $0 == "=" || $0 == ":" }) {
                parts.append(String(lowered[lowered.index(after: cut)...]))
            }
            if let equals = lowered.firstIndex(of: "=") { parts.append(String(lowered[lowered.index(after: equals)...])) }
            parts.append(kind(of: lowered))
            let distance = parts.map { editDistance(needle, Array($0.unicodeScalars)) }.min() ?? Int.max
            if distance <= limit || lowered.contains(reference.lowercased()) { scored.append((distance, id)) }
        }
        return scored.sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }.prefix(5).map(\.id)
    }

    /// Levenshtein distance.
    static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
