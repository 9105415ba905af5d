// Python `str` operations on code point arrays: find/rfind, slicing, common prefix/suffix.

/// Python string operations on `[UInt32]`.
enum DMPOps {
    /// Python's `text.find(pattern, start)`: the lowest index `>= start` where `pattern` occurs, or -1.
    /// `start` must not be negative.
    static func find(_ text: [UInt32], _ pattern: [UInt32], from start: Int = 0) -> Int {
        text.withUnsafeBufferPointer { t in
            pattern.withUnsafeBufferPointer { p in find(t, p, from: start) }
        }
    }

    static func find(_ t: UnsafeBufferPointer<UInt32>, _ p: UnsafeBufferPointer<UInt32>, from start: Int) -> Int {
        let n = t.count
        let m = p.count
        if start > n { return -1 }
        if m == 0 { return start }
        if m > n - start { return -1 }
        let first = p[0]
        let lastStart = n - m
        var i = start
        if let base = t.baseAddress {
            // Check 16 candidate starts at a time against the first and the last character of
            // the pattern, then verify the few candidates left.
            let firstNeedle = SIMD16<UInt32>(repeating: first)
            let lastNeedle = SIMD16<UInt32>(repeating: p[m - 1])
            while lastStart - i >= 15 {
                let heads = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<UInt32>.self)
                let tails = UnsafeRawPointer(base + i + m - 1).loadUnaligned(as: SIMD16<UInt32>.self)
                let hits = (heads .== firstNeedle) .& (tails .== lastNeedle)
                if any(hits) {
                    for lane in 0..<16 where hits[lane] && matches(t, p, at: i + lane) { return i + lane }
                }
                i += 16
            }
        }
        while i <= lastStart {
            if t[i] == first && matches(t, p, at: i) { return i }
            i += 1
        }
        return -1
    }

    @inline(__always)
    static func matches(_ t: UnsafeBufferPointer<UInt32>, _ p: UnsafeBufferPointer<UInt32>, at i: Int) -> Bool {
        let m = p.count
        var k = 1
        while k < m && t[i + k] == p[k] { k += 1 }
        return k == m
    }

    /// Python's `text.rfind(pattern, start)`: the highest index `>= start` where `pattern` occurs, or -1.
    static func rfind(_ text: [UInt32], _ pattern: [UInt32], from start: Int = 0) -> Int {
        text.withUnsafeBufferPointer { t in
            pattern.withUnsafeBufferPointer { p in
                let n = t.count
                let m = p.count
                if start > n { return -1 }
                if m == 0 { return n }
                if m > n - start { return -1 }
                let first = p[0]
                var i = n - m  // Candidate start, scanning down to `start`.
                if let base = t.baseAddress {
                    let firstNeedle = SIMD16<UInt32>(repeating: first)
                    let lastNeedle = SIMD16<UInt32>(repeating: p[m - 1])
                    while i - 15 >= start {
                        let heads = UnsafeRawPointer(base + i - 15).loadUnaligned(as: SIMD16<UInt32>.self)
                        let tails = UnsafeRawPointer(base + i - 15 + m - 1).loadUnaligned(as: SIMD16<UInt32>.self)
                        let hits = (heads .== firstNeedle) .& (tails .== lastNeedle)
                        if any(hits) {
                            for lane in stride(from: 15, through: 0, by: -1) where hits[lane] && matches(t, p, at: i - 15 + lane) {
                                return i - 15 + lane
                            }
                        }
                        i -= 16
                    }
                }
                while i >= start {
                    if t[i] == first && matches(t, p, at: i) { return i }
                    i -= 1
                }
                return -1
            }
        }
    }

    /// `a + b`, clamped to `Int.min...Int.max` instead of trapping. Patch coordinates are parsed from client
    /// text (bounded by ``DiffMatchPatch/maxPatchNumber``) or built by hand (any `Int`); where Python's
    /// unbounded integers would go past `Int`, a saturated value lands at the same end of the text, because
    /// every position is clamped to the text before use.
    @inline(__always)
    static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int.max : Int.min) : sum
    }

    /// `a - b`, clamped to `Int.min...Int.max` instead of trapping (see ``add(_:_:)``).
    @inline(__always)
    static func subtract(_ a: Int, _ b: Int) -> Int {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? Int.max : Int.min) : difference
    }

    /// Python slice bounds: negative values count from the end, then both are clamped.
    @inline(__always)
    static func sliceBounds(_ count: Int, _ lo: Int, _ hi: Int) -> Range<Int> {
        var l = lo < 0 ? max(0, lo + count) : min(lo, count)
        let h = hi < 0 ? max(0, hi + count) : min(hi, count)
        if l > h { l = h }
        return l..<h
    }

    /// Python's `text[lo:hi]`.
    @inline(__always)
    static func slice(_ text: [UInt32], _ lo: Int, _ hi: Int) -> [UInt32] {
        Array(text[sliceBounds(text.count, lo, hi)])
    }

    /// Python's `text[lo:]`.
    @inline(__always)
    static func slice(_ text: [UInt32], from lo: Int) -> [UInt32] {
        Array(text[sliceBounds(text.count, lo, text.count)])
    }

    /// Python's `text[-k:]` (note: `k == 0` gives the whole text, as in Python).
    @inline(__always)
    static func tail(_ text: [UInt32], _ k: Int) -> [UInt32] {
        if k <= 0 { return text }  // text[-0:] == text[0:]
        return k >= text.count ? text : Array(text[(text.count - k)...])
    }

    /// Python's `text = text[:p] + insert + text[q:]` in place (p, q >= 0). When `q < p` the
    /// characters between them are duplicated, as Python's slicing does.
    static func splice(_ text: inout [UInt32], _ p: Int, _ q: Int, _ insert: [UInt32]) {
        let n = text.count
        let pc = min(max(p, 0), n)
        let qc = min(max(q, 0), n)
        if qc >= pc {
            text.replaceSubrange(pc..<qc, with: insert)
        } else {
            let repeated = Array(text[qc..<pc])
            text.replaceSubrange(pc..<pc, with: insert + repeated)
        }
    }

    /// Length of the common prefix of `a[aStart...]` and `b[bStart...]`.
    @inline(__always)
    static func commonPrefix(
        _ a: UnsafeBufferPointer<UInt32>, _ aStart: Int, _ aEnd: Int,
        _ b: UnsafeBufferPointer<UInt32>, _ bStart: Int, _ bEnd: Int
    ) -> Int {
        let limit = min(aEnd - aStart, bEnd - bStart)
        var k = 0
        while k < limit && a[aStart + k] == b[bStart + k] { k += 1 }
        return k
    }

    /// Length of the common suffix of `a[aStart..<aEnd]` and `b[bStart..<bEnd]`.
    @inline(__always)
    static func commonSuffix(
        _ a: UnsafeBufferPointer<UInt32>, _ aStart: Int, _ aEnd: Int,
        _ b: UnsafeBufferPointer<UInt32>, _ bStart: Int, _ bEnd: Int
    ) -> Int {
        let limit = min(aEnd - aStart, bEnd - bStart)
        var k = 0
        while k < limit && a[aEnd - 1 - k] == b[bEnd - 1 - k] { k += 1 }
        return k
    }

    static func commonPrefix(_ a: [UInt32], _ b: [UInt32]) -> Int {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in commonPrefix(pa, 0, pa.count, pb, 0, pb.count) }
        }
    }

    static func commonSuffix(_ a: [UInt32], _ b: [UInt32]) -> Int {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in commonSuffix(pa, 0, pa.count, pb, 0, pb.count) }
        }
    }

    /// `a.hasSuffix(b)` for code point arrays (true when `b` is empty).
    static func hasSuffix(_ a: [UInt32], _ b: [UInt32]) -> Bool {
        b.count <= a.count && a[(a.count - b.count)...].elementsEqual(b)
    }

    /// `a.hasPrefix(b)` for code point arrays (true when `b` is empty).
    static func hasPrefix(_ a: [UInt32], _ b: [UInt32]) -> Bool {
        b.count <= a.count && a[..<b.count].elementsEqual(b)
    }
}
