import Foundation
import Synchronization

/// Where commands write. Normally standard output and standard error; tests install a ``Console/Capture``
/// with `Console.$capture.withValue(…)` to run commands in-process and read what they printed.
public enum Console {
    /// Collected output of commands run in-process.
    public final class Capture: Sendable {
        private let buffers = Mutex<(out: String, err: String)>(("", ""))
        public init() {}
        /// Everything written to standard output.
        public var standardOutput: String { buffers.withLock { $0.out } }
        /// Everything written to standard error.
        public var standardError: String { buffers.withLock { $0.err } }
        func write(_ text: String, error: Bool) {
            buffers.withLock { if error { $0.err += text } else { $0.out += text } }
        }
    }

    /// The capture in force for this task, if any.
    @TaskLocal public static var capture: Capture?

    /// Writes a line to standard output.
    static func out(_ line: String) {
        if let capture { capture.write(line + "\n", error: false) } else { print(line) }
    }

    /// Writes text as it is to standard output.
    static func write(_ text: String) {
        if let capture { capture.write(text, error: false) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
    }

    /// Writes progress text to standard error as it is (no newline; in-process runs capture it too).
    static func progress(_ text: String) {
        if let capture { capture.write(text, error: true) } else { FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// Writes a line to standard error.
    static func err(_ line: String) {
        if let capture {
            capture.write(line + "\n", error: true)
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

/// Writes a line to standard error.
func printError(_ message: String) { Console.err(message) }

/// Encodes a value as pretty, key-sorted JSON text.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Reads a text file, with an error that says what to do.
func readTextFile(_ path: String, what: String = "file") throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CLIError.failure("cannot read \(path): no such \(what). Pass the path of an existing Markpact README.")
    }
    guard !isDirectory.boolValue else {
        throw CLIError.failure("\(path) is a folder; pass the README.md inside it (e.g. \(path)/README.md).")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError.failure("cannot read \(path): permission denied or unreadable.")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw CLIError.failure("\(path) is not UTF-8 text; Markpact READMEs must be UTF-8.")
    }
    return text
}

/// Pads a string on the right to a width (in characters).
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Pads a string on the left to a width (in characters).
func leftPadded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
