#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import Synchronization

/// A small line editor for a terminal, in the spirit of readline/linenoise.
///
/// On a terminal it puts the input in raw mode while a line is read (output processing stays on, so lines
/// printed by other threads still end in CR LF) and restores it after each line, at exit, and before
/// stopping on Ctrl-Z. Keys:
///
/// | key | does |
/// | --- | --- |
/// | printable text (UTF-8) | inserted at the cursor |
/// | Backspace / Ctrl-H, Delete | delete before / at the cursor |
/// | Left / Ctrl-B, Right / Ctrl-F | move the cursor |
/// | Home / Ctrl-A, End / Ctrl-E | start / end of the line |
/// | Ctrl-U, Ctrl-K, Ctrl-W | delete to the start, to the end, the word before the cursor |
/// | Up / Ctrl-P, Down / Ctrl-N | walk through the history |
/// | Tab | complete the word at the cursor (the first word from ``Completions/first``, later ones from ``Completions/rest``) |
/// | Ctrl-C | abandon the line, start a new one |
/// | Ctrl-D | on an empty line: end of input; else delete at the cursor |
/// | Ctrl-L | clear the screen |
/// | Ctrl-Z | restore the terminal and stop; raw mode again on `fg` |
///
/// When the input is not a terminal it reads plain lines (no prompt, no echo handling), so scripts and
/// pipes work. History (terminal only) is loaded from ``Configuration/historyPath`` at start (its last
/// ``Configuration/historyLimit`` lines) and every entered line is appended to it at once.
///
/// A `LineEditor` is a value owned by one thread: ``LineReader`` runs it on a dedicated thread.
struct LineEditor {
    /// Where to read and write, and the history file.
    struct Configuration: Sendable {
        var input: Int32 = STDIN_FILENO
        var output: Int32 = STDOUT_FILENO
        /// The history file; nil keeps history in memory only.
        var historyPath: String?
        /// The most history lines kept (in memory and in the file).
        var historyLimit = 500
    }

    /// Words offered by Tab.
    struct Completions: Sendable {
        /// For the first word of the line (commands).
        var first: [String] = []
        /// For the other words (roles, agent names, options, …).
        var rest: [String] = []
    }

    let configuration: Configuration
    /// Whether the input is a terminal (then the line is edited; else plain lines are read).
    let interactive: Bool
    /// Entered lines, oldest first.
    private(set) var history: [String] = []

    // Input buffer (bytes read but not yet used).
    private var pending: [UInt8] = []
    private var pendingIndex = 0
    private var endOfInput = false

    // The line being edited.
    private var prompt = ""
    private var buffer: [Character] = []
    private var cursor = 0
    private var scroll = 0
    private var historyIndex = 0
    private var draft: [Character] = []
    private var lastKeyWasTab = false

