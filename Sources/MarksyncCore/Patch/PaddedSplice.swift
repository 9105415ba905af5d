/// A splice of a padded text (diff-match-patch pads a text with `margin` characters of context on each
/// side while it applies a patch): `text[start..<end]` replaced by `replacement`.
enum PaddedSplice {
    /// Whether a splice (`0 <= start <= end <= text.count`) leaves the padding as it is: what it changes, once
    /// the common head and tail of `text[start..<end]` and `replacement` are set aside, lies inside
    /// `margin..<(text.count - margin)`. Only then does ``strippingPadding(start:end:replacement:count:margin:)``
    /// give the change Python's `patch_apply` makes to the unpadded text (which strips `text[m:-m]` by position).
    /// Well-formed patches always keep it; a hostile one can make the fuzzy apply splice into the padding.
    static func keepsPadding(
        _ text: some ScalarText, start: Int, end: Int, replacement: [UInt32], margin: Int
    ) -> Bool {
        let upper = text.count - margin
        if start >= margin && end <= upper { return true }
        var head = 0
        while start + head < end, head < replacement.count, text[start + head] == replacement[head] { head += 1 }
        var tail = 0
        while end - tail > start + head, replacement.count - tail > head,
            text[end - 1 - tail] == replacement[replacement.count - 1 - tail]
        {
            tail += 1
        }
        let changes = end - tail > start + head || replacement.count - tail > head
        return !changes || (start + head >= margin && end - tail <= upper)
    }

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
