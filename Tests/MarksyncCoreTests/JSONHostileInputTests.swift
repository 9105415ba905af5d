import Foundation
import Testing

@testable import MarksyncCore

// Every WebSocket message goes through `JSONValue.parse` first: hostile input (huge numbers, lone surrogates,
// deep nesting, random bytes) must give a value or nil, never a trap or a stack overflow. The seed is printed
// before the run (a trap kills the process); MARKSYNC_FUZZ_SEED=<seed> replays it.

/// Random, mostly JSON-shaped, hostile documents.
struct HostileJSONGenerator {
    var random: SplitMix64

    mutating func next(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }

    static let numbers = [
        "0", "-0", "1", "-1", "1e300", "-1e300", "1e400", "-1e400", "1e-400", "1E+2", "0.1", "1.5e308", "1.7976931348623157e308",
        "1.7976931348623159e308", "4.9e-324", "2.5e-324", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890", String(repeating: "9", count: 400),
        "-" + String(repeating: "1", count: 2000), "9007199254740993", "9e15", "8999999999999999.5", "1e15", "-9e18", "9.3e18",
        "1." + String(repeating: "0", count: 500), "0e99999999999999999999", "1e-99999999999999999999", "NaN", "-Infinity",
        "Infinity", "01", "1.", ".5", "-", "+1", "0x10", "1e", "1e+", "--1", "1.5.5",
    ]
    static let strings = [
        #""""#, #""a""#, #""\ud800""#, #""\udfff""#, #""\ud800\u0041""#, #""\ud800\udc00""#, #""\udc00\ud800""#, #""\ud83d\ude00""#,
        #""\ud800\""#, #""\u00""#, #""\uZZZZ""#, #""\u0000""#, #""\x41""#, #""\""#, "\"\u{1}\"", "\"é😀\"", #""\/\b\f\n\r\t""#,
        #""\ud800\ud800""#, #""\uDBFF\uDFFF""#, #""\u""#, "\"unterminated",
    ]

    mutating func value(_ depth: Int) -> String {
        switch depth > 6 ? next(3) : next(6) {
        case 0: return Self.numbers[next(Self.numbers.count)]
        case 1: return Self.strings[next(Self.strings.count)]
        case 2: return ["true", "false", "null", "nul", "tru"][next(5)]
        case 3: return "[" + (0..<next(4)).map { _ in value(depth + 1) }.joined(separator: ",") + (next(8) == 0 ? ",]" : "]")
        case 4:
            return "{" + (0..<next(4)).map { _ in Self.strings[next(Self.strings.count)] + ":" + value(depth + 1) }.joined(separator: ",")
                + "}"
        default:
            let n = next(2000)
            return String(repeating: "[", count: n) + value(depth + 1) + String(repeating: "]", count: next(2) == 0 ? n : next(n + 1))
        }
    }

    /// A document: a value, now and then with a few bytes changed, or random bytes.
    mutating func document() -> [UInt8] {
        if next(20) == 0 { return (0..<next(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        var bytes = Array(value(0).utf8)
        if next(3) == 0 {
            for _ in 0..<(1 + next(3)) {
                let at = next(bytes.count + 1)
                switch next(3) {
                case 0: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: if at < bytes.count { bytes[at] = [0x5B, 0x7B, 0x22, 0x5C, 0x30, 0xFF, 0xED][next(7)] }
                }
            }
        }
        return bytes
    }
}

@Suite struct JSONHostileInputTests {
    /// Reads every number the way the server does (`intValue`).
    static func touchNumbers(_ value: JSONValue) {
        switch value {
        case .int, .double: _ = value.intValue
        case .array(let items): for item in items { touchNumbers(item) }
        case .object(let object): for item in object.values { touchNumbers(item) }
        default: break
        }
    }

    @Test func hostileDocumentsParseOrAreRefused() {
        let seed = hostileInputSeed(0x5EED_0150_0001)
        print("JSONHostileInputTests: seed \(seed) (MARKSYNC_FUZZ_SEED=\(seed) replays it)")
        var generator = HostileJSONGenerator(random: SplitMix64(seed: seed))
        var parsed = 0
        let cases = 5_000
        for index in 0..<cases {
            let bytes = generator.document()
            guard let value = JSONValue.parse(bytes) else { continue }
            parsed += 1
            Self.touchNumbers(value)
            // What was read can be written back and read again.
            #expect(JSONValue.parse(value.text) != nil, "seed \(seed) case \(index): \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        print("JSONHostileInputTests: \(cases) documents, \(parsed) parsed")
        #expect(parsed > cases / 10)
    }

    @Test(arguments: [1, 100, 511, 512, 513, 1000, 100_000, 1_000_000])
    func deepNestingIsCappedNotAStackOverflow(depth: Int) {
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect((JSONValue.parse(arrays) != nil) == (depth <= JSONText.maxDepth))
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect((JSONValue.parse(objects) != nil) == (depth <= JSONText.maxDepth))
        let mixed = String(repeating: #"[{"a":"#, count: depth) + "1" + String(repeating: "}]", count: depth)
        #expect((JSONValue.parse(mixed) != nil) == (2 * depth <= JSONText.maxDepth))
        // Unclosed.
        #expect(JSONValue.parse(String(repeating: "[", count: depth)) == nil)
    }

    @Test func hugeAndOddNumbersNeverTrap() {
        for text in HostileJSONGenerator.numbers {
            let value = JSONValue.parse("[\(text)]")
            if let value { Self.touchNumbers(value) }
        }
        #expect(JSONValue.parse("1e300")?.intValue == nil)
        #expect(JSONValue.parse("-1e300")?.intValue == nil)
        #expect(JSONValue.parse("1e400") == nil)
        #expect(JSONValue.parse("9223372036854775808")?.intValue == nil)
        #expect(JSONValue.parse("9223372036854775807")?.intValue == Int.max)
        #expect(JSONValue.parse("-9223372036854775808")?.intValue == Int.min)
        #expect(JSONValue.double(.nan).intValue == nil)
        #expect(JSONValue.double(.infinity).intValue == nil)
        #expect(JSONValue.double(-.infinity).intValue == nil)
        #expect(JSONValue.double(1e300).intValue == nil)
    }

    @Test func loneSurrogatesAreRefused() {
        for text in [#"["\ud800"]"#, #"["\udfff"]"#, #"["\ud800\u0041"]"#, #"["\udc00\ud800"]"#, #"["\ud800\ud800"]"#, #"["\ud800"#] {
            #expect(JSONValue.parse(text) == nil, "\(text)")
        }
        #expect(JSONValue.parse(#"["\ud83d\ude00"]"#) == .array([.string("😀")]))
    }
}
