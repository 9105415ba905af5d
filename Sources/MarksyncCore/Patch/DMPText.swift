// Text encoding helpers for the diff-match-patch port: UTF-8 with Python's error handling,
// `urllib.parse.quote` / `unquote` as the Python implementation calls them, the patch text
// format (`patch_toText` / `patch_fromText`) and the delta format (`diff_toDelta` /
// `diff_fromDelta`).

/// UTF-8 encoding and decoding of code points, with Python's replacement rules.
enum DMPUTF8 {
    /// Appends the UTF-8 form of a code point. Values that Python could not encode
    /// (surrogates, values above U+10FFFF) are written as U+FFFD.
    @inline(__always)
    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
        } else if value < 0x800 {
            bytes.append(UInt8(truncatingIfNeeded: 0xC0 | (value >> 6)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F)))
        } else if value < 0x10000 {
            if value >= 0xD800 && value <= 0xDFFF {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
                return
            }
            bytes.append(UInt8(truncatingIfNeeded: 0xE0 | (value >> 12)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F)))
        } else if value <= 0x10FFFF {
            bytes.append(UInt8(truncatingIfNeeded: 0xF0 | (value >> 18)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | ((value >> 12) & 0x3F)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F)))
        } else {
            bytes.append(contentsOf: [0xEF, 0xBF, 0xBD] as [UInt8])
        }
    }

    /// Decodes bytes known to be valid UTF-8 (the contents of a Swift string).
    static func decodeValid(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt32]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b0 = UInt32(bytes[i])
            if b0 < 0x80 {
                out.append(b0)
                i += 1
            } else if b0 < 0xE0 {
                out.append(((b0 & 0x1F) << 6) | (UInt32(bytes[i + 1]) & 0x3F))
                i += 2
            } else if b0 < 0xF0 {
                out.append(((b0 & 0x0F) << 12) | ((UInt32(bytes[i + 1]) & 0x3F) << 6) | (UInt32(bytes[i + 2]) & 0x3F))
                i += 3
            } else {
                out.append(
                    ((b0 & 0x07) << 18) | ((UInt32(bytes[i + 1]) & 0x3F) << 12)
                        | ((UInt32(bytes[i + 2]) & 0x3F) << 6) | (UInt32(bytes[i + 3]) & 0x3F))
                i += 4
            }
        }
    }

    /// Decodes arbitrary bytes like Python's `bytes.decode("utf-8", "replace")`: each maximal
    /// ill-formed subsequence becomes one U+FFFD.
    static func decodeReplacing(_ bytes: [UInt8], into out: inout [UInt32]) {
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                out.append(UInt32(b0))
                i += 1
                continue
            }
            var need = 0
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; upper = 0x9F
            case 0xF0: need = 3; lower = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; upper = 0x8F
            default:
                out.append(0xFFFD)
                i += 1
                continue
            }
            var value = UInt32(b0) & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07)
            var j = i + 1
            var ok = true
            for k in 0..<need {
                guard j < n else { ok = false; break }
                let b = bytes[j]
                let lo: UInt8 = k == 0 ? lower : 0x80
                let hi: UInt8 = k == 0 ? upper : 0xBF
                guard b >= lo && b <= hi else { ok = false; break }
                value = (value << 6) | UInt32(b & 0x3F)
                j += 1
            }
            if ok {
                out.append(value)
            } else {
                out.append(0xFFFD)
            }
            i = j
        }
    }
}

