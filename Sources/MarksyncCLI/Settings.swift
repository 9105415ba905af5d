import Foundation

/// Configuration values: command-line flags first, then the environment, then `.env`, then defaults
/// (the seed's names: `MARKSYNC_PORT`, `MARKSYNC_SERVER`, `OLLAMA_URL`, …, and `MARKSYNC_DB`,
/// `MARKSYNC_TOKENS`).
public struct Settings: Sendable {
    /// Values from the `.env` file.
    public var dotEnv: [String: String]
    /// The process environment.
    public var environment: [String: String]

    /// Reads `.env` from the current folder (missing is fine) and the environment.
    public init(dotEnvPath: String = ".env", environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        if let data = FileManager.default.contents(atPath: dotEnvPath), let text = String(data: data, encoding: .utf8) {
            dotEnv = Self.parseDotEnv(text)
        } else {
            dotEnv = [:]
        }
    }

    /// The value of a key: the environment wins over `.env`.
    public func value(_ key: String) -> String? {
        if let value = environment[key], !value.isEmpty { return value }
        return dotEnv[key]
    }

    /// An integer value, or `fallback` when missing or not a number.
    public func int(_ key: String, default fallback: Int) -> Int { value(key).flatMap { Int($0) } ?? fallback }

    /// The seed's `.env` rules: skip blank and `#` lines and lines without `=`; split at the first `=`;
    /// trim key and value; strip one pair of matching quotes. No `export`, escapes or interpolation.
    public static func parseDotEnv(_ text: String) -> [String: String] {
        var values = [String: String]()
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, let last = value.last, first == last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            if !key.isEmpty { values[key] = value }
        }
        return values
    }
}
