// A port of Google's diff-match-patch (https://github.com/google/diff-match-patch),
// following the behaviour of the Python 3 package `diff-match-patch` 20241021 exactly:
// positions and lengths are counted in Unicode code points (Python `str` indices),
// patch text is percent-encoded the way `urllib.parse.quote` does it, and the Python
// port's quirks are kept (they are listed in the doc comments where they matter).
//
// Texts are arrays of code points (`[UInt32]`). Plain `Unicode.Scalar` cannot be used
// because `diffLinesToChars` maps lines to "characters" that may fall in the surrogate
// range 0xD800–0xDFFF, which Python strings allow.

/// The diff, match and patch algorithms with their settings.
///
/// All settings default to the values of the Python package. The type is a plain value:
/// copy it and change a setting to get a differently tuned instance.
public struct DiffMatchPatch: Sendable {
    /// Number of seconds to map a diff before giving up (0 or less for no limit).
    public var diffTimeout: Double = 1.0
    /// Cost of an empty edit operation in terms of edit characters.
    public var diffEditCost: Int = 4
    /// At what point no match is declared (0.0 = perfection, 1.0 = very loose).
    public var matchThreshold: Double = 0.5
    /// How far to search for a match (0 = exact location, 1000+ = broad match).
    /// A match this many characters away from the expected location adds 1.0 to the score.
    public var matchDistance: Int = 1000
    /// When deleting a large block of text (over ~64 characters), how close the contents
    /// have to be to the expected contents (0.0 = perfection, 1.0 = very loose).
    public var patchDeleteThreshold: Double = 0.5
    /// Chunk size for context length.
    public var patchMargin: Int = 4
    /// The number of bits in a bitap pattern (Python: 32; 0 disables patch splitting).
    public var matchMaxBits: Int = 32

    /// Creates an instance with the Python package's default settings.
    public init() {}

    /// The largest number a hunk header of a patch text may carry (2^28 = 268,435,456); larger ones are
    /// refused by ``patchFromText(_:)`` with ``PatchTextError/Reason/numberTooLarge`` (Python accepts any
    /// size). Patch text comes from clients, and a start or length near `Int.max` made the padding, drift
    /// and context sums of `patch_apply` overflow, which traps. With every number at most 2^28, no sum of a
    /// few of them comes near `Int.max`.
    ///
    /// Why 2^28: a hunk's lengths count its own body, which the text carries (at least a byte per code
    /// point), and the client's WebSocket frame limit is 2^28 bytes (the server's is far lower); a start
    /// past 2^28 would mean a block of more than 2^28 code points, 1 GiB as the `[UInt32]` the server keeps
    /// it in. Valid patches of real documents stay far below it (the Python golden vectors go up to ~3,000).
    public static let maxPatchNumber = 1 << 28
}

/// The kind of one diff operation.
public enum DiffOperation: Sendable, Hashable {
    /// Text present only in the old text.
    case delete
    /// Text present only in the new text.
    case insert
    /// Text present in both texts.
    case equal

    /// The value Python uses for the operation (`-1`, `1`, `0`).
    public var pythonValue: Int {
        switch self {
        case .delete: -1
        case .insert: 1
        case .equal: 0
        }
    }

    /// The operation for a Python value (`-1`, `0`, `1`), or nil for any other number.
    public init?(pythonValue: Int) {
        switch pythonValue {
        case -1: self = .delete
        case 1: self = .insert
        case 0: self = .equal
        default: return nil
        }
    }
}

/// One diff operation: an operation and the code points it applies to.
public struct Diff: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// What happens to `text`.
    public var operation: DiffOperation
    /// The text, as Unicode code points.
    public var text: [UInt32]

    /// Creates a diff from code points.
    public init(_ operation: DiffOperation, _ text: [UInt32]) {
        self.operation = operation
        self.text = text
    }

    /// Creates a diff from a string (its Unicode scalars).
    public init(_ operation: DiffOperation, _ string: String) {
        self.operation = operation
        self.text = DMPCodePoints.from(string)
    }

    /// The text as a string; code points that are not valid scalars become U+FFFD.
    public var string: String { DMPCodePoints.string(text) }

    /// A debugging description such as `Diff(.insert, "abc")`.
    public var description: String {
        let op: String
        switch operation {
        case .delete: op = ".delete"
        case .insert: op = ".insert"
        case .equal: op = ".equal"
        }
        return "Diff(\(op), \(string.debugDescription))"
    }
}