/// Python's `urllib.parse.quote(text.encode("utf-8"), "!~*'();/?:@&=+$,# ")` and
/// `urllib.parse.unquote`.
enum DMPPercent {
    /// Bytes that stay literal: ASCII letters and digits, `_.-~` and the safe set `!~*'();/?:@&=+$,# `.
    static let safe: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = true }
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = true }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = true }
        for b in "_.-~!*'();/?:@&=+$,# ".utf8 { table[Int(b)] = true }
        return table
    }()

    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends the percent-encoded UTF-8 form of code points.
    static func appendQuoted(_ text: [UInt32], to out: inout [UInt8]) {
        let safe = self.safe
        for value in text {
            if value < 0x80 {
                let b = UInt8(truncatingIfNeeded: value)
                if safe[Int(b)] {
                    out.append(b)
                } else {
                    appendEscape(b, to: &out)
                }
            } else if value < 0x800 {
                appendEscape(UInt8(truncatingIfNeeded: 0xC0 | (value >> 6)), to: &out)
                appendEscape(UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F)), to: &out)
            } else if value < 0x10000 && !(value >= 0xD800 && value <= 0xDFFF) {
                appendEscape(UInt8(truncatingIfNeeded: 0xE0 | (value >> 12)), to: &out)
                appendEscape(UInt8(truncatingIfNeeded: 0x80 | ((value >> 6) & 0x3F)), to: &out)
                appendEscape(UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F)), to: &out)
            } else if value >= 0x10000 && value <= 0x10FFFF {
                appendEscape(UInt8(truncatingIfNeeded: 0xF0 | (value >> 18)), to: &out)
                appendEscape(UInt8(truncatingIfNeeded: 0x80 | ((value >> 12) & 0x3F)), to: &out)
                appendEscape(UInt8(truncatingIfNeeded: 0x80 | ((value >> 6) & 0x3F)), to: &out)
                appendEscape(UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F)), to: &out)
            } else {
                // Surrogates and values above U+10FFFF (Python cannot encode them): U+FFFD.
                appendEscape(0xEF, to: &out)
                appendEscape(0xBF, to: &out)
                appendEscape(0xBD, to: &out)
            }
        }
    }

    @inline(__always)
    static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "%"))
        out.append(hexDigits[Int(b >> 4)])
        out.append(hexDigits[Int(b & 0x0F)])
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Decodes `bytes[range]` (valid UTF-8) like Python's `urllib.parse.unquote`: runs of ASCII
    /// characters are `%XX`-decoded to bytes and decoded as UTF-8 with replacement (each run
    /// separately), malformed `%` sequences stay literal, other characters are kept.
    static func unquote(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt32]) {
        var hasPercent = false
        for i in range where bytes[i] == UInt8(ascii: "%") {
            hasPercent = true
            break
        }
        if !hasPercent {
            DMPUTF8.decodeValid(bytes, range, into: &out)
            return
        }
        var i = range.lowerBound
        let end = range.upperBound
        var scratch = [UInt8]()
        while i < end {
            if bytes[i] >= 0x80 {
                var j = i
                while j < end && bytes[j] >= 0x80 { j += 1 }
                DMPUTF8.decodeValid(bytes, i..<j, into: &out)
                i = j
                continue
            }
            var j = i
            var runHasPercent = false
            while j < end && bytes[j] < 0x80 {
                if bytes[j] == UInt8(ascii: "%") { runHasPercent = true }
                j += 1
            }
            if !runHasPercent {
                for k in i..<j { out.append(UInt32(bytes[k])) }
                i = j
                continue
            }
            scratch.removeAll(keepingCapacity: true)
            var k = i
            while k < j {
                let b = bytes[k]
                if b == UInt8(ascii: "%"), k + 2 < j,
                    let hi = hexValue(bytes[k + 1]), let lo = hexValue(bytes[k + 2])
                {
                    scratch.append(hi << 4 | lo)
                    k += 3
                } else {
                    scratch.append(b)
                    k += 1
                }
            }
            DMPUTF8.decodeReplacing(scratch, into: &out)
            i = j
        }
    }
}

/// Python's `int()` for decimal strings, as used by `diff_fromDelta`.
enum DMPPythonInt {
    /// Parses code points like Python's `int(s)`: surrounding whitespace, an optional sign,
    /// decimal digits of any script with single underscores between them. Nil when Python
    /// would raise, or when the value does not fit in an `Int`.
    static func parse(_ cps: [UInt32]) -> Int? {
        var lo = 0
        var hi = cps.count
        while lo < hi && DMPUnicode.isSpace(cps[lo]) { lo += 1 }
        while hi > lo && DMPUnicode.isSpace(cps[hi - 1]) { hi -= 1 }
        guard lo < hi else { return nil }
        var negative = false
        if cps[lo] == 0x2B || cps[lo] == 0x2D {
            negative = cps[lo] == 0x2D
            lo += 1
        }
        guard lo < hi else { return nil }
        var value = 0
        var lastWasDigit = false
        var sawDigit = false
        for i in lo..<hi {
            let c = cps[i]
            if c == 0x5F {
                guard lastWasDigit else { return nil }
                lastWasDigit = false
                continue
            }
            guard let digit = DMPUnicode.decimalDigitValue(c) else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = plus
            lastWasDigit = true
            sawDigit = true
        }
        guard sawDigit && lastWasDigit else { return nil }
        return negative ? -value : value
    }
}

