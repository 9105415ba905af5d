import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Synchronization
import Testing

// Issue 16: ≥ 100,000 random messages over real sockets (the sync WebSocket and plain HTTP) in well under a
// minute, with no crash: every WebSocket message is answered, no HTTP request gets a 5xx, and afterwards the
// server still acks a well-behaved client. Seeded (VOLUME_FUZZ_SEED), so a failure can be replayed.

/// Hostile but well-formed-looking sync messages: numbers at and past every bound, truncated and huge hunk
/// headers, wrong types, random bytes.
struct VolumeFuzzGenerator {
    var random: InteropRandom
    let block = "markpact:file=app/main.py"

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }

    mutating func number() -> String {
        pick([
            "0", "1", "-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616",
            "1e300", "-1e300", "1.5", "1e-300", "99999999999999999999999999999", "2147483648", "4294967296", "NaN", "\"7\"", "null",
            String(random.next() % 100_000),
        ])
    }

    mutating func hunkNumber() -> String {
        pick([
            "0", "1", "-1", "9223372036854775807", "9223372036854775806", "-9223372036854775808", "9223372036854775808",
            "18446744073709551615", "100000000000000000000000", "", "+3", " 2", "0x10", "٣", String(random.next() % 5000),
        ])
    }

    mutating func patchText() -> String {
        let header: String
        switch random.next() % 6 {
        case 0: header = "@@ -\(hunkNumber()),\(hunkNumber()) +\(hunkNumber()),\(hunkNumber()) @@"
        case 1: header = "@@ -\(hunkNumber()) +\(hunkNumber()) @@"
        case 2: header = pick(["@@ -1", "@@ -1,2 +", "@@ -,3 +1 @@", "@@", "@@ @@", "@@ -1,1 +1,1", "@@ -a,b +c,d @@"])
        case 3: header = "@@ -\(hunkNumber()),\(hunkNumber()) +1,4 @@"
        case 4: header = "@@ -1,3 +\(hunkNumber()),\(hunkNumber()) @@"
        default: header = String((0..<Int(random.next() % 40)).map { _ in Character(Unicode.Scalar(UInt8(32 + random.next() % 95))) })
        }
        // Long fuzzy hunks cost up to a second of diff each (diff-match-patch's timeout, as in Python): a few of
        // them make this a CPU-time test, which it is not (the hostile-input tests of the core cover them).
        let body = pick([" uvi\n+x\n corn\n", "-print\n+PRINT\n", "+%ZZ\n", "+%\n", " \n", "", "-\(String(repeating: "a", count: 40))\n", "x\n", "+%F0%9F%98\n"])
        let repeats = random.next() % 8 == 0 ? Int(random.next() % 5) + 2 : 1
        return String(repeating: header + "\n" + body, count: repeats)
    }

    mutating func message() -> String {
        let escaped = { (text: String) in JSONValue.string(text).text }
        switch random.next() % 12 {
        case 0, 1, 2:
            return #"{"type":"patch","block_id":"\#(block)","patch":\#(escaped(patchText())),"id":"v\#(random.next() % 1000)"}"#
        case 3:
            return #"{"type":"get_snapshot","at":\#(number())}"#
        case 4:
            return #"{"type":"get_block","block_id":"\#(block)","at":\#(number())}"#
        case 5:
            return #"{"type":"get_log","since":\#(number()),"limit":\#(number())}"#
        case 6:
            return #"{"type":"cursor","consumer":"fuzz-\#(random.next() % 4)","seq":\#(number())}"#
        case 7:
            return #"{"type":"full","block_id":"\#(block)","content":"x","base_seq":\#(number()),"id":"f\#(random.next() % 1000)"}"#
        case 8:
            return #"{"type":"review","block_id":"\#(block)","block_seq":\#(number()),"text":"t","verdict":"ok"}"#
        case 9:
            return #"{"type":"deploy","document_seq":\#(number()),"exit_code":\#(number()),"started_ms":\#(number()),"duration_ms":\#(number())}"#
        case 10:
            return #"{"type":"create","block_id":"markpact:file=f\#(random.next() % 9).txt","index":\#(number()),"content":"c"}"#
        default:
            let count = Int(random.next() % 64)
            return String((0..<count).map { _ in Character(Unicode.Scalar(UInt8(32 + random.next() % 95))) })
        }
    }

    mutating func httpRequest(port: Int) -> String {
        let paths = [
            "/api/v1/docs/demo/blocks?at=\(hunkNumber())", "/api/v1/docs/demo/markdown?at=\(hunkNumber())",
            "/api/v1/docs/demo/events?since=\(hunkNumber())&limit=\(hunkNumber())", "/api/v1/docs/demo/diff?from=\(hunkNumber())&to=\(hunkNumber())",
            "/api/v1/docs/demo/blame/markpact%3Afile%3Dapp%2Fmain.py?at=\(hunkNumber())", "/api/v1/docs/demo/blocks/%ZZ",
            "/api/v1/docs/%00/blocks", "/api/v1/docs/demo/consumers/x/view?watch=[", "/health", "/metrics", "/api/v1/docs/demo/yjs?at=\(hunkNumber())",
            "/\(String(repeating: "a/", count: Int(random.next() % 200)))", "/api/v1/docs/demo/blocks/markpact%3Afile%3Dapp%2Fmain.py",
        ]
        let method = pick(["GET", "GET", "HEAD", "PUT", "DELETE", "POST", "OPTIONS", "PATCH"])
        // As a client sends them: spaces and non-ASCII percent-encoded (a request line with raw ones is not HTTP;
        // the server closes such a connection at its header timeout, which ConnectionLimitTests covers).
        let path = pick(paths).unicodeScalars.map { scalar -> String in
            if scalar.isASCII && scalar != " " { return String(scalar) }
            return String(scalar).utf8.map { String(format: "%%%02X", $0) }.joined()
        }.joined()
        var head = "\(method) \(path) HTTP/1.1\nHost: 127.0.0.1:\(port)\nConnection: close\n"
        head += pick(["", "If-Match: \"\(hunkNumber())\"\n", "Content-Type: application/json\n", "X-Marksync-Author: \(hunkNumber())\n", "Range: bytes=\(hunkNumber())-\n"])
        head += "Content-Length: 1\n"
        return head
    }
}

