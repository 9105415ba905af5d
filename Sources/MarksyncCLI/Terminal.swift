import ArgumentParser
import Foundation

/// `--color`'s values.
enum ColorMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, always, never
}

/// `--color`, `--no-pager` and `--utc`, shared by the history commands that print for people.
struct DisplayOptions: ParsableArguments {
    init() {}

    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorMode = .auto

    @Flag(help: "Never send the output through a pager ($PAGER, default less -FRX).")
    var noPager = false

    @Flag(help: "Times in UTC instead of the local time zone.")
    var utc = false

    /// The colours for standard output.
    var style: Style {
        Style(enabled: Style.shouldColor(mode: color, isTerminal: Console.capture == nil && isatty(1) == 1, environment: ProcessInfo.processInfo.environment))
    }

    /// The time format.
    var times: TimeFormat { TimeFormat(utc: utc) }

    /// Starts the pager when standard output is a terminal (and paging is not turned off); call
    /// ``Pager/finish()`` when the output is written.
    func startPager() -> Pager? {
        guard !noPager, Console.capture == nil, isatty(1) == 1 else { return nil }
        return Pager.start(environment: ProcessInfo.processInfo.environment)
    }
}

/// ANSI colours, or nothing.
struct Style: Sendable {
    var enabled: Bool

    /// Whether to colour: `always`/`never` decide; `auto` colours a terminal unless `NO_COLOR` is set (to
    /// anything non-empty) or `TERM` is `dumb`.
    static func shouldColor(mode: ColorMode, isTerminal: Bool, environment: [String: String]) -> Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
            if environment["TERM"] == "dumb" { return false }
            return isTerminal
        }
    }

    enum Colour: String {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case blue = "34"
        case magenta = "35"
        case cyan = "36"
        case bold = "1"
        case dim = "2"
    }

    /// The text in a colour (unchanged when colours are off).
    func paint(_ text: String, _ colour: Colour) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// A unified diff with `+` lines green, `-` lines red, `@@` lines cyan and headers bold.
    func diff(_ text: String) -> String {
        guard enabled else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("+++") || line.hasPrefix("---") { return paint(String(line), .bold) }
            if line.hasPrefix("@@") { return paint(String(line), .cyan) }
            if line.hasPrefix("+") { return paint(String(line), .green) }
            if line.hasPrefix("-") { return paint(String(line), .red) }
            return String(line)
        }.joined(separator: "\n")
    }
}

/// Times as `2026-12-08 01:25:03 +0100` (the local zone) or `2026-12-08 00:25:03 +0000` (`--utc`).
struct TimeFormat: @unchecked Sendable {
    private let formatter: DateFormatter

    init(utc: Bool, zone: TimeZone = .current) {
        formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = utc ? TimeZone(identifier: "UTC") : zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xx"
    }

    func string(_ ms: Int64) -> String { formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)) }
}

/// Output through `$PAGER` (default `less -FRX`), as git does: standard output is redirected into the
/// pager's input until ``finish()``. Only started on a terminal, so pipes and tests see plain output.
final class Pager {
    private let process: Process
    private let savedStdout: Int32

    private init(process: Process, savedStdout: Int32) {
        self.process = process
        self.savedStdout = savedStdout
    }

    /// The pager command: `MARKSYNC_PAGER`, then `PAGER`, then `less -FRX`; nil when it is empty or `cat`.
    static func command(environment: [String: String]) -> String? {
        let command = environment["MARKSYNC_PAGER"] ?? environment["PAGER"] ?? "less -FRX"
        let trimmed = command.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "cat" ? nil : trimmed
    }

    static func start(environment: [String: String]) -> Pager? {
        guard let command = command(environment: environment) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var env = environment
        if env["LESS"] == nil { env["LESS"] = "FRX" }
        process.environment = env
        let pipe = Pipe()
        process.standardInput = pipe
        do { try process.run() } catch { return nil }
        fflush(nil)
        let saved = dup(1)
        guard saved >= 0, dup2(pipe.fileHandleForWriting.fileDescriptor, 1) >= 0 else { return nil }
        try? pipe.fileHandleForWriting.close()
        // Quitting the pager early must not kill this process.
        signal(SIGPIPE, SIG_IGN)
        return Pager(process: process, savedStdout: saved)
    }

    /// Ends the output: the pager sees the end of its input; waits until the user quits it.
    func finish() {
        fflush(nil)
        dup2(savedStdout, 1)
        close(savedStdout)
        process.waitUntilExit()
    }
}
