/// A splice of a padded text (diff-match-patch pads a text with `margin` characters of context on each
/// side while it applies a patch): `text[start..<end]` replaced by `replacement`.
enum PaddedSplice {
    /// The same splice with the padding left out: padding is context, so it stands in the replaced range
    /// and in the replacement alike; both lose it. `start`/`end` stay indices of the padded text.
    static func strippingPadding(
        start: Int, end: Int, replacement: [UInt32], count: Int, margin: Int
    ) -> (start: Int, end: Int, replacement: [UInt32]) {
        var start = start
        var end = end
        var replacement = replacement
        let lower = margin
        let upper = count - margin
        if start < lower {
            let cut = min(lower - start, replacement.count)
            replacement.removeFirst(cut)
            start = lower
            end = max(end, start)
        }
        if end > upper {
            let cut = min(end - upper, replacement.count)
            replacement.removeLast(cut)
            end = upper
            start = min(start, end)
        }
        // A text shorter than its padding (a hostile patch made diff-match-patch delete padding) has
        // `upper < lower`, even `upper < 0`: keep `0 <= start <= end <= count` so no caller indexes outside it.
        start = min(max(start, 0), count)
        end = min(max(end, start), count)
        return (start, end, replacement)
    }
}