/// The textual patch format.
enum DMPPatchText {
    @inline(__always)
    static func appendInt(_ value: Int, to out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while v > 0 {
                buf[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }

    /// Appends `start + 1` without overflowing for `start == Int.max` (a hand-made ``Patch``).
    @inline(__always)
    static func appendSuccessor(_ start: Int, to out: inout [UInt8]) {
        if start == Int.max {
            out.append(contentsOf: "9223372036854775808".utf8)
        } else {
            appendInt(start + 1, to: &out)
        }
    }

    static func appendCoords(start: Int, length: Int, to out: inout [UInt8]) {
        if length == 0 {
            appendInt(start, to: &out)
            out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "0")])
        } else if length == 1 {
            appendSuccessor(start, to: &out)
        } else {
            appendSuccessor(start, to: &out)
            out.append(UInt8(ascii: ","))
            appendInt(length, to: &out)
        }
    }

    /// Appends Python's `str(patch_obj)`.
    static func append(_ patch: Patch, to out: inout [UInt8]) {
        out.append(contentsOf: [UInt8(ascii: "@"), UInt8(ascii: "@"), UInt8(ascii: " "), UInt8(ascii: "-")])
        appendCoords(start: patch.start1, length: patch.length1, to: &out)
        out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: "+")])
        appendCoords(start: patch.start2, length: patch.length2, to: &out)
        out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: "@"), UInt8(ascii: "@"), UInt8(ascii: "\n")])
        for diff in patch.diffs {
            switch diff.operation {
            case .insert: out.append(UInt8(ascii: "+"))
            case .delete: out.append(UInt8(ascii: "-"))
            case .equal: out.append(UInt8(ascii: " "))
            }
            DMPPercent.appendQuoted(diff.text, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    static func toText(_ patches: [Patch]) -> String {
        var out = [UInt8]()
        var estimate = 0
        for patch in patches {
            estimate += 32
            for diff in patch.diffs { estimate += diff.text.count + 2 }
        }
        out.reserveCapacity(estimate)
        for patch in patches { append(patch, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    static func fromText(_ text: String) throws(PatchTextError) -> [Patch] {
        if text.isEmpty { return [] }
        let fast: Result<[Patch], PatchTextError>? = text.utf8.withContiguousStorageIfAvailable { buffer in
            Result { () throws(PatchTextError) -> [Patch] in try parse(buffer) }
        }
        if let fast { return try fast.get() }
        let bytes = Array(text.utf8)
        let slow: Result<[Patch], PatchTextError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(PatchTextError) -> [Patch] in try parse(buffer) }
        }
        return try slow.get()
    }

    /// Decodes the code point at `i` of valid UTF-8 and returns it with its byte length.
    @inline(__always)
    static func scalar(at i: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return (((b0 & 0x1F) << 6) | (UInt32(bytes[i + 1]) & 0x3F), 2) }
        if b0 < 0xF0 {
            return (((b0 & 0x0F) << 12) | ((UInt32(bytes[i + 1]) & 0x3F) << 6) | (UInt32(bytes[i + 2]) & 0x3F), 3)
        }
        return (
            ((b0 & 0x07) << 18) | ((UInt32(bytes[i + 1]) & 0x3F) << 12) | ((UInt32(bytes[i + 2]) & 0x3F) << 6)
                | (UInt32(bytes[i + 3]) & 0x3F), 4
        )
    }

    /// Parses one header line with the grammar of Python's
    /// `^@@ -(\d+),?(\d*) \+(\d+),?(\d*) @@$` (`\d` = any Unicode decimal digit).
    /// Returns nil when the line does not match; throws when a number is too large.
    static func parseHeader(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, lineNumber: Int
    ) throws(PatchTextError) -> Patch? {
        var i = range.lowerBound
        let end = range.upperBound
        var overflow = false

        func literal(_ s: StaticString) -> Bool {
            let count = s.utf8CodeUnitCount
            guard end - i >= count else { return false }
            let p = s.utf8Start
            for k in 0..<count where bytes[i + k] != p[k] { return false }
            i += count
            return true
        }
        // Reads a run of decimal digits: (value, digit count, is exactly ASCII "0").
        func digits() -> (Int, Int, Bool) {
            var value = 0
            var count = 0
            var isZero = false
            while i < end {
                let (c, len) = scalar(at: i, in: bytes)
                guard let d = DMPUnicode.decimalDigitValue(c) else { break }
                let (t, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = t.addingReportingOverflow(d)
                if o1 || o2 { overflow = true }
                value = s
                count += 1
                isZero = count == 1 && c == 0x30
                i += len
            }
            return (value, count, isZero && count == 1)
        }
        func optionalComma() {
            if i < end && bytes[i] == UInt8(ascii: ",") { i += 1 }
        }

        guard literal("@@ -") else { return nil }
        let (a, aCount, _) = digits()
        guard aCount > 0 else { return nil }
        optionalComma()
        let (b, bCount, bIsZero) = digits()
        guard literal(" +") else { return nil }
        let (c, cCount, _) = digits()
        guard cCount > 0 else { return nil }
        optionalComma()
        let (d, dCount, dIsZero) = digits()
        guard literal(" @@"), i == end else { return nil }
        // Python accepts any size; here every number must stay within ``DiffMatchPatch/maxPatchNumber`` so that
        // no later sum (padding, drift, context) can overflow. The digits are never negative.
        let limit = DiffMatchPatch.maxPatchNumber
        if overflow || a > limit || b > limit || c > limit || d > limit {
            throw PatchTextError(
                reason: .numberTooLarge, lineNumber: lineNumber,
                line: String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        }
        var patch = Patch()
        patch.start1 = a
        if bCount == 0 {
            patch.start1 -= 1
            patch.length1 = 1
        } else if bIsZero {
            patch.length1 = 0
        } else {
            patch.start1 -= 1
            patch.length1 = b
        }
        patch.start2 = c
        if dCount == 0 {
            patch.start2 -= 1
            patch.length2 = 1
        } else if dIsZero {
            patch.length2 = 0
        } else {
            patch.start2 -= 1
            patch.length2 = d
        }
        return patch
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(PatchTextError) -> [Patch] {
        var patches = [Patch]()
        let n = bytes.count
        var lineStart = 0
        var lineNumber = 1
        // `text.split("\n")` yields n+1 lines for n newlines; walk them one by one.
        func lineEnd(from start: Int) -> Int {
            var j = start
            while j < n && bytes[j] != UInt8(ascii: "\n") { j += 1 }
            return j
        }
        var more = true
        while more {
            var end = lineEnd(from: lineStart)
            guard var patch = try parseHeader(bytes, lineStart..<end, lineNumber: lineNumber) else {
                throw PatchTextError(
                    reason: .invalidHeader, lineNumber: lineNumber,
                    line: String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<end]), as: UTF8.self))
            }
            // Next line.
            if end >= n {
                patches.append(patch)
                break
            }
            lineStart = end + 1
            lineNumber += 1
            while true {
                end = lineEnd(from: lineStart)
                if end > lineStart {
                    let sign = bytes[lineStart]
                    var kind: DiffOperation?
                    switch sign {
                    case UInt8(ascii: "+"): kind = .insert
                    case UInt8(ascii: "-"): kind = .delete
                    case UInt8(ascii: " "): kind = .equal
                    case UInt8(ascii: "@"): kind = nil
                    default:
                        throw PatchTextError(
                            reason: .invalidMode, lineNumber: lineNumber,
                            line: String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<end]), as: UTF8.self))
                    }
                    guard let kind else { break }  // Start of the next patch.
                    var body = [UInt32]()
                    body.reserveCapacity(end - lineStart - 1)
                    DMPPercent.unquote(bytes, (lineStart + 1)..<end, into: &body)
                    patch.diffs.append(Diff(kind, body))
                }
                // Blank line: nothing to do.
                if end >= n {
                    more = false
                    break
                }
                lineStart = end + 1
                lineNumber += 1
            }
            patches.append(patch)
        }
        return patches
    }
}

