import Foundation
import MarksyncTraces
import Testing

@testable import MarksyncCore

// Golden vectors generated from the Python package diff-match-patch 20241021 by
// tools/gen-dmp-vectors.py (see its header for the format). Every case must give exactly
// Python's result.

// MARK: - Loading

/// A JSON value (a small parser of our own: Foundation's JSONSerialization drops a leading
/// U+FEFF from strings, and the vectors contain such strings on purpose).
enum DMPGoldenJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([DMPGoldenJSON])
    case object([String: DMPGoldenJSON])

    struct ParseError: Error, CustomStringConvertible {
        let offset: Int
        let what: String
        var description: String { "JSON parse error at byte \(offset): \(what)" }
    }

    static func parse(_ bytes: [UInt8]) throws -> DMPGoldenJSON {
        var parser = Parser(bytes: bytes)
        let value = try parser.value()
        parser.skipSpace()
        guard parser.i == bytes.count else { throw ParseError(offset: parser.i, what: "trailing data") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
                i += 1
            }
        }

        mutating func expect(_ literal: String) throws {
            for b in literal.utf8 {
                guard i < bytes.count, bytes[i] == b else { throw ParseError(offset: i, what: "expected \(literal)") }
                i += 1
            }
        }

        mutating func value() throws -> DMPGoldenJSON {
            skipSpace()
            guard i < bytes.count else { throw ParseError(offset: i, what: "unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "["):
                i += 1
                var items = [DMPGoldenJSON]()
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array(items)
                }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard i < bytes.count else { throw ParseError(offset: i, what: "unterminated array") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                    } else if bytes[i] == UInt8(ascii: "]") {
                        i += 1
                        return .array(items)
                    } else {
                        throw ParseError(offset: i, what: "expected , or ]")
                    }
                }
            case UInt8(ascii: "{"):
                i += 1
                var members = [String: DMPGoldenJSON]()
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    members[key] = try value()
                    skipSpace()
                    guard i < bytes.count else { throw ParseError(offset: i, what: "unterminated object") }
                    if bytes[i] == UInt8(ascii: ",") {
                        i += 1
                    } else if bytes[i] == UInt8(ascii: "}") {
                        i += 1
                        return .object(members)
                    } else {
                        throw ParseError(offset: i, what: "expected , or }")
                    }
                }
            default:
                let start = i
                while i < bytes.count, b(bytes[i]) { i += 1 }
                guard let number = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                    throw ParseError(offset: start, what: "bad value")
                }
                return .number(number)
            }
        }

        private func b(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count else { throw ParseError(offset: i, what: "short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw ParseError(offset: i, what: "bad hex digit")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        mutating func string() throws -> String {
            try expect("\"")
            var out = [UInt8]()
            while true {
                guard i < bytes.count else { throw ParseError(offset: i, what: "unterminated string") }
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    continue
                }
                guard i < bytes.count else { throw ParseError(offset: i, what: "bad escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar <= 0xDBFF, i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"),
                        bytes[i + 1] == UInt8(ascii: "u")
                    {
                        let save = i
                        i += 2
                        let low = try hex4()
                        if low >= 0xDC00 && low <= 0xDFFF {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            i = save
                        }
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
                default:
                    throw ParseError(offset: i, what: "bad escape")
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    var int: Int? {
        if case .number(let d) = self { return Int(exactly: d) }
        return nil
    }
    var double: Double? {
        if case .number(let d) = self { return d }
        return nil
    }
    var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    var array: [DMPGoldenJSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
    var object: [String: DMPGoldenJSON]? {
        if case .object(let o) = self { return o }
        return nil
    }
    var isNull: Bool { self == .null }
}

/// Python attribute overrides of one case.
struct DMPGoldenSettings: Sendable, CustomStringConvertible {
    var values: [String: Double] = [:]

    init(_ json: DMPGoldenJSON) throws {
        guard let object = json.object else { return }
        for (key, value) in object {
            guard let number = value.double else { throw DMPGoldenError("bad setting \(key)") }
            values[key] = number
        }
    }

    func make() -> DiffMatchPatch {
        var dmp = DiffMatchPatch()
        for (key, value) in values {
            switch key {
            case "Diff_Timeout": dmp.diffTimeout = value
            case "Diff_EditCost": dmp.diffEditCost = Int(value)
            case "Match_Threshold": dmp.matchThreshold = value
            case "Match_Distance": dmp.matchDistance = Int(value)
            case "Patch_DeleteThreshold": dmp.patchDeleteThreshold = value
            case "Patch_Margin": dmp.patchMargin = Int(value)
            case "Match_MaxBits": dmp.matchMaxBits = Int(value)
            default: break
            }
        }
        return dmp
    }

    var description: String { values.isEmpty ? "defaults" : values.sorted { $0.key < $1.key }.description }
}

struct DMPGoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The decoded golden vectors.
struct DMPGoldenVectors: Sendable {
    struct PatchCase: Sendable {
        let a: String
        let b: String
        let settings: DMPGoldenSettings
        let patchText: String
    }
    struct ApplyCase: Sendable {
        let patchIndex: Int
        let target: String
        let settings: DMPGoldenSettings
        let resultText: String
        let flags: [Bool]
    }
    struct DiffCase: Sendable {
        let a: String
        let b: String
        let checkLines: Bool
        let settings: DMPGoldenSettings
        let diffs: [Diff]
        let semantic: [Diff]
        let efficiency: [Diff]
        let lossless: [Diff]
        let delta: String
    }
    struct CleanupCase: Sendable {
        let diffs: [Diff]
        let settings: DMPGoldenSettings
        let merge: [Diff]
        let semantic: [Diff]
        let efficiency: [Diff]
        let lossless: [Diff]
        let levenshtein: Int
        let xIndex: [(loc: Int, result: Int)]
    }
    struct MatchCase: Sendable {
        let text: [UInt32]
        let pattern: [UInt32]
        let loc: Int
        let settings: DMPGoldenSettings
        let result: Int
    }
    struct FromTextCase: Sendable {
        let text: String
        let error: String?
        let patches: [Patch]
        let reserialized: String
    }
    struct DeltaCase: Sendable {
        let text1: String
        let delta: String
        let error: String?
        let diffs: [Diff]
    }

    let patch: [PatchCase]
    let apply: [ApplyCase]
    let diff: [DiffCase]
    let cleanup: [CleanupCase]
    let match: [MatchCase]
    let fromText: [FromTextCase]
    let delta: [DeltaCase]

    static let shared: Result<DMPGoldenVectors, any Error> = Result { try load() }

    static var fixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/dmp-vectors.json.gz").path
    }

    static func diffs(_ json: DMPGoldenJSON) throws -> [Diff] {
        guard let items = json.array else { throw DMPGoldenError("diffs expected") }
        return try items.map { item in
            guard let pair = item.array, pair.count == 2, let op = pair[0].int.flatMap(DiffOperation.init(pythonValue:)),
                let text = pair[1].string
            else { throw DMPGoldenError("bad diff \(item)") }
            return Diff(op, text)
        }
    }

    static func load() throws -> DMPGoldenVectors {
        let bytes = try Gunzip.decompressFile(atPath: fixturePath)
        guard let root = try DMPGoldenJSON.parse(bytes).object else { throw DMPGoldenError("top level") }
        func list(_ key: String) throws -> [[DMPGoldenJSON]] {
            guard let items = root[key]?.array else { throw DMPGoldenError("missing \(key)") }
            return try items.map {
                guard let fields = $0.array else { throw DMPGoldenError("bad \(key) case") }
                return fields
            }
        }
        func str(_ json: DMPGoldenJSON) throws -> String {
            guard let s = json.string else { throw DMPGoldenError("string expected, got \(json)") }
            return s
        }
        func int(_ json: DMPGoldenJSON) throws -> Int {
            guard let n = json.int else { throw DMPGoldenError("integer expected, got \(json)") }
            return n
        }

        let patch = try list("patch").map {
            PatchCase(a: try str($0[0]), b: try str($0[1]), settings: try DMPGoldenSettings($0[2]), patchText: try str($0[3]))
        }
        let apply = try list("apply").map { c -> ApplyCase in
            let index = try int(c[0])
            guard patch.indices.contains(index) else { throw DMPGoldenError("bad patch index") }
            return ApplyCase(
                patchIndex: index, target: c[1].isNull ? patch[index].a : try str(c[1]),
                settings: try DMPGoldenSettings(c[2]), resultText: try str(c[3]),
                flags: (c[4].array ?? []).map { $0.bool ?? false })
        }
        let diff = try list("diff").map { c -> DiffCase in
            let diffs = try diffs(c[4])
            return DiffCase(
                a: try str(c[0]), b: try str(c[1]), checkLines: c[2].bool ?? true, settings: try DMPGoldenSettings(c[3]),
                diffs: diffs,
                semantic: c[5].isNull ? diffs : try Self.diffs(c[5]),
                efficiency: c[6].isNull ? diffs : try Self.diffs(c[6]),
                lossless: c[7].isNull ? diffs : try Self.diffs(c[7]),
                delta: try str(c[8]))
        }
        let cleanup = try list("cleanup").map { c -> CleanupCase in
            CleanupCase(
                diffs: try diffs(c[0]), settings: try DMPGoldenSettings(c[1]), merge: try diffs(c[2]),
                semantic: try diffs(c[3]), efficiency: try diffs(c[4]), lossless: try diffs(c[5]),
                levenshtein: try int(c[6]),
                xIndex: try (c[7].array ?? []).map { pair in
                    guard let p = pair.array, p.count == 2 else { throw DMPGoldenError("bad xindex") }
                    return (try int(p[0]), try int(p[1]))
                })
        }
        var match = [MatchCase]()
        for c in try list("match") {
            let text = DMPCodePoints.from(try str(c[0]))
            for query in c[1].array ?? [] {
                guard let q = query.array, q.count == 4 else { throw DMPGoldenError("bad match query") }
                match.append(
                    MatchCase(
                        text: text, pattern: DMPCodePoints.from(try str(q[0])), loc: try int(q[1]),
                        settings: try DMPGoldenSettings(q[2]), result: try int(q[3])))
            }
        }
        let fromText = try list("fromtext").map { c -> FromTextCase in
            guard let expected = c[1].object else { throw DMPGoldenError("bad fromtext") }
            if let error = expected["error"]?.string {
                return FromTextCase(text: try str(c[0]), error: error, patches: [], reserialized: "")
            }
            let patches = try (expected["patches"]?.array ?? []).map { p -> Patch in
                guard let f = p.array, f.count == 5 else { throw DMPGoldenError("bad patch") }
                return Patch(
                    diffs: try diffs(f[4]), start1: try int(f[0]), start2: try int(f[1]), length1: try int(f[2]),
                    length2: try int(f[3]))
            }
            return FromTextCase(
                text: try str(c[0]), error: nil, patches: patches, reserialized: try str(expected["text"] ?? .null))
        }
        let delta = try list("delta").map { c -> DeltaCase in
            guard let expected = c[2].object else { throw DMPGoldenError("bad delta") }
            if let error = expected["error"]?.string {
                return DeltaCase(text1: try str(c[0]), delta: try str(c[1]), error: error, diffs: [])
            }
            return DeltaCase(
                text1: try str(c[0]), delta: try str(c[1]), error: nil, diffs: try diffs(expected["diffs"] ?? .null))
        }
        return DMPGoldenVectors(
            patch: patch, apply: apply, diff: diff, cleanup: cleanup, match: match, fromText: fromText, delta: delta)
    }
}

/// Collects failures and reports the first few as issues.
struct DMPGoldenFailures {
    let kind: String
    var count = 0
    var checked = 0
    private var shown = 0

    init(_ kind: String) { self.kind = kind }

    mutating func check(_ ok: Bool, _ index: Int, _ describe: @autoclosure () -> String) {
        checked += 1
        guard !ok else { return }
        count += 1
        if shown < 10 {
            shown += 1
            Issue.record("\(kind) case #\(index): \(describe())")
        }
    }

    func finish() {
        #expect(count == 0, "\(count) of \(checked) \(kind) checks differ from Python")
        #expect(checked > 0, "no \(kind) cases were checked")
    }
}

/// A short, readable excerpt of a text for failure messages.
func dmpExcerpt(_ text: String, _ limit: Int = 120) -> String {
    let scalars = Array(text.unicodeScalars)
    let head = String(String.UnicodeScalarView(scalars.prefix(limit)))
    return (scalars.count > limit ? head + "…(\(scalars.count) chars)" : head).debugDescription
}

private func cp(_ string: String) -> [UInt32] { DMPCodePoints.from(string) }

// MARK: - Tests

@Suite("diff-match-patch: golden vectors from Python")
struct DiffMatchPatchGoldenTests {
    let vectors: DMPGoldenVectors

    init() throws {
        vectors = try DMPGoldenVectors.shared.get()
    }

    @Test func vectorCounts() {
        #expect(vectors.patch.count >= 2000)
        #expect(vectors.apply.count >= 3000)
        #expect(vectors.diff.count >= 1000)
        #expect(vectors.match.count >= 2000)
        #expect(vectors.fromText.count >= 500)
    }

    @Test func patchMakeAndToText() {
        var failures = DMPGoldenFailures("patch_make/patch_toText")
        var roundTrip = DMPGoldenFailures("patch_fromText(patch_toText(p)) == p")
        for (index, c) in vectors.patch.enumerated() {
            let dmp = c.settings.make()
            let patches = dmp.patchMake(c.a, c.b)
            let text = dmp.patchToText(patches)
            failures.check(
                cp(text) == cp(c.patchText), index,
                "a=\(dmpExcerpt(c.a)) b=\(dmpExcerpt(c.b)) settings=\(c.settings)\n got \(dmpExcerpt(text, 300))\n expected \(dmpExcerpt(c.patchText, 300))"
            )
            let parsed = try? dmp.patchFromText(text)
            roundTrip.check(parsed == patches, index, "patch text \(dmpExcerpt(text, 300))")
        }
        failures.finish()
        roundTrip.finish()
    }

    @Test func patchFromTextAndApply() {
        var failures = DMPGoldenFailures("patch_fromText/patch_apply")
        for (index, c) in vectors.apply.enumerated() {
            let dmp = c.settings.make()
            let patchText = vectors.patch[c.patchIndex].patchText
            do {
                let patches = try dmp.patchFromText(patchText)
                let result = dmp.patchApply(patches, to: c.target)
                failures.check(
                    cp(result.text) == cp(c.resultText) && result.applied == c.flags, index,
                    "patch \(dmpExcerpt(patchText, 200)) on \(dmpExcerpt(c.target)) settings=\(c.settings)\n got \(dmpExcerpt(result.text)) \(result.applied)\n expected \(dmpExcerpt(c.resultText)) \(c.flags)"
                )
            } catch {
                failures.check(false, index, "patch_fromText threw \(error) for \(dmpExcerpt(patchText))")
            }
        }
        failures.finish()
    }

    @Test func diffMainCleanupsAndDelta() {
        var diffFailures = DMPGoldenFailures("diff_main")
        var cleanupFailures = DMPGoldenFailures("diff_cleanup* on diff_main output")
        var deltaFailures = DMPGoldenFailures("diff_toDelta/diff_fromDelta")
        for (index, c) in vectors.diff.enumerated() {
            let dmp = c.settings.make()
            let diffs = dmp.diffMain(c.a, c.b, checkLines: c.checkLines)
            diffFailures.check(
                diffs == c.diffs, index,
                "a=\(dmpExcerpt(c.a)) b=\(dmpExcerpt(c.b)) checklines=\(c.checkLines)\n got \(diffs.prefix(6))\n expected \(c.diffs.prefix(6))"
            )
            var semantic = c.diffs
            dmp.diffCleanupSemantic(&semantic)
            cleanupFailures.check(semantic == c.semantic, index, "semantic of \(c.diffs.prefix(6))")
            var efficiency = c.diffs
            dmp.diffCleanupEfficiency(&efficiency)
            cleanupFailures.check(efficiency == c.efficiency, index, "efficiency of \(c.diffs.prefix(6))")
            var lossless = c.diffs
            dmp.diffCleanupSemanticLossless(&lossless)
            cleanupFailures.check(lossless == c.lossless, index, "lossless of \(c.diffs.prefix(6))")
            let delta = dmp.diffToDelta(c.diffs)
            deltaFailures.check(delta == c.delta, index, "toDelta got \(dmpExcerpt(delta)) expected \(dmpExcerpt(c.delta))")
            let back = try? dmp.diffFromDelta(c.a, c.delta)
            deltaFailures.check(back == c.diffs, index, "fromDelta of \(dmpExcerpt(c.delta))")
        }
        diffFailures.finish()
        cleanupFailures.finish()
        deltaFailures.finish()
    }

    @Test func cleanupOfHandMadeDiffs() {
        var failures = DMPGoldenFailures("cleanup/levenshtein/xIndex of hand-made diffs")
        for (index, c) in vectors.cleanup.enumerated() {
            let dmp = c.settings.make()
            var merge = c.diffs
            dmp.diffCleanupMerge(&merge)
            failures.check(merge == c.merge, index, "merge of \(c.diffs): got \(merge) expected \(c.merge)")
            var semantic = c.diffs
            dmp.diffCleanupSemantic(&semantic)
            failures.check(semantic == c.semantic, index, "semantic of \(c.diffs): got \(semantic) expected \(c.semantic)")
            var efficiency = c.diffs
            dmp.diffCleanupEfficiency(&efficiency)
            failures.check(
                efficiency == c.efficiency, index, "efficiency of \(c.diffs): got \(efficiency) expected \(c.efficiency)")
            var lossless = c.diffs
            dmp.diffCleanupSemanticLossless(&lossless)
            failures.check(lossless == c.lossless, index, "lossless of \(c.diffs): got \(lossless) expected \(c.lossless)")
            failures.check(dmp.diffLevenshtein(c.diffs) == c.levenshtein, index, "levenshtein of \(c.diffs)")
            for (loc, result) in c.xIndex {
                let got = dmp.diffXIndex(c.diffs, loc)
                failures.check(got == result, index, "xIndex(\(loc)) of \(c.diffs): got \(got) expected \(result)")
            }
        }
        failures.finish()
    }

    @Test func matchMain() {
        var failures = DMPGoldenFailures("match_main")
        for (index, c) in vectors.match.enumerated() {
            let dmp = c.settings.make()
            let got = dmp.matchMain(c.text, c.pattern, c.loc)
            failures.check(
                got == c.result, index,
                "pattern \(dmpExcerpt(DMPCodePoints.string(c.pattern))) at \(c.loc) in \(c.text.count) chars, settings=\(c.settings): got \(got) expected \(c.result)"
            )
        }
        failures.finish()
    }

    @Test func patchFromTextEdgeCases() {
        var failures = DMPGoldenFailures("patch_fromText")
        let dmp = DiffMatchPatch()
        for (index, c) in vectors.fromText.enumerated() {
            do {
                let patches = try dmp.patchFromText(c.text)
                failures.check(
                    c.error == nil && patches == c.patches, index,
                    "\(dmpExcerpt(c.text, 300)): got \(patches) expected \(c.error.map { "error \($0)" } ?? "\(c.patches)")"
                )
                if c.error == nil {
                    failures.check(dmp.patchToText(patches) == c.reserialized, index, "re-serialised text")
                }
            } catch {
                let kind =
                    switch error.reason {
                    case .invalidHeader: "header"
                    case .invalidMode: "mode"
                    case .numberTooLarge: "number"
                    }
                failures.check(kind == c.error, index, "\(dmpExcerpt(c.text, 300)): threw \(error), expected \(c.error ?? "success")")
            }
        }
        failures.finish()
    }

    @Test func diffFromDeltaEdgeCases() {
        var failures = DMPGoldenFailures("diff_fromDelta")
        let dmp = DiffMatchPatch()
        for (index, c) in vectors.delta.enumerated() {
            do {
                let diffs = try dmp.diffFromDelta(c.text1, c.delta)
                failures.check(
                    c.error == nil && diffs == c.diffs, index,
                    "\(dmpExcerpt(c.delta)) on \(dmpExcerpt(c.text1)): got \(diffs) expected \(c.error ?? "\(c.diffs)")")
            } catch {
                let kind =
                    switch error.reason {
                    case .invalidNumber: "number"
                    case .negativeNumber: "negative"
                    case .invalidOperation: "operation"
                    case .lengthMismatch: "length"
                    case .splitSurrogatePair: "surrogate"
                    }
                failures.check(
                    kind == c.error, index,
                    "\(dmpExcerpt(c.delta)) on \(dmpExcerpt(c.text1)): threw \(error), expected \(c.error ?? "success")")
            }
        }
        failures.finish()
    }
}