    init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        interactive = isatty(configuration.input) == 1
        if interactive, let path = configuration.historyPath { history = Self.loadHistory(path, limit: configuration.historyLimit) }
    }

    // MARK: - Reading a line

    /// Reads one line (without its newline); nil at the end of input (Ctrl-D on an empty line, or the input
    /// closed). On a terminal the prompt is shown and the line edited; a non-empty line joins the history.
    mutating func readLine(prompt: String, completions: Completions = Completions()) -> String? {
        guard interactive, TerminalMode.enterRaw(configuration.input) else { return readPlainLine() }
        defer { TerminalMode.restore() }
        self.prompt = prompt
        buffer = []
        cursor = 0
        scroll = 0
        historyIndex = history.count
        draft = []
        lastKeyWasTab = false
        fflush(nil)
        emit(prompt)
        while true {
            guard let byte = nextByte() else {
                // The terminal went away: what was typed is the last line.
                emit("\r\n")
                return buffer.isEmpty ? nil : enter()
            }
            let wasTab = lastKeyWasTab
            lastKeyWasTab = false
            switch byte {
            case 13, 10:
                emit("\r\n")
                return enter()
            case 3:  // Ctrl-C
                emit("^C\r\n")
                buffer = []
                cursor = 0
                scroll = 0
                historyIndex = history.count
                emit(prompt)
            case 4:  // Ctrl-D
                if buffer.isEmpty {
                    emit("\r\n")
                    return nil
                }
                deleteAtCursor()
            case 127, 8: backspace()
            case 1: move(to: 0)
            case 5: move(to: buffer.count)
            case 2: move(to: cursor - 1)
            case 6: move(to: cursor + 1)
            case 11:  // Ctrl-K
                buffer.removeSubrange(cursor...)
                refresh()
            case 21:  // Ctrl-U
                buffer.removeSubrange(..<cursor)
                cursor = 0
                refresh()
            case 23: deleteWordBefore()
            case 12:  // Ctrl-L
                emit("\u{1B}[H\u{1B}[2J")
                refresh()
            case 16: recall(-1)
            case 14: recall(1)
            case 9:
                complete(completions, listing: wasTab)
                lastKeyWasTab = true
            case 26: suspend()
            case 27: escapeSequence()
            case 0..<32: break
            default: insert(byte)
            }
        }
    }

    /// A line from a pipe or file: bytes up to a newline (a CR before it dropped); nil at the end.
    private mutating func readPlainLine() -> String? {
        var bytes = [UInt8]()
        while let byte = nextByte() {
            if byte == 10 {
                if bytes.last == 13 { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.append(byte)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// The line is done: it joins the history (when new) and is returned.
    private mutating func enter() -> String {
        let line = String(buffer)
        addToHistory(line)
        return line
    }

    // MARK: - Editing

    private mutating func insert(_ lead: UInt8) {
        var bytes = [lead]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        while bytes.count < length, let next = nextByte(waitingMilliseconds: 100) {
            guard next & 0xC0 == 0x80 else {
                unread()
                break
            }
            bytes.append(next)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let atEnd = cursor == buffer.count
        for character in text {
            buffer.insert(character, at: cursor)
            cursor += 1
        }
        if atEnd, fits() {
            emit(text)
        } else {
            refresh()
        }
    }

    private mutating func backspace() {
        guard cursor > 0 else { return }
        cursor -= 1
        buffer.remove(at: cursor)
        refresh()
    }

    private mutating func deleteAtCursor() {
        guard cursor < buffer.count else { return }
        buffer.remove(at: cursor)
        refresh()
    }

    private mutating func deleteWordBefore() {
        let start = wordStart()
        buffer.removeSubrange(start..<cursor)
        cursor = start
        refresh()
    }

    /// Where the word before the cursor starts (spaces before the cursor skipped first).
    private func wordStart() -> Int {
        var start = cursor
        while start > 0, buffer[start - 1] == " " { start -= 1 }
        while start > 0, buffer[start - 1] != " " { start -= 1 }
        return start
    }

    /// Where the word after the cursor ends (spaces after the cursor skipped first).
    private func wordEnd() -> Int {
        var end = cursor
        while end < buffer.count, buffer[end] == " " { end += 1 }
        while end < buffer.count, buffer[end] != " " { end += 1 }
        return end
    }

    private mutating func move(to position: Int) {
        let clamped = min(max(position, 0), buffer.count)
        guard clamped != cursor else { return }
        cursor = clamped
        refresh()
    }

    /// Up (`-1`) or down (`1`) through the history; below the newest entry is the line being typed.
    private mutating func recall(_ step: Int) {
        let target = historyIndex + step
        guard target >= 0, target <= history.count, target != historyIndex else { return }
        if historyIndex == history.count { draft = buffer }
        historyIndex = target
        buffer = target == history.count ? draft : Array(history[target])
        cursor = buffer.count
        refresh()
    }

    /// ESC sequences: arrows, Home/End, Delete (CSI and SS3 forms), Alt-B/Alt-F. A lone ESC is ignored.
    private mutating func escapeSequence() {
        guard let kind = nextByte(waitingMilliseconds: 50) else { return }
        switch kind {
        case UInt8(ascii: "["):
            var parameter = [UInt8]()
            var final: UInt8 = 0
            while let byte = nextByte(waitingMilliseconds: 50) {
                if (0x40...0x7E).contains(byte) {
                    final = byte
                    break
                }
                parameter.append(byte)
            }
            guard final == UInt8(ascii: "~") else { return cursorKey(final) }
            switch Int(String(decoding: parameter, as: UTF8.self).split(separator: ";").first ?? "") ?? 0 {
            case 1, 7: move(to: 0)
            case 4, 8: move(to: buffer.count)
            case 3: deleteAtCursor()
            default: break
            }
        case UInt8(ascii: "O"):
            if let key = nextByte(waitingMilliseconds: 50) { cursorKey(key) }
        case UInt8(ascii: "b"): move(to: wordStart())
        case UInt8(ascii: "f"): move(to: wordEnd())
        default:
            break
        }
    }

    /// The last letter of an arrow, Home or End key (`ESC [ A`, `ESC O H`, …).
    private mutating func cursorKey(_ letter: UInt8) {
        switch letter {
        case UInt8(ascii: "A"): recall(-1)
        case UInt8(ascii: "B"): recall(1)
        case UInt8(ascii: "C"): move(to: cursor + 1)
        case UInt8(ascii: "D"): move(to: cursor - 1)
        case UInt8(ascii: "H"): move(to: 0)
        case UInt8(ascii: "F"): move(to: buffer.count)
        default: break
        }
    }

    /// Ctrl-Z: the terminal is restored and the process stopped as a shell expects; on `fg` it is raw again.
    private mutating func suspend() {
        TerminalMode.restore()
        emit("\r\n")
        kill(getpid(), SIGTSTP)
        _ = TerminalMode.enterRaw(configuration.input)
        refresh()
    }

    // MARK: - Completion

    /// Completes the word before the cursor: a single match is inserted with a space after it; several
    /// are extended to their common prefix, and listed on a second Tab (or at once when that adds nothing).
    private mutating func complete(_ completions: Completions, listing: Bool) {
        var start = cursor
        while start > 0, buffer[start - 1] != " " { start -= 1 }
        let prefix = String(buffer[start..<cursor])
        let isFirst = buffer[..<start].allSatisfy { $0 == " " }
        var candidates = isFirst ? completions.first : completions.rest
        // Commands are case-insensitive: follow the case the user started with.
        if isFirst, !prefix.isEmpty, prefix == prefix.lowercased() { candidates = candidates.map { $0.lowercased() } }
        var seen = Set<String>()
        let matches = candidates.filter { $0.lowercased().hasPrefix(prefix.lowercased()) && seen.insert($0).inserted }
        guard !matches.isEmpty else {
            emit("\u{07}")
            return
        }
        if matches.count == 1 {
            replaceWord(from: start, with: matches[0] + " ")
            return
        }
        let common = Self.commonPrefix(matches)
        if common.count > prefix.count {
            replaceWord(from: start, with: common)
            return
        }
        // A long list only on the second Tab.
        guard listing || matches.count <= 40 else {
            emit("\u{07}")
            return
        }
        emit("\r\n" + matches.sorted().joined(separator: "  ") + "\r\n")
        refresh()
    }

    private mutating func replaceWord(from start: Int, with text: String) {
        buffer.replaceSubrange(start..<cursor, with: Array(text))
        cursor = start + text.count
        refresh()
    }

    /// The longest prefix all words share, compared without case (taken from the first word).
    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first.map(Array.init) else { return "" }
        for word in words.dropFirst() {
            let characters = Array(word)
            var length = 0
            while length < min(prefix.count, characters.count), String(prefix[length]).lowercased() == String(characters[length]).lowercased() {
                length += 1
            }
            prefix = Array(prefix[..<length])
        }
        return String(prefix)
    }

    // MARK: - Drawing

    /// The columns of the terminal (80 when it does not say).
    private func columns() -> Int {
        var size = winsize()
        guard ioctl(configuration.output, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Columns for the text after the prompt.
    private func available() -> Int { max(columns() - Self.width(prompt) - 1, 8) }

    /// Whether the whole line fits without scrolling.
    private func fits() -> Bool { scroll == 0 && Self.width(buffer[...]) < available() }

    /// Redraws the line: prompt, the visible part of the text (scrolled sideways when too long), the cursor.
    private mutating func refresh() {
        let room = available()
        if cursor < scroll { scroll = cursor }
        while scroll < cursor, Self.width(buffer[scroll..<cursor]) >= room { scroll += 1 }
        var end = scroll
        var used = 0
        while end < buffer.count, used + Self.width(buffer[end]) < room {
            used += Self.width(buffer[end])
            end += 1
        }
        var out = "\r" + prompt + String(buffer[scroll..<end]) + "\u{1B}[K"
        let back = Self.width(buffer[cursor..<end])
        if back > 0 { out += "\u{1B}[\(back)D" }
        emit(out)
    }

    /// The columns a character takes: 2 for wide East Asian text and emoji, 0 for combining marks, else 1.
    static func width(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let value = scalar.value
        if scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .enclosingMark { return 0 }
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3,
            0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    static func width(_ text: some Sequence<Character>) -> Int { text.reduce(0) { $0 + width($1) } }

    private func emit(_ text: String) { writeAll(configuration.output, Array(text.utf8)) }

    // MARK: - Input bytes

    /// The next input byte; nil at the end of input, or when `waitingMilliseconds` pass with nothing to read.
    private mutating func nextByte(waitingMilliseconds: Int32? = nil) -> UInt8? {
        if pendingIndex < pending.count {
            defer { pendingIndex += 1 }
            return pending[pendingIndex]
        }
        guard !endOfInput else { return nil }
        if let waitingMilliseconds {
            var descriptor = pollfd(fd: configuration.input, events: Int16(POLLIN), revents: 0)
            var ready: Int32
            repeat { ready = poll(&descriptor, 1, waitingMilliseconds) } while ready < 0 && errno == EINTR
            guard ready > 0 else { return nil }
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        var count: Int
        repeat { count = chunk.withUnsafeMutableBytes { read(configuration.input, $0.baseAddress, $0.count) } } while count < 0 && errno == EINTR
        guard count > 0 else {
            endOfInput = true
            return nil
        }
        pending = Array(chunk[..<count])
        pendingIndex = 1
        return pending[0]
    }

    /// Gives back the byte just read.
    private mutating func unread() { if pendingIndex > 0 { pendingIndex -= 1 } }

    // MARK: - History

    private mutating func addToHistory(_ typed: String) {
        let line = typed.trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty, history.last != line else { return }
        history.append(line)
        if history.count > configuration.historyLimit { history.removeFirst(history.count - configuration.historyLimit) }
        guard let path = configuration.historyPath else { return }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        writeAll(descriptor, Array((line + "\n").utf8))
        close(descriptor)
    }

    /// The last `limit` lines of the history file; a file that has grown past the limit is cut back to it.
    static func loadHistory(_ path: String, limit: Int) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let kept = Array(lines.suffix(limit))
        if lines.count > limit {
            try? Data((kept.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return kept
    }
}

/// Writes all of `bytes` to a file descriptor (retrying short and interrupted writes).
private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) {
    var rest = bytes[...]
    while !rest.isEmpty {
        let written = rest.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0, errno == EINTR { continue }
        guard written > 0 else { return }
        rest = rest.dropFirst(written)
    }
}

/// The terminal's saved settings while a line is edited in raw mode; restored by ``TerminalMode/restore()``
/// from any thread (after each line, at exit, on a signal).
private let savedTerminal = Mutex<(descriptor: Int32, attributes: termios)?>(nil)

/// Registers the restore at exit once.
private let restoreAtExit: Void = { _ = atexit { TerminalMode.restore() } }()

/// Raw mode on and off.
enum TerminalMode {
    /// Raw input on `descriptor`: no echo, no line buffering, no signal keys, no CR translation; output
    /// processing stays on. False when it is not a terminal.
    static func enterRaw(_ descriptor: Int32) -> Bool {
        _ = restoreAtExit
        var original = termios()
        guard tcgetattr(descriptor, &original) == 0 else { return false }
        var raw = original
        raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        raw.c_cflag |= tcflag_t(CS8)
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { bytes in
            bytes[Int(VMIN)] = 1
            bytes[Int(VTIME)] = 0
        }
        savedTerminal.withLock { saved in if saved == nil { saved = (descriptor, original) } }
        return tcsetattr(descriptor, TCSADRAIN, &raw) == 0
    }

    /// Puts the terminal back as it was before raw mode (nothing when it is not in raw mode).
    static func restore() {
        savedTerminal.withLock { saved in
            guard var state = saved else { return }
            _ = tcsetattr(state.descriptor, TCSADRAIN, &state.attributes)
            saved = nil
        }
    }
}

/// Runs a ``LineEditor`` on a dedicated thread (reading a terminal blocks) and hands its lines to async
/// code. A read is abandoned (answers nil) when the waiting task is cancelled.
final class LineReader: Sendable {
    private struct Request: Sendable {
        var prompt: String
        var completions: LineEditor.Completions
    }

    private struct State {
        var request: Request?
        var waiter: (id: Int, continuation: CheckedContinuation<String?, Never>)?
        var cancelled = Set<Int>()
        var nextID = 0
        var ended = false
    }

    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    /// Whether the input is a terminal.
    let interactive: Bool

    init(configuration: LineEditor.Configuration) {
        interactive = isatty(configuration.input) == 1
        let thread = Thread { [self] in
            var editor = LineEditor(configuration: configuration)
            while true {
                wakeup.wait()
                guard let request = state.withLock({ state in defer { state.request = nil }; return state.request }) else { return }
                let line = editor.readLine(prompt: request.prompt, completions: request.completions)
                let waiter = state.withLock { state in
                    defer { state.waiter = nil }
                    if line == nil { state.ended = true }
                    return state.waiter
                }
                waiter?.continuation.resume(returning: line)
                if line == nil { return }
            }
        }
        thread.name = "marksync-line-reader"
        thread.start()
    }

    /// The next line; nil at the end of input or when the calling task is cancelled.
    func readLine(prompt: String, completions: LineEditor.Completions = .init()) async -> String? {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.ended || state.cancelled.contains(id) { return true }
                    state.waiter = (id, continuation)
                    state.request = Request(prompt: prompt, completions: completions)
                    return false
                }
                if now { continuation.resume(returning: nil) } else { wakeup.signal() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<String?, Never>? in
                state.cancelled.insert(id)
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Lets the reading thread end when it is waiting for a request (it cannot be woken inside a read).
    func close() {
        state.withLock { $0.request = nil }
        wakeup.signal()
    }
}
