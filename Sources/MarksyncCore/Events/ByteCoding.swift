/// Appends compact binary fields: LEB128 varints, zigzag integers, length-prefixed bytes and strings.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func varint(_ value: Int) { varint(UInt64(bitPattern: Int64(value))) }

    /// A signed integer, zigzag-encoded so small negative numbers stay short.
    public mutating func zigzag(_ value: Int) {
        let v = Int64(value)
        varint((UInt64(bitPattern: v) << 1) ^ UInt64(bitPattern: v >> 63))
    }

    public mutating func raw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    public mutating func lengthPrefixed(_ data: some Collection<UInt8>) {
        varint(data.count)
        bytes.append(contentsOf: data)
    }

    public mutating func string(_ value: String) { lengthPrefixed(value.utf8) }

    public mutating func optionalString(_ value: String?) {
        if let value {
            byte(1)
            string(value)
        } else {
            byte(0)
        }
    }
}

/// Why binary data could not be read.
public struct ByteReaderError: Error, Equatable, CustomStringConvertible {
    /// What was being read.
    public var field: String
    /// The offset where reading failed.
    public var offset: Int
    public var description: String { "damaged data: cannot read \(field) at byte \(offset)" }
}

/// Reads what ``ByteWriter`` wrote; every read checks bounds and throws ``ByteReaderError``.
public struct ByteReader {
    private let bytes: [UInt8]
    /// The offset of the next byte to read.
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// True when every byte was read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// How many bytes are left to read.
    public var remaining: Int { bytes.count - offset }

    public mutating func byte(_ field: String = "byte") throws(ByteReaderError) -> UInt8 {
        guard offset < bytes.count else { throw ByteReaderError(field: field, offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func varint64(_ field: String = "integer") throws(ByteReaderError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < bytes.count, shift < 64 else { throw ByteReaderError(field: field, offset: start) }
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A non-negative varint that fits in `Int`.
    public mutating func varint(_ field: String = "integer") throws(ByteReaderError) -> Int {
        let start = offset
        let value = try varint64(field)
        guard value <= UInt64(Int.max) else { throw ByteReaderError(field: field, offset: start) }
        return Int(value)
    }

    public mutating func zigzag(_ field: String = "integer") throws(ByteReaderError) -> Int {
        let raw = try varint64(field)
        return Int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
    }

    public mutating func raw(count: Int, _ field: String = "bytes") throws(ByteReaderError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw ByteReaderError(field: field, offset: offset) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func lengthPrefixed(_ field: String = "bytes") throws(ByteReaderError) -> ArraySlice<UInt8> {
        let count = try varint(field)
        return try raw(count: count, field)
    }

    public mutating func string(_ field: String = "text") throws(ByteReaderError) -> String {
        let start = offset
        let slice = try lengthPrefixed(field)
        guard let text = String(validating: slice, as: UTF8.self) else { throw ByteReaderError(field: field, offset: start) }
        return text
    }

    public mutating func optionalString(_ field: String = "text") throws(ByteReaderError) -> String? {
        switch try byte(field) {
        case 0: return nil
        case 1: return try string(field)
        default: throw ByteReaderError(field: field, offset: offset - 1)
        }
    }

    /// Everything not read yet.
    public mutating func rest() -> ArraySlice<UInt8> {
        defer { offset = bytes.count }
        return bytes[offset...]
    }
}

/// Strict UTF-8 to code points.
enum UTF8Scalars {
    static func decode(_ bytes: ArraySlice<UInt8>) -> [UInt32]? {
        var out = [UInt32]()
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b0 = UInt32(bytes[i])
            if b0 < 0x80 {
                out.append(b0)
                i += 1
                continue
            }
            let count: Int
            var value: UInt32
            switch b0 {
            case 0xC2...0xDF: (count, value) = (2, b0 & 0x1F)
            case 0xE0...0xEF: (count, value) = (3, b0 & 0x0F)
            case 0xF0...0xF4: (count, value) = (4, b0 & 0x07)
            default: return nil
            }
            guard i + count <= bytes.endIndex else { return nil }
            for k in 1..<count {
                let b = UInt32(bytes[i + k])
                guard b & 0xC0 == 0x80 else { return nil }
                value = value << 6 | (b & 0x3F)
            }
            // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
            let minimum: UInt32 = count == 2 ? 0x80 : (count == 3 ? 0x800 : 0x10000)
            guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return nil }
            out.append(value)
            i += count
        }
        return out
    }
}
