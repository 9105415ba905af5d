/// A JSON reader and writer for ``JSONValue`` that works on UTF-8 bytes directly.
///
/// Every sync message is parsed and written once or more, and Foundation's `JSONDecoder`/`JSONEncoder`
/// (through `Codable`, trying each type in turn) cost more than the rest of handling a message. This
/// gives the same results as they did for `JSONValue`: the same values accepted and refused (trailing
/// commas allowed, the first of duplicate keys kept, numbers that are whole and fit in `Int` as `.int`),
/// and the same text out (keys sorted by code point, `/` not escaped, doubles as Swift prints them
/// without a trailing `.0`). The tests compare both on a corpus.
enum JSONText {
    /// Nesting deeper than this is refused (Foundation's limit), so hostile input cannot exhaust the stack.
    static let maxDepth = 512

    // MARK: Reading

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var reader = Reader(bytes: bytes)
        // A UTF-8 byte order mark is skipped, as Foundation does.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { reader.index = 3 }
        reader.skipWhitespace()
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipWhitespace()
        return reader.index == bytes.count ? value : nil
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        @inline(__always) var atEnd: Bool { index >= bytes.count }
        @inline(__always) var current: UInt8 { bytes[index] }

        @inline(__always) mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard !atEnd else { return nil }
            switch current {
            case UInt8(ascii: "{"): return object(depth: depth + 1)
            case UInt8(ascii: "["): return array(depth: depth + 1)
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil
            }
        }

        mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return nil }
            let start = word.utf8Start
            for k in 0..<count where bytes[index + k] != start[k] { return nil }
            index += count
            return value
        }

        mutating func object(depth: Int) -> JSONValue? {
            guard depth <= JSONText.maxDepth else { return nil }
            index += 1  // {
            var object = [String: JSONValue]()
            skipWhitespace()
            if !atEnd, current == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipWhitespace()
                guard !atEnd, current == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard !atEnd, current == UInt8(ascii: ":") else { return nil }
                index += 1
                skipWhitespace()
                guard let value = value(depth: depth) else { return nil }
                if object[key] == nil { object[key] = value }  // the first of duplicate keys is kept
                skipWhitespace()
                guard !atEnd else { return nil }
                if current == UInt8(ascii: "}") {
                    index += 1
                    return .object(object)
                }
                guard current == UInt8(ascii: ",") else { return nil }
                index += 1
                skipWhitespace()
                // A trailing comma is allowed.
                if !atEnd, current == UInt8(ascii: "}") {
                    index += 1
                    return .object(object)
                }
            }
        }

        mutating func array(depth: Int) -> JSONValue? {
            guard depth <= JSONText.maxDepth else { return nil }
            index += 1  // [
            var array = [JSONValue]()
            skipWhitespace()
            if !atEnd, current == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            while true {
                skipWhitespace()
                guard let value = value(depth: depth) else { return nil }
                array.append(value)
                skipWhitespace()
                guard !atEnd else { return nil }
                if current == UInt8(ascii: "]") {
                    index += 1
                    return .array(array)
                }
                guard current == UInt8(ascii: ",") else { return nil }
                index += 1
                skipWhitespace()
                if !atEnd, current == UInt8(ascii: "]") {
                    index += 1
                    return .array(array)
                }
            }
        }

        /// A string; `index` is at its opening quote.
        mutating func string() -> String? {
            index += 1
            let start = index
            var ascii = true
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    if ascii { return String(decoding: slice, as: UTF8.self) }
                    return String(validating: slice, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { return nil }
                if byte >= 0x80 { ascii = false }
                index += 1
            }
            guard index < bytes.count else { return nil }
            // With escapes: collect the bytes.
            var out = [UInt8]()
            out.reserveCapacity(index - start + 16)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hex4() else { return nil }
                        var scalar = UInt32(unit)
                        if unit >= 0xD800 && unit <= 0xDBFF {
                            // A high surrogate must be followed by an escaped low one.
                            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                            else { return nil }
                            index += 2
                            guard let low = hex4(), low >= 0xDC00 && low <= 0xDFFF else { return nil }
                            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        } else if unit >= 0xDC00 && unit <= 0xDFFF {
                            return nil
                        }
                        guard let value = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: value.utf8)
                    default:
                        return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    out.append(byte)
                    index += 1
                }
            }
            return nil
        }

        mutating func hex4() -> UInt16? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() -> JSONValue? {
            let start = index
            var negative = false
            if current == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            guard !atEnd, isDigit(current) else { return nil }
            if current == UInt8(ascii: "0") {
                index += 1
                if !atEnd, isDigit(current) { return nil }  // no leading zeros
            } else {
                while !atEnd, isDigit(current) { index += 1 }
            }
            var integral = true
            if !atEnd, current == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard !atEnd, isDigit(current) else { return nil }
                while !atEnd, isDigit(current) { index += 1 }
            }
            if !atEnd, current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                integral = false
                index += 1
                if !atEnd, current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard !atEnd, isDigit(current) else { return nil }
                while !atEnd, isDigit(current) { index += 1 }
            }
            if integral {
                // Accumulated as a negative number so Int.min fits.
                var value = 0
                var overflow = false
                for k in (negative ? start + 1 : start)..<index where !overflow {
                    let (times, o1) = value.multipliedReportingOverflow(by: 10)
                    let (plus, o2) = times.subtractingReportingOverflow(Int(bytes[k] &- UInt8(ascii: "0")))
                    value = plus
                    overflow = o1 || o2
                }
                if !overflow {
                    if negative { return .int(value) }
                    if value != Int.min { return .int(-value) }
                }
                // An integer that does not fit in Int is a Double (Foundation's Int decoding failed, Double did not).
                guard let double = Self.parseDouble(bytes, start, index) else { return nil }
                return .double(double)
            }
            guard let value = Self.parseDouble(bytes, start, index) else { return nil }
            // A whole number that fits is an Int (Foundation decoded `1.0` and `1e2` as Int).
            if value == value.rounded(), let int = Int(exactly: value) { return .int(int) }
            return .double(value)
        }

        static func parseDouble(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
            guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)), value.isFinite
            else { return nil }
            return value
        }

        @inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }

    // MARK: Writing

    /// Compact JSON with sorted keys; nil when a double is not finite (Foundation refused those).
    static func write(_ value: JSONValue) -> String? {
        var out = [UInt8]()
        out.reserveCapacity(256)
        guard write(value, to: &out) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    static func write(_ value: JSONValue, to out: inout [UInt8]) -> Bool {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): out.append(contentsOf: String(number).utf8)
        case .double(let number):
            guard number.isFinite else { return false }
            var text = number.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out.append(contentsOf: text.utf8)
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                guard write(item, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            // Sorted by code point (UTF-8 byte order is code point order), as Foundation's `.sortedKeys`.
            let keys = object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (k, key) in keys.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                guard write(object[key]!, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }

    static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex: StaticString = "0123456789abcdef"
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex.utf8Start[Int(byte >> 4)])
                out.append(hex.utf8Start[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