/// Why fuzzing connections ended early.
final class CloseLog: Sendable {
    let entries = Mutex<[String]>([])
}

@Suite struct VolumeFuzzTests {
    @Test func aHundredThousandRandomMessagesCrashNothing() async throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["VOLUME_FUZZ_SEED"] ?? "") ?? 20_261_207
        // The real `serve` in a process of its own: the fuzz measures the server, not the concurrency pool of a
        // test process shared with every other suite (on two cores a neighbour can starve it for seconds).
        let folder = try temporaryFolder("volume-fuzz")
        let readme = folder.appendingPathComponent("README.md")
        try "# Demo\n\n```python markpact:file path=app/main.py\nprint(\"hello\")\n```\n".write(to: readme, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try marksyncBinary())
        // Measured here: the parser and the log, not the rate limiter; a client buried under 25,000 replies may
        // answer a ping late (pings are tested in ConnectionLimitTests).
        process.arguments = [
            "serve", readme.path, "--doc", "demo", "--port", "0", "--db", folder.appendingPathComponent("log.db").path,
            "--rate-limit", "1000000000", "--ping-interval", "600",
        ]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let (port, _) = try await readListeningPort(pipe.fileHandleForReading)
        try #require(port > 0, "serve did not start")
        let live = (port: port, document: "demo")
        let connections = 4
        let perConnection = 25_000
        let started = ContinuousClock.now
        let closes = CloseLog()
        let counts = try await withThrowingTaskGroup(of: (sent: Int, answered: Int).self) { group in
            for index in 0..<connections {
                group.addTask {
                    var generator = VolumeFuzzGenerator(random: InteropRandom(seed: seed &+ UInt64(index)))
                    let socket = try await TestSocket.connect(port: live.port)
                    defer { Task { await socket.close() } }
                    var sent = 0
                    var answered = 0
                    while sent < perConnection {
                        for _ in 0..<500 {
                            guard await socket.send(generator.message()) else {
                                closes.entries.withLock { $0.append("connection \(index) closed after \(sent): \(socket.closeReason ?? "?")") }
                                return (sent, answered)
                            }
                            sent += 1
                        }
                        // Keep at most ~1,000 unanswered (the server's inbox applies back-pressure anyway).
                        let deadline = ContinuousClock.now + .seconds(30)
                        while answered < sent - 1_000, ContinuousClock.now < deadline, !socket.isClosed {
                            answered += Self.replies(socket.takeAll())
                            if answered < sent - 1_000 { try await Task.sleep(for: .milliseconds(2)) }
                        }
                        // No answers for 30 s: the server is stuck; stop here (the counts below fail the test).
                        if answered < sent - 1_000 { return (sent, answered) }
                    }
                    let deadline = ContinuousClock.now + .seconds(30)
                    while answered < sent, ContinuousClock.now < deadline, !socket.isClosed {
                        answered += Self.replies(socket.takeAll())
                        if answered < sent { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    answered += Self.replies(socket.takeAll())
                    return (sent, answered)
                }
            }
            var all = [(sent: Int, answered: Int)]()
            for try await count in group { all.append(count) }
            return all
        }
        let socketTime = ContinuousClock.now - started
        let sent = counts.reduce(0) { $0 + $1.sent }
        let answered = counts.reduce(0) { $0 + $1.answered }
        #expect(sent == connections * perConnection, "a connection was closed early: \(counts) \(closes.entries.withLock { $0 })")
        #expect(answered == sent, "every message answered: \(counts)")

        // HTTP: random methods, paths, numbers and headers; never a 5xx, never a dropped answer.
        var generator = VolumeFuzzGenerator(random: InteropRandom(seed: seed &+ 99))
        var statuses = [Int: Int]()
        var unanswered = [String]()
        let httpCount = Int(ProcessInfo.processInfo.environment["VOLUME_FUZZ_HTTP"] ?? "") ?? 1_500
        for _ in 0..<httpCount {
            let request = generator.httpRequest(port: live.port)
            let isHead = request.hasPrefix("HEAD ")
            let response = try await rawHTTP(port: live.port, request, body: "x", timeout: .seconds(5)) { responseComplete($0, head: isHead) }
            let status = rawStatus(response)
            statuses[status, default: 0] += 1
            if status == 0 { unanswered.append(request) }
            if unanswered.count >= 3 { break }
        }
        #expect(unanswered.isEmpty, "requests not answered within 5 s: \(unanswered)")
        #expect(statuses.keys.allSatisfy { $0 >= 200 && $0 < 500 }, "statuses: \(statuses)")

        // Still serving: a write is acked and reads back.
        #expect(process.isRunning, "serve died")
        let good = try await TestSocket.connect(port: live.port)
        await good.send(#"{"type":"full","block_id":"markpact:file=app/main.py","content":"after the storm","id":"good-1"}"#)
        let ack = await good.next(timeout: .seconds(10)) { $0["type"]?.stringValue == "ack" }
        #expect(ack != nil)
        await good.send(#"{"type":"get_block","block_id":"markpact:file=app/main.py"}"#)
        let block = await good.next(timeout: .seconds(10)) { $0["type"]?.stringValue == "full" && $0["exists"] != nil }
        #expect(block?["content"]?.stringValue == "after the storm")
        await good.close()
        print("volume fuzz (seed \(seed)): \(sent) WebSocket messages, \(answered) answered in \(socketTime); 1500 HTTP requests: \(statuses)")
    }

    /// Replies among received messages (a `caught_up` follows a `subscribed`; broadcasts carry `sender`).
    static func replies(_ texts: [String]) -> Int {
        texts.reduce(0) { count, text in
            guard let value = JSONValue.parse(Array(text.utf8)) else { return count }
            let type = value["type"]?.stringValue ?? ""
            if ["ack", "nack", "error", "snapshot", "log", "cursor", "hello", "subscribed"].contains(type) { return count + 1 }
            return type == "full" && value["exists"] != nil ? count + 1 : count
        }
    }
}
