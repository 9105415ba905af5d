import Foundation
import Testing

@testable import MarksyncCore

/// The byte-level JSON reader and writer give what Foundation's JSONDecoder/JSONEncoder gave for `JSONValue`.
struct JSONTextTests {
    static let documents: [String] = [
        "{}", "[]", "null", "true", "false", "0", "-0", "1", "-1", "12", " 12 ", "\"x\"", "[1,2,3]", "[1.0]", "[1e2]", "[1E+2]",
        "[1.5]", "[-2.5e-5]", "[0.1]", "[1e-7]", "[1.0e0]", "[-0.0]", "[12345678901234567890]", "[9223372036854775807]",
        "[9223372036854775808]", "[-9223372036854775808]", "[-9223372036854775809]", "[-1234567890123456789]",
        "[1234567890123456789]", "[1e400]", "[01]", "[1.]", "[.5]", "[-]", "[+1]", "[0x10]", "[NaN]", "[Infinity]", "[nul]",
        "[1 2]", "[1,]", "{\"a\":1,}", "[,]", "{,}", "[1,,]", "{\"a\" : 1 , }", "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1},\"a\":2}",
        "[\"\\ud83d\\ude00\"]", "[\"\\ud83d\"]", "[\"\\ude00\"]", "[\"\\ude00\\ud83d\"]", "[\"\\ud83da\"]", "[\"\\u00E9\\u00e9\"]",
        "[\"\\u0000\"]", "[\"\\x\"]", "[\"a\\/b\"]", "[\"a\\\"b\\\\c\\b\\f\\n\\r\\t\"]", "[\"a\tb\"]", "[\"a\u{7f}b\"]",
        "[\"é😀\u{2028}\"]", "['a']", "[1 /* c */]", "", " ", " \n\t\r[1]\r\n", "\u{0b}[1]", "[1] x", "[true, false, null]",
        "{\"type\":\"patch\",\"block_id\":\"markpact:file=app/models.py\",\"patch\":\"@@ -120,7 +120,7 @@\\n  = 10\\n-00\\n+24\\n %0A%0Acl\\n\",\"sha\":\"abc\",\"ts\":1764204001.5}",
        "{\"nested\":[{\"a\":[1,{\"b\":null}]},[],{}],\"n\":-3.25}", "{\"\":1}", "[[[[[]]]]]",
        String(repeating: "[", count: 400) + String(repeating: "]", count: 400),
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ]

    @Test(arguments: documents)
    func parsesLikeFoundation(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(JSONValue.parse(bytes) == JSONValue.parseWithFoundation(bytes), "\(text.prefix(80).debugDescription)")
        #expect(JSONValue.parse(text) == JSONValue.parseWithFoundation(bytes))
    }

    @Test func refusesInvalidUTF8AndSkipsAByteOrderMark() {
        let invalid: [UInt8] = [0x5B, 0x22, 0xFF, 0x22, 0x5D]
        #expect(JSONValue.parse(invalid) == nil)
        #expect(JSONValue.parseWithFoundation(invalid) == nil)
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("[1]".utf8)
        #expect(JSONValue.parse(bom) == JSONValue.parseWithFoundation(bom))
    }

    static let values: [JSONValue] = [
        .null, true, false, 0, -7, .int(Int.max), .int(Int.min), 1.5, 0.0, -0.0, 3.0, 100.0, 1e15, 1e16, 1e21, 1e-7, 0.1,
        .double(1.0 / 3), 5e-324, 1.7976931348623157e308, 1718000000.123456, -2.5e-5, .double(.nan), .double(.infinity),
        "", "a\"b\\c/d", "\u{0}\u{1}\u{1f}\u{7f}\u{80}", "\n\r\t\u{8}\u{c}", "é😀\u{2028}\u{2029}", "<>&'",
        ["b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "_": 6, "a b": 7, "a10": 8, "a9": 9, "😀": 10, "\u{FFFF}": 11, "": 12],
        [1, "two", [3.5, .null], ["k": ["x": true]]], ["ts": 1764204001.5, "type": "ack", "seq": 42, "list": [.double(.nan)]],
    ]

    @Test(arguments: values)
    func writesLikeFoundation(_ value: JSONValue) {
        #expect(value.text == value.textWithFoundation)
    }

    @Test func roundTripsRandomValues() {
        var generator = SplitMix64(seed: 11)
        func random(_ depth: Int) -> JSONValue {
            switch generator.next() % (depth > 3 ? 5 : 7) {
            case 0: return .null
            case 1: return .bool(generator.next() % 2 == 0)
            case 2: return .int(Int(truncatingIfNeeded: generator.next()) >> Int(generator.next() % 64))
            case 3: return .double(Double(Int(truncatingIfNeeded: generator.next() % 2_000_001) - 1_000_000) / 1024.0 + 0.5)
            case 4:
                let scalars = (0..<(generator.next() % 12)).compactMap { _ -> Character? in
                    let pick = generator.next() % 4
                    let value: UInt32 =
                        pick == 0 ? UInt32(generator.next() % 0x20) : pick == 1 ? UInt32(0x20 + generator.next() % 0x60)
                        : pick == 2 ? UInt32(0xA0 + generator.next() % 0x2000) : UInt32(0x1F600 + generator.next() % 0x50)
                    return Unicode.Scalar(value).map(Character.init)
                }
                return .string(String(scalars))
            case 5: return .array((0..<(generator.next() % 5)).map { _ in random(depth + 1) })
            default:
                var object = [String: JSONValue]()
                for _ in 0..<(generator.next() % 5) { object["k\(generator.next() % 100)"] = random(depth + 1) }
                return .object(object)
            }
        }
        for _ in 0..<500 {
            let value = random(0)
            let text = value.text
            #expect(text == value.textWithFoundation)
            #expect(JSONValue.parse(Array(text.utf8)) == JSONValue.parseWithFoundation(Array(text.utf8)))
        }
    }
}
