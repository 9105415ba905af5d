import MarksyncCore

/// One parsed DSL line (the seed's grammar, seed-marksync.md §4).
public struct DSLCommand: Sendable, Equatable {
    /// The commands. Verbs are case-insensitive in the input.
    public enum Verb: String, Sendable, CaseIterable {
        case agent = "AGENT", kill = "KILL", list = "LIST", pipe = "PIPE", route = "ROUTE", set = "SET", status = "STATUS"
        case send = "SEND", deploy = "DEPLOY", sync = "SYNC", connect = "CONNECT", disconnect = "DISCONNECT", load = "LOAD"
        case save = "SAVE", log = "LOG", help = "HELP"
    }

    public var verb: Verb
    /// Positional arguments (strings, never coerced). For `PIPE`: the name; for `ROUTE`: pattern and agent.
    public var args: [String]
    /// `--key value`, `--key=value` and `--flag` options; keys have `-` turned into `_`.
    public var options: [String: DSLValue]
    /// The stages of a `PIPE`.
    public var stages: [String]
    /// The line as written.
    public var raw: String

    public init(verb: Verb, args: [String] = [], options: [String: DSLValue] = [:], stages: [String] = [], raw: String = "") {
        self.verb = verb
        self.args = args
        self.options = options
        self.stages = stages
        self.raw = raw
    }

    /// The first argument, or "" (the seed's `target`).
    public var target: String { args.first ?? "" }
    /// The second argument, or "" (the seed's `value`).
    public var value: String { args.count > 1 ? args[1] : "" }
}

/// An option value, coerced as the seed does: `true|yes|on` and `false|no|off` (any case) are booleans,
/// then integers, then decimals, else the text.
public enum DSLValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    /// Coerces option text.
    public init(coercing text: String) {
        switch text.lowercased() {
        case "true", "yes", "on": self = .bool(true)
        case "false", "no", "off": self = .bool(false)
        default:
            if let int = Int(text) {
                self = .int(int)
            } else if let double = Double(text), !text.lowercased().contains("n") {  // not "nan", "inf(inity)"
                self = .double(double)
            } else {
                self = .string(text)
            }
        }
    }

    /// The value as text (what `SET` and scripts see).
    public var description: String {
        switch self {
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): value
        }
    }

    /// The value as JSON.
    public var json: JSONValue {
        switch self {
        case .bool(let value): .bool(value)
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        }
    }

    /// A yes/no reading of the value (`--auto-edit`, `--auto-edit=false`, `--auto-edit 0`).
    public var isTrue: Bool {
        switch self {
        case .bool(let value): value
        case .int(let value): value != 0
        case .double(let value): value != 0
        case .string(let value): !value.isEmpty
        }
    }
}

/// A line the parser cannot read: where (1-based line and column) and what was expected.
public struct DSLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line in a script (nil for a single command).
    public var line: Int?
    /// The 1-based column of the offending character or word.
    public var column: Int
    public var message: String

    public init(line: Int? = nil, column: Int, _ message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        (line.map { "line \($0), " } ?? "") + "column \(column): \(message)"
    }
}
