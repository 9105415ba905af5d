import Foundation
import Testing

@testable import MarksyncCore

// Patch text comes from clients (a `patch` message's `patch` field), so every patch text must either be refused
// with `PatchTextError` (the write path's `bad_patch`) or give a result; nothing may trap. A trap kills the test
// process: that is the failing signal, so the seed is printed before the run. Replay a seed with
// MARKSYNC_FUZZ_SEED=<seed> swift test --skip-build --filter DiffMatchPatchHostileInputTests

/// The seed of a property test: MARKSYNC_FUZZ_SEED when set, otherwise `fallback`.
func hostileInputSeed(_ fallback: UInt64) -> UInt64 {
    ProcessInfo.processInfo.environment["MARKSYNC_FUZZ_SEED"].flatMap { UInt64($0) } ?? fallback
}

/// Hostile patch texts with, where the grammar allows it, the outcome Python's `patch_fromText` (bounded by
/// ``DiffMatchPatch/maxPatchNumber``) gives.
struct HostilePatchGenerator {
    enum Expected: Equatable {
        case parses
        case refused(PatchTextError.Reason)
        case unknown
    }

    /// One number field of a header as written, and what it is.
    struct Field {
        enum Kind { case digits(tooLarge: Bool), notANumber, empty }
        var text: String
        var kind: Kind
        var isDigits: Bool { if case .digits = kind { true } else { false } }
        var isTooLarge: Bool { if case .digits(true) = kind { true } else { false } }
    }

    var random: SplitMix64
    let limit = DiffMatchPatch.maxPatchNumber

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { next(100) < percent }

    static let hugeNumbers: [String] = [
        "9223372036854775807", "9223372036854775806", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "1" + String(repeating: "0", count: 30), String(repeating: "9", count: 400), "4611686018427387904", "2147483648",
        "4294967296", String(DiffMatchPatch.maxPatchNumber + 1), "999999999",
    ]
    static let smallNumbers: [String] = [
        "0", "1", "2", "3", "4", "9", "10", "32", "33", "64", "100", String(DiffMatchPatch.maxPatchNumber),
        "000000000000000000000000000001", "\u{0663}", "\u{FF11}\u{FF12}", "\u{1D7D7}", "\u{0660}",
    ]
    static let notNumbers: [String] = [
        "-1", "+1", " 1", "1 ", "\t1", "1e3", "0x10", "\u{00BD}", "a", "-9223372036854775808", "1\u{0}", "１ ", "\r",
    ]

