/// lib0's binary encoding (`lib0/encoding.js`), as Yjs update format v1 and the y-protocols messages use it.
///
/// ```swift
/// var encoder = Lib0Encoder()
/// encoder.varUint(300)          // ac 02
/// encoder.varString("héllo 😀") // 0b 68 c3 a9 …
/// ```
public struct Lib0Encoder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func raw(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }

    /// An unsigned integer, 7 bits per byte, least significant group first (`writeVarUint`).
    public mutating func varUint(_ value: UInt64) {
        var value = value
        while value > 0x7f {
            bytes.append(0x80 | UInt8(truncatingIfNeeded: value))
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func varUint(_ value: Int) {
        precondition(value >= 0, "varUint of a negative number")
        varUint(UInt64(value))
    }

    public mutating func varUint(_ value: UInt32) { varUint(UInt64(value)) }

    /// A signed integer: continuation bit, sign bit and 6 value bits first, then 7-bit groups (`writeVarInt`).
    public mutating func varInt(_ value: Int64) {
        let negative = value < 0
        var magnitude = value.magnitude
        bytes.append((magnitude > 0x3f ? 0x80 : 0) | (negative ? 0x40 : 0) | UInt8(magnitude & 0x3f))
        magnitude >>= 6
        while magnitude > 0 {
            bytes.append((magnitude > 0x7f ? 0x80 : 0) | UInt8(magnitude & 0x7f))
            magnitude >>= 7
        }
    }

    /// UTF-8 bytes with their length first (`writeVarString`).
    public mutating func varString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varUint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// UTF-16 code units written as a varString (the units must not hold a lone surrogate).
    mutating func varString(utf16 units: ArraySlice<UInt16>) {
        var utf8 = [UInt8]()
        utf8.reserveCapacity(units.count)
        _ = transcode(units.makeIterator(), from: UTF16.self, to: UTF8.self, stoppingOnError: false) { utf8.append($0) }
        varUint(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// Bytes with their length first (`writeVarUint8Array`).
    public mutating func varUint8Array(_ data: some Collection<UInt8>) {
        varUint(data.count)
        bytes.append(contentsOf: data)
    }

    public mutating func float32(_ value: Float) {
        let bits = value.bitPattern
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    public mutating func float64(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    /// A value of lib0's `any` encoding (`writeAny`).
    public mutating func any(_ value: YjsAny) {
        switch value {
        case .undefined: byte(127)
        case .null: byte(126)
        case .integer(let number):
            byte(125)
            varInt(number)
        case .float32(let number):
            byte(124)
            float32(number)
        case .float64(let number):
            byte(123)
            float64(number)
        case .bigint(let number):
            byte(122)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: number >> Int64(shift))) }
        case .bool(let flag): byte(flag ? 120 : 121)
        case .string(let text):
            byte(119)
            varString(text)
        case .object(let fields):
            byte(118)
            varUint(fields.count)
            for field in fields {
                varString(field.key)
                any(field.value)
            }
        case .array(let values):
            byte(117)
            varUint(values.count)
            for element in values { any(element) }
        case .bytes(let data):
            byte(116)
            varUint8Array(data)
        }
    }
}

/// Reads lib0's binary encoding; every read checks bounds and throws ``YjsError`` (`truncated`,
/// `malformed`).
public struct Lib0Decoder: Sendable {
    private let bytes: [UInt8]
    /// The offset of the next byte to read.
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    /// True when every byte was read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// How many bytes are left.
    public var remaining: Int { bytes.count - offset }

    public mutating func byte() throws(YjsError) -> UInt8 {
        guard offset < bytes.count else { throw YjsError("truncated", "the message ends early (byte \(offset))") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A varUint of up to 64 bits (JS readers stop at 2^53).
    public mutating func varUint() throws(YjsError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            let next = try byte()
            guard shift < 64 else { throw YjsError("malformed", "a varUint at byte \(start) is too long") }
            result |= UInt64(next & 0x7f) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A varUint that must fit in `Int` and stay below `limit`.
    public mutating func varUintInt(limit: Int = Int(Int32.max)) throws(YjsError) -> Int {
        let start = offset
        let value = try varUint()
        guard value <= UInt64(limit) else { throw YjsError("malformed", "the number at byte \(start) is too large (\(value))") }
        return Int(value)
    }

    public mutating func varInt() throws(YjsError) -> Int64 {
        let start = offset
        var next = try byte()
        let negative = next & 0x40 != 0
        var magnitude = UInt64(next & 0x3f)
        var shift: UInt64 = 6
        while next & 0x80 != 0 {
            next = try byte()
            guard shift < 63 else { throw YjsError("malformed", "a varInt at byte \(start) is too long") }
            magnitude |= UInt64(next & 0x7f) << shift
            shift += 7
        }
        guard magnitude <= UInt64(Int64.max) else { throw YjsError("malformed", "a varInt at byte \(start) is too large") }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    public mutating func raw(_ count: Int) throws(YjsError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw YjsError("truncated", "the message ends early (\(count) bytes at \(offset))") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func varUint8Array() throws(YjsError) -> [UInt8] {
        let count = try varUintInt(limit: remaining)
        return Array(try raw(count))
    }

    public mutating func varString() throws(YjsError) -> String {
        let start = offset
        let count = try varUintInt(limit: remaining)
        let slice = try raw(count)
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw YjsError("malformed", "the string at byte \(start) is not UTF-8")
        }
        return text
    }

    /// A varString as UTF-16 code units, with its number of code points.
    mutating func varStringUTF16() throws(YjsError) -> (units: [UInt16], scalars: Int) {
        let start = offset
        let count = try varUintInt(limit: remaining)
        let slice = try raw(count)
        var units = [UInt16]()
        units.reserveCapacity(count)
        var scalars = 0
        var utf8 = UTF8()
        var iterator = slice.makeIterator()
        while true {
            switch utf8.decode(&iterator) {
            case .scalarValue(let scalar):
                scalars += 1
                if scalar.value <= 0xFFFF {
                    units.append(UInt16(scalar.value))
                } else {
                    units.append(UTF16.leadSurrogate(scalar))
                    units.append(UTF16.trailSurrogate(scalar))
                }
            case .emptyInput:
                return (units, scalars)
            case .error:
                throw YjsError("malformed", "the string at byte \(start) is not UTF-8")
            }
        }
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    public mutating func float32() throws(YjsError) -> Float {
        var bits: UInt32 = 0
        for value in try raw(4) { bits = bits << 8 | UInt32(value) }
        return Float(bitPattern: bits)
    }

    public mutating func float64() throws(YjsError) -> Double {
        var bits: UInt64 = 0
        for value in try raw(8) { bits = bits << 8 | UInt64(value) }
        return Double(bitPattern: bits)
    }

    /// A value of lib0's `any` encoding; nesting deeper than `depth` is refused.
    public mutating func any(depth: Int = 64) throws(YjsError) -> YjsAny {
        guard depth > 0 else { throw YjsError("malformed", "an any value nests too deeply") }
        let start = offset
        switch try byte() {
        case 127: return .undefined
        case 126: return .null
        case 125: return .integer(try varInt())
        case 124: return .float32(try float32())
        case 123: return .float64(try float64())
        case 122:
            var bits: UInt64 = 0
            for value in try raw(8) { bits = bits << 8 | UInt64(value) }
            return .bigint(Int64(bitPattern: bits))
        case 121: return .bool(false)
        case 120: return .bool(true)
        case 119: return .string(try varString())
        case 118:
            let count = try varUintInt(limit: remaining)
            var fields = [YjsAny.Field]()
            for _ in 0..<count { fields.append(YjsAny.Field(try varString(), try any(depth: depth - 1))) }
            return .object(fields)
        case 117:
            let count = try varUintInt(limit: remaining)
            var values = [YjsAny]()
            for _ in 0..<count { values.append(try any(depth: depth - 1)) }
            return .array(values)
        case 116: return .bytes(try varUint8Array())
        case let tag: throw YjsError("malformed", "unknown any tag \(tag) at byte \(start)")
        }
    }
}
