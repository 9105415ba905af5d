/// A value of lib0's `any` encoding (Yjs `ContentAny`: array elements and map values).
///
/// Numbers follow JavaScript: ``number(_:)`` picks the tag lib0's `writeAny` picks for a JS number
/// (an integer up to 2^31−1 in magnitude is a varInt, a float32-exact value a float32, anything else a
/// float64). The other numeric cases exist so that any encoded value can be read back exactly.
public indirect enum YjsAny: Sendable, Equatable, Hashable {
    case undefined
    case null
    /// Tag 125: a varInt.
    case integer(Int64)
    /// Tag 124: a big-endian float32.
    case float32(Float)
    /// Tag 123: a big-endian float64.
    case float64(Double)
    /// Tag 122: a big-endian signed 64-bit integer (a JS BigInt).
    case bigint(Int64)
    case bool(Bool)
    case string(String)
    /// Tag 118: keys in order (lib0 writes them in JS property order).
    case object([Field])
    case array([YjsAny])
    /// Tag 116: bytes.
    case bytes([UInt8])

    /// One key and value of an object.
    public struct Field: Sendable, Equatable, Hashable {
        public var key: String
        public var value: YjsAny
        public init(_ key: String, _ value: YjsAny) {
            self.key = key
            self.value = value
        }
    }

    /// A JavaScript number as lib0's `writeAny` encodes it.
    public static func number(_ value: Double) -> YjsAny {
        if value.rounded(.towardZero) == value, abs(value) <= 2_147_483_647, !(value == 0 && value.sign == .minus) {
            return .integer(Int64(value))
        }
        if !value.isNaN, Double(Float(value)) == value { return .float32(Float(value)) }
        return .float64(value)
    }

    /// An object from keys and values, in the given order.
    public static func object(_ pairs: KeyValuePairs<String, YjsAny>) -> YjsAny {
        .object(pairs.map { Field($0.key, $0.value) })
    }

    /// The value as a Double when it is a number.
    public var numberValue: Double? {
        switch self {
        case .integer(let value), .bigint(let value): Double(value)
        case .float32(let value): Double(value)
        case .float64(let value): value
        default: nil
        }
    }

    /// The string, when it is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value of a key, when this is an object that has it.
    public subscript(key: String) -> YjsAny? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }
}

extension YjsAny: CustomStringConvertible {
    /// JSON-like text (for messages and tests).
    public var description: String {
        switch self {
        case .undefined: "undefined"
        case .null: "null"
        case .integer(let value), .bigint(let value): String(value)
        case .float32(let value): String(value)
        case .float64(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .string(let value): "\"\(value)\""
        case .object(let fields): "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .bytes(let bytes): "<\(bytes.count) bytes>"
        }
    }
}
