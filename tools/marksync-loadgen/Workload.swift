import Foundation
import MarksyncCore

/// A small deterministic random generator (runs are repeatable).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// A code block edited the way an agent or a person edits code: a changed constant, a renamed
/// variable, an added or removed line, a comment. Each edit yields a real diff-match-patch patch text.
struct CodeEditor {
    private(set) var lines: [String]
    private var random: SplitMix64
    private var counter = 0
    private let dmp = DiffMatchPatch()

    init(writer: Int, seed: UInt64) {
        random = SplitMix64(seed: seed &+ UInt64(writer) &* 7919)
        lines = Self.template(writer)
    }

    var content: String { lines.joined(separator: "\n") + "\n" }

    static func template(_ writer: Int) -> [String] {
        """
        \"\"\"Task store for worker \(writer): in-memory, guarded by a lock.\"\"\"

        import threading
        from datetime import datetime, timezone

        MAX_TASKS = 1000
        DEFAULT_PRIORITY = "normal"
        RETRY_LIMIT = 3


        class TaskStore:
            def __init__(self) -> None:
                self._lock = threading.Lock()
                self._tasks: dict[int, dict] = {}
                self._next_id = 1

            def create(self, title: str, priority: str = DEFAULT_PRIORITY) -> dict:
                if not title.strip():
                    raise ValueError("title must not be empty")
                with self._lock:
                    if len(self._tasks) >= MAX_TASKS:
                        raise RuntimeError("task store is full")
                    task = {
                        "id": self._next_id,
                        "title": title.strip(),
                        "priority": priority,
                        "status": "todo",
                        "created_at": datetime.now(timezone.utc).isoformat(),
                    }
                    self._tasks[task["id"]] = task
                    self._next_id += 1
                    return task

            def get(self, task_id: int) -> dict | None:
                with self._lock:
                    return self._tasks.get(task_id)

            def list(self, status: str | None = None) -> list[dict]:
                with self._lock:
                    tasks = list(self._tasks.values())
                if status is not None:
                    tasks = [t for t in tasks if t["status"] == status]
                return sorted(tasks, key=lambda t: t["id"])
        """.components(separatedBy: "\n")
    }

    /// Makes one edit and returns the patch text from the previous content to the new one.
    mutating func edit() -> (patch: String, content: String, sha: String) {
        let old = content
        counter += 1
        let line = 5 + random.below(lines.count - 5)
        switch random.below(5) {
        case 0:
            // A changed constant.
            lines[5] = "MAX_TASKS = \(1000 + random.below(9000))"
        case 1:
            // A comment added to (or replaced at the end of) a line.
            var text = lines[line]
            if let hash = text.range(of: "  # ") { text = String(text[..<hash.lowerBound]) }
            lines[line] = text + "  # reviewed \(counter)"
        case 2 where lines.count < 90:
            // A new line of code.
            let indent = String(lines[line].prefix { $0 == " " })
            lines.insert(indent + "log.debug(\"step \(counter): %s\", self._next_id)", at: line + 1)
        case 3:
            // A removed line that an earlier edit added, else a renamed variable.
            if let added = lines.indices.reversed().first(where: { lines[$0].contains("log.debug(\"step ") }) {
                lines.remove(at: added)
            } else {
                lines[line] = lines[line].replacingOccurrences(of: "task", with: "item")
            }
        default:
            // A changed string literal.
            lines[7] = "RETRY_LIMIT = \(random.below(10))  # tuned \(counter)"
        }
        let new = content
        if new == old { lines.append("# touched \(counter)") }
        let final = content
        return (dmp.patchToText(dmp.patchMake(old, final)), final, SHA256.hexDigest(of: final))
    }
}

/// A stamp that carries a message number and its send time through a patch.
///
/// Consecutive stamps use disjoint alphabets (even numbers a–j with separator w, odd ones k–t with x), so
/// the diff from one to the next is always "delete the old stamp, insert the new one": the inserted line
/// of the patch text (the writer's, forwarded by the seed, or the one the server recomputes) holds the
/// whole new stamp, and a subscriber reads it without applying the patch.
enum Stamp {
    static func encode(number: Int, micros: UInt64) -> String {
        let base: UInt8 = number % 2 == 0 ? UInt8(ascii: "a") : UInt8(ascii: "k")
        let separator: Character = number % 2 == 0 ? "w" : "x"
        func digits(_ value: UInt64) -> String {
            String(String(value).utf8.map { Character(UnicodeScalar(base + ($0 - 48))) })
        }
        return digits(UInt64(number)) + String(separator) + digits(micros)
    }

    /// Finds the stamp in a raw JSON frame: the run after an escaped newline and `+` (`\n+` in JSON).
    static func decode(frame: String) -> (number: Int, micros: UInt64)? {
        var frame = frame
        return frame.withUTF8 { bytes -> (Int, UInt64)? in
            let n = bytes.count
            var i = 0
            while i + 3 < n {
                if bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "n"), bytes[i + 2] == UInt8(ascii: "+") {
                    var k = i + 3
                    var first = 0
                    var second: UInt64 = 0
                    var inSecond = false
                    var count = 0
                    var valid = true
                    while k < n {
                        let c = bytes[k]
                        if c == UInt8(ascii: "w") || c == UInt8(ascii: "x") {
                            if inSecond { valid = false; break }
                            inSecond = true
                        } else if c >= UInt8(ascii: "a"), c <= UInt8(ascii: "t") {
                            let digit = c >= UInt8(ascii: "k") ? Int(c - UInt8(ascii: "k")) : Int(c - UInt8(ascii: "a"))
                            if inSecond { second = second * 10 + UInt64(digit) } else { first = first * 10 + digit }
                            count += 1
                        } else {
                            break
                        }
                        k += 1
                    }
                    if valid, inSecond, count >= 2, k < n, bytes[k] == UInt8(ascii: "\\") { return (first, second) }
                    i = k
                } else {
                    i += 1
                }
            }
            return nil
        }
    }
}

/// The content of a fan-out block with a given stamp.
func stampedContent(_ stamp: String) -> String {
    """
    \"\"\"Heartbeat written by the load generator's fan-out writer.\"\"\"

    STAMP = "\(stamp)"

    def beat() -> str:
        return STAMP

    """
}