/// The delta format of `diff_toDelta` / `diff_fromDelta` (counts in UTF-16 code units, as the
/// Python 3 implementation does).
enum DMPDelta {
    @inline(__always)
    static func utf16Length(_ text: [UInt32]) -> Int {
        var count = text.count
        for c in text where c > 0xFFFF && c <= 0x10FFFF { count += 1 }
        return count
    }

    static func toDelta(_ diffs: [Diff]) -> String {
        var out = [UInt8]()
        for (index, diff) in diffs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "\t")) }
            switch diff.operation {
            case .insert:
                out.append(UInt8(ascii: "+"))
                DMPPercent.appendQuoted(diff.text, to: &out)
            case .delete:
                out.append(UInt8(ascii: "-"))
                DMPPatchText.appendInt(utf16Length(diff.text), to: &out)
            case .equal:
                out.append(UInt8(ascii: "="))
                DMPPatchText.appendInt(utf16Length(diff.text), to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func fromDelta(_ text1: [UInt32], _ delta: String) throws(DiffDeltaError) -> [Diff] {
        let bytes = Array(delta.utf8)
        let total16 = utf16Length(text1)
        let result: Result<[Diff], DiffDeltaError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(DiffDeltaError) -> [Diff] in
                try parse(buffer, text1: text1, total16: total16)
            }
        }
        return try result.get()
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, text1: [UInt32], total16: Int
    ) throws(DiffDeltaError) -> [Diff] {
        var diffs = [Diff]()
        var pointer16 = 0  // Position in UTF-16 code units.
        var cpIndex = 0  // Code point index matching pointer16 (while inside the text).
        let n = bytes.count
        var tokenStart = 0
        while tokenStart <= n {
            var tokenEnd = tokenStart
            while tokenEnd < n && bytes[tokenEnd] != UInt8(ascii: "\t") { tokenEnd += 1 }
            defer { tokenStart = tokenEnd + 1 }
            if tokenEnd == tokenStart { continue }  // Blank tokens are ok (from a trailing \t).
            let paramRange = (tokenStart + 1)..<tokenEnd
            let op = bytes[tokenStart]
            if op == UInt8(ascii: "+") {
                var text = [UInt32]()
                DMPPercent.unquote(bytes, paramRange, into: &text)
                diffs.append(Diff(.insert, text))
            } else if op == UInt8(ascii: "-") || op == UInt8(ascii: "=") {
                var param = [UInt32]()
                DMPUTF8.decodeValid(bytes, paramRange, into: &param)
                let paramString = String(decoding: UnsafeBufferPointer(rebasing: bytes[paramRange]), as: UTF8.self)
                guard let count = DMPPythonInt.parse(param) else {
                    throw DiffDeltaError(reason: .invalidNumber, message: "Invalid number in diff_fromDelta: " + paramString)
                }
                if count < 0 {
                    throw DiffDeltaError(reason: .negativeNumber, message: "Negative number in diff_fromDelta: " + paramString)
                }
                // Python: as_utf16[pointer : pointer + n * 2].decode("utf-16-be"); the slice is
                // clamped to the text, and decoding fails when it cuts a surrogate pair.
                let (sum, overflow) = pointer16.addingReportingOverflow(count)
                let next16 = overflow ? Int.max : sum
                var text = [UInt32]()
                if pointer16 < total16 {
                    let stop16 = min(total16, next16)
                    var at16 = pointer16
                    while at16 < stop16 {
                        let c = text1[cpIndex]
                        let width = (c > 0xFFFF && c <= 0x10FFFF) ? 2 : 1
                        if at16 + width > stop16 {
                            throw DiffDeltaError(
                                reason: .splitSurrogatePair,
                                message: "'utf-16-be' codec can't decode bytes: unexpected end of data")
                        }
                        text.append(c)
                        at16 += width
                        cpIndex += 1
                    }
                }
                pointer16 = next16
                diffs.append(Diff(op == UInt8(ascii: "=") ? .equal : .delete, text))
            } else {
                let (first, _) = DMPPatchText.scalar(at: tokenStart, in: bytes)
                throw DiffDeltaError(
                    reason: .invalidOperation,
                    message: "Invalid diff operation in diff_fromDelta: " + DMPCodePoints.string([first]))
            }
        }
        if pointer16 != total16 {
            throw DiffDeltaError(
                reason: .lengthMismatch,
                message: "Delta length (\(pointer16.multipliedReportingOverflow(by: 2).partialValue)) does not equal source text length (\(total16 * 2)).")
        }
        return diffs
    }
}