/// One patch hunk: diffs plus the coordinates of the region they apply to.
///
/// `start1`/`length1` locate the hunk in the old text, `start2`/`length2` in the new text,
/// both 0-based and in code points, as in Python's `patch_obj`.
public struct Patch: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The diffs of the hunk, context included.
    public var diffs: [Diff]
    /// Start of the hunk in the old text.
    public var start1: Int
    /// Start of the hunk in the new text.
    public var start2: Int
    /// Length of the hunk in the old text.
    public var length1: Int
    /// Length of the hunk in the new text.
    public var length2: Int

    /// Creates a patch.
    public init(diffs: [Diff] = [], start1: Int = 0, start2: Int = 0, length1: Int = 0, length2: Int = 0) {
        self.diffs = diffs
        self.start1 = start1
        self.start2 = start2
        self.length1 = length1
        self.length2 = length2
    }

    /// The patch in GNU diff-like text form, exactly as Python's `str(patch_obj)`.
    public var description: String {
        var out = [UInt8]()
        DMPPatchText.append(self, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why a patch text could not be parsed by ``DiffMatchPatch/patchFromText(_:)``.
public struct PatchTextError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public enum Reason: Equatable, Hashable, Sendable {
        /// A line where a hunk header (`@@ -a,b +c,d @@`) was expected does not match the header syntax.
        case invalidHeader
        /// A body line starts with a character other than `+`, `-`, space or `@`.
        case invalidMode
        /// A number in a header is larger than ``DiffMatchPatch/maxPatchNumber`` (Python would accept it).
        case numberTooLarge
    }

    /// The kind of problem.
    public let reason: Reason
    /// The 1-based number of the offending line in the patch text.
    public let lineNumber: Int
    /// The offending line, as it appears in the patch text.
    public let line: String

    /// Creates an error.
    public init(reason: Reason, lineNumber: Int, line: String) {
        self.reason = reason
        self.lineNumber = lineNumber
        self.line = line
    }

    /// A message telling what is wrong and where (Python's message plus the line number).
    public var message: String {
        switch reason {
        case .invalidHeader:
            return "Invalid patch string (line \(lineNumber)): \(line)"
        case .invalidMode:
            let sign = line.unicodeScalars.first.map { String($0) } ?? ""
            return "Invalid patch mode (line \(lineNumber)): '\(sign)' in line: \(line)"
        case .numberTooLarge:
            return "Number too large in patch header (line \(lineNumber)): \(line)"
        }
    }

    /// Same as ``message``.
    public var description: String { message }
}

/// Why a delta could not be decoded by ``DiffMatchPatch/diffFromDelta(_:_:)``.
public struct DiffDeltaError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public enum Reason: Equatable, Hashable, Sendable {
        /// The count after `-` or `=` is not an integer.
        case invalidNumber
        /// The count after `-` or `=` is negative.
        case negativeNumber
        /// A token starts with something other than `+`, `-` or `=`.
        case invalidOperation
        /// A count ends (or a later one starts) inside a UTF-16 surrogate pair of the source text.
        case splitSurrogatePair
        /// The counts do not add up to the UTF-16 length of the source text.
        case lengthMismatch
    }

    /// The kind of problem.
    public let reason: Reason
    /// A message in the words of the Python implementation.
    public let message: String

    /// Creates an error.
    public init(reason: Reason, message: String) {
        self.reason = reason
        self.message = message
    }

    /// Same as ``message``.
    public var description: String { message }
}

/// Conversions between strings and code point arrays.
enum DMPCodePoints {
    /// The Unicode scalars of a string as code points.
    static func from(_ string: String) -> [UInt32] {
        var result = [UInt32]()
        result.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars { result.append(scalar.value) }
        return result
    }

    /// A string from code points; values that are not Unicode scalars become U+FFFD.
    static func string(_ codePoints: some Collection<UInt32>) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(codePoints.count)
        for value in codePoints { DMPUTF8.append(value, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