    /// The value of a run of Unicode decimal digits, or nil when it is not one; saturates at Int.max.
    static func decimalValue(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for scalar in text.unicodeScalars {
            guard scalar.properties.numericType == .decimal, let digit = scalar.properties.numericValue else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int(digit))
            value = o1 || o2 ? Int.max : plus
        }
        return value
    }

    func field(_ text: String) -> Field {
        if text.isEmpty { return Field(text: text, kind: .empty) }
        if let value = Self.decimalValue(text) { return Field(text: text, kind: .digits(tooLarge: value > limit)) }
        return Field(text: text, kind: .notANumber)
    }

    mutating func number(near textLength: Int) -> Field {
        switch next(100) {
        case 0..<45: return field(String(next(textLength + 6)))
        case 45..<65: return field(Self.smallNumbers[next(Self.smallNumbers.count)])
        case 65..<80: return field(Self.hugeNumbers[next(Self.hugeNumbers.count)])
        case 80..<88: return field(String((0..<(1 + next(25))).map { _ in Character(String(next(10))) }))
        case 88..<95: return field(Self.notNumbers[next(Self.notNumbers.count)])
        default: return field("")
        }
    }

    /// A header line and what parsing it gives: refused, parses, or (mangled beyond the grammar) refused as a header.
    mutating func header(textLength: Int, sane: Bool = false) -> (String, Expected) {
        func pick() -> Field { sane ? field(String(next(textLength + 6))) : number(near: textLength) }
        let a = pick()
        let c = pick()
        let b = pick()
        let d = pick()
        // Each length is left out, written after a comma, or a bare comma.
        func part(_ field: Field, _ form: Int) -> (String, ok: Bool, large: Bool) {
            switch form {
            case 0: return ("", true, false)
            case 1: return ("," + field.text, field.isDigits || field.text.isEmpty, field.isTooLarge)
            default: return (",", true, false)
            }
        }
        let bPart = part(b, next(3))
        let dPart = part(d, next(3))
        var line = "@@ -" + a.text + bPart.0 + " +" + c.text + dPart.0 + " @@"
        let wellFormed = a.isDigits && c.isDigits && bPart.ok && dPart.ok
        let tooLarge = a.isTooLarge || c.isTooLarge || bPart.large || dPart.large
        var expected: Expected = !wellFormed ? .refused(.invalidHeader) : tooLarge ? .refused(.numberTooLarge) : .parses
        if !sane && chance(12) {
            // Truncated or mangled: never a header any more.
            var scalars = Array(line.unicodeScalars)
            switch next(6) {
            case 0: scalars = Array(scalars.prefix(1 + next(scalars.count - 1)))  // still starts with "@"
            case 1: scalars.append("\r")
            case 2: scalars.append(" ")
            case 3: scalars.insert(" ", at: scalars.count - 2)  // "  @@" (a leading space would make a context line)
            case 4: scalars.removeLast(3)
            default: scalars.remove(at: 2)  // "@@-…" (dropping the "-" could make "@@ --1" a header)
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            line = String(view)
            expected = .refused(.invalidHeader)
        }
        return (line, expected)
    }

    static let alphabet: [UInt32] = Array("abcxyz \n\t%+-@é中".unicodeScalars.map(\.value)) + [0x1F600, 0x1F44D, 0x1F3FD, 1, 2, 0]

    mutating func text(_ maximum: Int) -> [UInt32] {
        (0..<next(maximum + 1)).map { _ in Self.alphabet[next(Self.alphabet.count)] }
    }

    static func quoted(_ text: [UInt32]) -> String {
        var out = [UInt8]()
        DMPPercent.appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static let percentJunk = ["%", "%z", "%zz", "%E2%82", "%FF%FE", "100%", "%C3%A9", "%ED%A0%80", "%F4%90%80%80", "%0", "%%%", "%c3"]
    static let badModes = ["x", "\t+a", "#", "\u{FEFF}+a", "=a", "*", "\\", "0"]
    static let atLines = ["@", "@@", "@@ -1", "@ -1 +1 @@", "@@ -1 +1 @", "@@@ -1 +1 @@", "@@ -1 +1 @@@"]

    /// The body of one hunk: context and changes taken from `base` (so some hunks apply), percent junk, blank
    /// lines, and now and then a line no hunk may have.
    mutating func body(_ base: [UInt32], sane: Bool = false) -> ([String], Expected) {
        var lines = [String]()
        var expected = Expected.parses
        let at = next(base.count + 1)
        let cut = min(base.count - at, next(12))
        let context = Array(base[max(0, at - next(6))..<at])
        if !context.isEmpty { lines.append(" " + Self.quoted(context)) }
        if cut > 0 { lines.append("-" + Self.quoted(Array(base[at..<(at + cut)]))) }
        if chance(70) { lines.append("+" + Self.quoted(text(8))) }
        let after = Array(base[(at + cut)..<min(base.count, at + cut + next(6))])
        if !after.isEmpty { lines.append(" " + Self.quoted(after)) }
        for _ in 0..<next(3) {
            switch next(sane ? 7 : 10) {
            case 0..<5: lines.insert(["+", "-", " "][next(3)] + Self.percentJunk[next(Self.percentJunk.count)], at: next(lines.count + 1))
            case 5..<7: lines.insert("", at: next(lines.count + 1))
            case 7..<9:
                if expected == .parses { expected = .refused(.invalidMode) }
                lines.append(Self.badModes[next(Self.badModes.count)])
            default:
                // A line starting with `@` ends the hunk and is read as the next header, which it is not.
                if expected == .parses { expected = .refused(.invalidHeader) }
                lines.append(Self.atLines[next(Self.atLines.count)])
            }
        }
        return (lines, expected)
    }

    /// A patch text for `base`, and what parsing it gives.
    mutating func patchText(for base: [UInt32]) -> (String, Expected) {
        switch next(100) {
        case 0..<4:
            // Random bytes (as a Swift string: invalid UTF-8 becomes U+FFFD), sometimes after a header start.
            let bytes = (0..<next(80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            return ((chance(50) ? "@@ -" : "") + String(decoding: bytes, as: UTF8.self), .unknown)
        case 4..<6:
            // Random characters of the header alphabet.
            let pieces = ["@", "@@", " ", "-", "+", ",", "0", "1", "9", "\n", "%", "\u{0663}", "92233720368547758070"]
            return ((0..<next(40)).map { _ in pieces[next(pieces.count)] }.joined(), .unknown)
        default:
            break
        }
        // Now and then a great many hunks. Many texts have sane headers and bodies (so that they get as far as
        // applying), some of those with one hostile number.
        let many = chance(1)
        let hunks = many ? 100 + next(500) : 1 + next(4)
        let sane = chance(many ? 60 : 45)
        let hostileHunk = sane && chance(25) ? next(hunks) : -1
        var lines = [String]()
        var expected = Expected.parses
        for hunk in 0..<hunks {
            var (header, headerOutcome) = header(textLength: base.count, sane: sane)
            if hunk == hostileHunk {
                let huge = Self.hugeNumbers[next(Self.hugeNumbers.count)]
                header = "@@ -" + [huge, "1"].shuffled(using: &random).joined(separator: ",") + " +3,4 @@"
                headerOutcome = field(huge).isTooLarge ? .refused(.numberTooLarge) : .parses
            }
            lines.append(header)
            if expected == .parses { expected = headerOutcome }
            if case .refused = headerOutcome { if chance(80) { continue } }
            let (body, bodyOutcome) = body(base, sane: sane)
            lines.append(contentsOf: body)
            if expected == .parses { expected = bodyOutcome }
        }
        var text = lines.joined(separator: "\n")
        if chance(85) { text += "\n" }
        // An empty text is no patch at all.
        if text.isEmpty { expected = .parses }
        return (text, expected)
    }
}

@Suite struct DiffMatchPatchHostileInputTests {
    static let attack =
        #"{"type":"patch","block_id":"markpact:run","patch":"@@ -9223372036854775807,3 +1,4 @@\n uvi\n+x\n corn\n"}"#

    let dmp = DiffMatchPatch()

    /// A state with one block, `markpact:run`.
    static func state(content: String) throws -> DocumentState {
        var state = DocumentState()
        _ = try state.prepare(.create(blockID: "markpact:run", index: nil, header: nil, content: content), seq: 1)
        return state
    }

    /// The write path's answer to a patch message: nil when it was stored, else the nack reason.
    static func writeReason(_ patch: String, to state: DocumentState) -> String? {
        var copy = state
        do {
            _ = try copy.prepare(.patch(blockID: "markpact:run", patch: patch, expectedSHA256: nil), seq: 2)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func theReportedMessageIsABadPatchNotATrap() throws {
        let message = try #require(JSONValue.parse(Self.attack))
        let patch = try #require(message["patch"]?.stringValue)
        #expect(throws: PatchTextError.self) { try dmp.patchFromText(patch) }
        let state = try Self.state(content: "uvi\ncorn\n")
        #expect(Self.writeReason(patch, to: state) == "bad_patch")
        // The replay path and the Yjs projection say the same.
        var replay = state
        do {
            try replay.apply(.blockPatched(blockID: "markpact:run", patch: patch, resultLength: 10, resultSHA256: nil), seq: 2)
            Issue.record("the replay path applied it")
        } catch {
            #expect(error.code == "bad_patch")
        }
        #expect(replay == state)
    }

    static let hugeValues = [
        String(Int.max), "9223372036854775808", "18446744073709551616", "1" + String(repeating: "0", count: 30),
        String(DiffMatchPatch.maxPatchNumber + 1),
    ]

    @Test(arguments: 0..<4, hugeValues)
    func aHugeNumberInAnyFieldIsRefused(field: Int, value: String) throws {
        var numbers = ["2", "3", "1", "4"]
        numbers[field] = value
        let patch = "@@ -\(numbers[0]),\(numbers[1]) +\(numbers[2]),\(numbers[3]) @@\n uvi\n+x\n corn\n"
        do {
            _ = try dmp.patchFromText(patch)
            Issue.record("\(patch.debugDescription) was accepted")
        } catch {
            #expect(error.reason == .numberTooLarge)
            #expect(error.lineNumber == 1)
        }
        #expect(Self.writeReason(patch, to: try Self.state(content: "uvi\ncorn\n")) == "bad_patch")
        // A huge number in a later hunk is refused as well.
        let second = "@@ -1,3 +1,4 @@\n uvi\n+x\n corn\n" + patch
        #expect(throws: PatchTextError(reason: .numberTooLarge, lineNumber: 5, line: String(patch.prefix { $0 != "\n" }))) {
            try dmp.patchFromText(second)
        }
    }

    @Test func numbersUpToTheBoundStillParseAndApply() throws {
        let limit = DiffMatchPatch.maxPatchNumber
        for patch in [
            "@@ -\(limit),3 +\(limit),4 @@\n uvi\n+x\n corn\n", "@@ -1,\(limit) +1,\(limit) @@\n uvi\n+x\n corn\n",
            "@@ -\(limit) +\(limit) @@\n-u\n+x\n",
        ] {
            let patches = try dmp.patchFromText(patch)
            #expect(patches.count == 1)
            let (text, applied) = dmp.patchApply(patches, to: "uvi\ncorn\n")
            #expect(applied.count >= 1)
            #expect(!text.isEmpty)
            let reason = Self.writeReason(patch, to: try Self.state(content: "uvi\ncorn\n"))
            #expect(reason == nil || reason == "patch_failed")
        }
    }

    static let malformed = [
        "@@ -1", "@@ -1,2 +", "@@ -,3 +1 @@", "@@ -1 + @@", "@@ - +1 @@", "@@ -a +1 @@", "@@ -+1 +1 @@", "@@ - 1 +1 @@",
        "@@ -1 +1 @@ ", "@@ -1 + 1 @@", "@@ -1 +1", "@@", "@", "@@ -1 +-1 @@", "@@ --1 +1 @@", "@@ -1,-1 +1 @@",
        "@@ -1 +1 @@\r", " @@ -1 +1 @@", "@@ -1e3 +1 @@", "@@ -0x10 +1 @@", "@@ -1,2,3 +1 @@", "@@ -1 +1 @@@", "\u{FEFF}@@ -1 +1 @@",
        "@@ -1 +1 @@\n-a\n@@ -2", "@@ -1 +1 @@\n-a\n@", "@@ -1\n", "\n@@ -1 +1 @@\n",
    ]

    @Test(arguments: malformed)
    func truncatedAndMalformedHeadersAreRefused(_ patch: String) throws {
        do {
            _ = try dmp.patchFromText(patch)
            Issue.record("\(patch.debugDescription) was accepted")
        } catch {
            #expect(error.reason == .invalidHeader)
        }
        #expect(Self.writeReason(patch, to: try Self.state(content: "a\n")) == "bad_patch")
    }

    @Test func bodyLinesOfAnUnknownKindAreRefusedAndPercentJunkStaysLiteral() throws {
        for line in HostilePatchGenerator.badModes {
            #expect(throws: PatchTextError.self) { try dmp.patchFromText("@@ -1 +1 @@\n" + line + "\n") }
        }
        // Malformed percent-encoding is not an error in Python's `unquote` (the compatibility oracle): it stays
        // literal, or becomes U+FFFD when it decodes to bad UTF-8. It never traps.
        for junk in HostilePatchGenerator.percentJunk {
            let patches = try dmp.patchFromText("@@ -1 +1,2 @@\n-a\n+" + junk + "\n")
            _ = dmp.patchApply(patches, to: "a")
        }
    }

    /// Patches built by hand (not parsed) may hold any Int: applying them, padding, splitting and writing them
    /// out must not trap either.
    @Test func handMadePatchesWithExtremeNumbersDoNotTrap() {
        let extremes = [Int.max, Int.min, Int.max - 1, Int.min + 1, -1, 0, 1 << 62, -(1 << 62)]
        let long = Array(repeating: UInt32(0x61), count: 100)
        for a in extremes {
            for b in extremes {
                let diffs: [[Diff]] = [
                    [Diff(.equal, "uvi\n"), Diff(.insert, "x\n"), Diff(.equal, "corn\n")], [],
                    [Diff(.delete, long), Diff(.insert, "y"), Diff(.equal, long)], [Diff(.insert, "z")],
                ]
                for d in diffs {
                    let patches = [
                        Patch(diffs: d, start1: a, start2: b, length1: b, length2: a),
                        Patch(diffs: d, start1: b, start2: a, length1: a, length2: b),
                    ]
                    _ = dmp.patchApply(patches, to: "uvi\ncorn\n" + String(repeating: "a", count: 150))
                    _ = dmp.patchApply([patches[0]], to: "")
                    var padded = patches
                    dmp.patchAddPadding(&padded)
                    dmp.patchSplitMax(&padded)
                    _ = dmp.patchToText(patches)
                    _ = DocumentState.mayHalfApply(patches)
                    _ = DocumentState.cleanSplice([patches[0]], in: ScalarBuffer(DiffMatchPatch.padded(long, margin: 4)))
                }
            }
        }
        #expect(Patch(diffs: [], start1: Int.max, start2: 0, length1: 2, length2: 0).description == "@@ -9223372036854775808,2 +0,0 @@\n")
    }

    /// A stored patch starting at -1 (`@@ -0 +0 @@`: Python's header arithmetic) was written to the log's compact form
    /// as a 64-bit pattern that the reader refused, so the event could not be read back.
    @Test func storedPatchesStartingBeforeTheTextReadBack() throws {
        for patch in ["@@ -0 +0 @@\n-a\n", "@@ -0,5 +0,6 @@\n ab\n+x\n cde\n", "@@ -0 +1,2 @@\n-a\n+bc\n"] {
            let parsed = try dmp.patchFromText(patch)
            #expect(parsed[0].start1 == -1)
            let body = EventBody.blockPatched(blockID: "markpact:run", patch: patch, resultLength: 3, resultSHA256: nil)
            let payload = EventCodec.encode(body)
            #expect(payload[0] & 2 != 0, "stored in the compact form")
            #expect(try EventCodec.decode(kind: .blockPatched, blockID: "markpact:run", payload: payload) == body)
            #expect(try EventCodec.decodePatchFast(payload)?.patches == parsed)
        }
    }

    /// Damaged compact payloads (hunk and diff counts, coordinates near 2^64) are errors, not traps.
    @Test func damagedCompactPayloadsAreErrors() {
        var random = SplitMix64(seed: hostileInputSeed(7))
        var writer = ByteWriter()
        writer.byte(2)
        writer.varint(3)
        let prefix = writer.bytes
        let huge: [[UInt8]] = [
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            [0x80, 0x80, 0x80, 0x80, 0x08], [0], [1], [0x7F],
        ]
        for _ in 0..<3000 {
            var payload = prefix
            for _ in 0..<(Int(random.next() % 12)) {
                if random.next() % 3 == 0 {
                    payload.append(UInt8(truncatingIfNeeded: random.next()))
                } else {
                    payload.append(contentsOf: huge[Int(random.next() % UInt64(huge.count))])
                }
            }
            _ = try? EventCodec.decodePatchFast(payload)
            _ = try? EventCodec.decode(kind: .blockPatched, blockID: "b", payload: payload)
        }
    }

    /// ≥ 20,000 hostile patch texts on random texts: each is refused with a `PatchTextError` (a `bad_patch` nack on
    /// the write path) or gives a result; Python's outcome is checked wherever the grammar tells it.
    @Test func hostilePatchTextsAreRefusedOrApplied() throws {
        let seed = hostileInputSeed(0x5EED_D3F0_0001)
        print("DiffMatchPatchHostileInputTests: seed \(seed) (MARKSYNC_FUZZ_SEED=\(seed) replays it)")
        // MARKSYNC_FUZZ_TRACE=1 prints every case before it runs, so the last one printed is the one that trapped.
        let trace = ProcessInfo.processInfo.environment["MARKSYNC_FUZZ_TRACE"] != nil
        var generator = HostilePatchGenerator(seed: seed)
        var counts = (parsed: 0, refused: 0, applied: 0)
        let cases = 20_000
        let contents = ["", "uvi\ncorn\n", "abc", "a😀b\n中é", String(repeating: "lorem ipsum dolor\n", count: 8)]
        let states = try contents.map { try Self.state(content: $0) }
        // The Yjs projection of each state: a stored patch event is applied to it too (the server does).
        let projections = try contents.map { content in
            var state = DocumentState()
            let body = try state.prepare(.create(blockID: "markpact:run", index: nil, header: nil, content: content), seq: 1)
            var projection = YjsProjection(document: "demo")
            try projection.apply(Event(document: "demo", seq: 1, timestampMs: 0, author: "alice", body: body), encoding: false)
            return projection
        }
        for index in 0..<cases {
            let which = generator.next(states.count)
            let state = states[which]
            let base = state.block("markpact:run")!.scalars
            let (patch, expected) = generator.patchText(for: base)
            let label = "seed \(seed) case \(index): \(String(patch.prefix(300)).debugDescription)"
            if trace { print("\(label) on \(DMPCodePoints.string(base).debugDescription)") }
            let parsed: [Patch]?
            do {
                let patches = try dmp.patchFromText(patch)
                counts.parsed += 1
                #expect(expected == .parses || expected == .unknown, "\(label): parsed, expected \(expected)")
                for p in patches {
                    #expect(p.start1 >= -1 && p.start1 <= DiffMatchPatch.maxPatchNumber, "\(label)")
                    #expect(p.start2 >= -1 && p.start2 <= DiffMatchPatch.maxPatchNumber, "\(label)")
                    #expect(p.length1 >= 0 && p.length1 <= DiffMatchPatch.maxPatchNumber, "\(label)")
                    #expect(p.length2 >= 0 && p.length2 <= DiffMatchPatch.maxPatchNumber, "\(label)")
                }
                parsed = patches
            } catch {
                counts.refused += 1
                if case .refused(let reason) = expected {
                    #expect(error.reason == reason, "\(label): \(error)")
                } else {
                    #expect(expected == .unknown, "\(label): refused (\(error)), expected \(expected)")
                }
                parsed = nil
            }
            // The write path: refused as bad_patch exactly when the text does not parse.
            var written = state
            var reason: String?
            do {
                let body = try written.prepare(.patch(blockID: "markpact:run", patch: patch, expectedSHA256: nil), seq: 2)
                counts.applied += 1
                // What was stored replays to the same state, and the Yjs projection applies it to the same text.
                if index % 2 == 0 {
                    var replay = state
                    do { try replay.apply(body, seq: 2, verifying: true) } catch { Issue.record("\(label): replay: \(error)") }
                    #expect(replay == written, "\(label): replay")
                    var projection = projections[which]
                    do {
                        try projection.apply(Event(document: "demo", seq: 2, timestampMs: 0, author: "bob", body: body), encoding: false)
                        #expect(projection.content(of: "markpact:run") == written.block("markpact:run")?.content, "\(label): Yjs")
                    } catch {
                        Issue.record("\(label): Yjs projection: \(error)")
                    }
                }
            } catch {
                reason = error.code
                #expect(written == state, "\(label): a refused patch leaves the state as it was")
            }
            if parsed == nil {
                #expect(reason == "bad_patch", "\(label)")
            } else {
                #expect(reason == nil || reason == "patch_failed", "\(label): \(reason ?? "")")
            }
            if let parsed, index % 4 == 0 {
                // (Fewer results than hunks is Python's too: patch_splitMax drops pieces with no change.)
                _ = dmp.patchApply(parsed, to: base)
                _ = dmp.patchToText(parsed)
            }
            // The log stores any patch text and reads it back as it was.
            if index % 4 == 1 {
                let body = EventBody.blockPatched(blockID: "markpact:run", patch: patch, resultLength: 0, resultSHA256: nil)
                #expect(try EventCodec.decode(kind: .blockPatched, blockID: "markpact:run", payload: EventCodec.encode(body)) == body, "\(label)")
            }
        }
        print("DiffMatchPatchHostileInputTests: \(cases) patch texts, \(counts.parsed) parsed (\(counts.applied) stored), \(counts.refused) refused")
        #expect(counts.parsed > cases / 10 && counts.refused > cases / 10, "the generator covers both outcomes")
    }
}
