import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore
import Synchronization
import Testing

// Spec §4 "Bad input" and §10: a fuzzer of the sync socket. Hostile frames of every kind go over real
// WebSockets to a live server (seeded, a few seconds): each is answered with a `nack`/`error` carrying a
// reason code, or that one connection is closed; a well-behaved client keeps reading and writing during
// and after; and the log holds nothing but the well-behaved client's writes.

/// A frame the fuzzer sends.
enum FuzzFrame: Sendable {
    case text(String)
    case binary([UInt8])
}

/// Builds hostile messages.
struct HostileMessages {
    /// A message type and its fields: name → a valid value (kept when another field is corrupted).
    struct Shape {
        var type: String
        var fields: [(name: String, value: JSONValue)]
    }

    static let existingBlock = "markpact:deps=python"

    /// Every client message type with every field it reads (valid values). Corrupting any one field's
    /// type must give `nack bad_message` (hello's `name` is lenient by design: not listed).
    static let shapes: [Shape] = [
        Shape(type: "patch", fields: [
            ("block_id", .string(existingBlock)), ("patch", .string("@@ -1,4 +1,4 @@\n-fast\n+FAST\n")),
            ("sha", .string(String(repeating: "0", count: 64))), ("sender", .string("fuzz")), ("id", .string("fuzz-id")),
            ("base_seq", .int(1)), ("base_sha", .string(String(repeating: "a", count: 64))),
        ]),
        Shape(type: "full", fields: [
            ("block_id", .string(existingBlock)), ("content", .string("fuzzed")), ("sender", .string("fuzz")), ("id", .string("fuzz-id")),
            ("base_seq", .int(0)), ("base_sha", .string(String(repeating: "b", count: 64))),
        ]),
        Shape(type: "merge", fields: [("block_id", .string(existingBlock)), ("content", .string("fuzzed")), ("sender", .string("fuzz")), ("id", .string("fuzz-id"))]),
        Shape(type: "create", fields: [
            ("block_id", .string("markpact:file=fuzz.txt")), ("index", .int(0)), ("kind", .string("file")), ("lang", .string("text")),
            ("meta", .string("path=fuzz.txt")), ("content", .string("x")), ("sender", .string("fuzz")), ("id", .string("fuzz-id")),
        ]),
        Shape(type: "delete", fields: [("block_id", .string(existingBlock)), ("sender", .string("fuzz")), ("id", .string("fuzz-id")), ("base_seq", .int(0))]),
        Shape(type: "get_snapshot", fields: [("at", .int(1))]),
        Shape(type: "get_block", fields: [("block_id", .string(existingBlock)), ("at", .int(1))]),
        Shape(type: "subscribe", fields: [("since", .int(0)), ("consumer", .string("fuzz-consumer"))]),
        Shape(type: "cursor", fields: [("consumer", .string("fuzz-consumer")), ("seq", .int(1))]),
        Shape(type: "get_log", fields: [("since", .int(0)), ("limit", .int(5)), ("block_id", .string(existingBlock))]),
        Shape(type: "hello", fields: [("token", .string("t"))]),
    ]

    static func wrongValues(for value: JSONValue) -> [JSONValue] {
        switch value {
        case .string: [.int(7), .double(2.5), .bool(true), .array([.string("x")]), .object(["a": .string("b")])]
        case .int: [.string("1"), .double(1.5), .int(-3), .bool(false), .array([]), .object([:])]
        default: [.string("x")]
        }
    }

    static func object(_ shape: Shape, replacing index: Int? = nil, with wrong: JSONValue? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["type": .string(shape.type), "ts": .double(1.5)]
        for (position, field) in shape.fields.enumerated() { object[field.name] = position == index ? wrong! : field.value }
        return .object(object)
    }

    /// The deterministic part: every field of every message with every wrong type, then semantic errors,
    /// malformed JSON, non-objects, unknown types, bad patch text, huge strings, deep nesting, binary.
    static func catalogue(maxMessageBytes: Int) -> [(String, FuzzFrame)] {
        var out = [(String, FuzzFrame)]()
        for shape in shapes {
            // A required field missing (the other types have none).
            if ["patch", "full", "merge", "create", "delete", "get_block", "cursor"].contains(shape.type) {
                out.append(("\(shape.type) without fields", .text(JSONValue.object(["type": .string(shape.type)]).text)))
            }
            for (index, field) in shape.fields.enumerated() {
                for wrong in wrongValues(for: field.value) {
                    out.append(("\(shape.type).\(field.name) = \(wrong.text)", .text(object(shape, replacing: index, with: wrong).text)))
                }
            }
        }
        let block = existingBlock
        let semantic: [(String, JSONValue)] = [
            ("patch of an unknown block", .object(["type": .string("patch"), "block_id": .string("markpact:file=nope.py"), "patch": .string("@@ -1,3 +1,3 @@\n-abc\n+xyz\n")])),
            ("patch with a wrong sha", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -1,4 +1,4 @@\n-fast\n+FAST\n"), "sha": .string(String(repeating: "0", count: 64))])),
            ("patch whose context is absent", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -1,20 +1,20 @@\n-qqqqqqqqqqqqqqqqqqqq\n+wwwwwwwwwwwwwwwwwwww\n")])),
            ("patch text garbage", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("this is not a patch")])),
            ("patch header garbage", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -a,b +c,d @@\n-x\n+y\n")])),
            ("patch bad op", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -1,2 +1,2 @@\n?x\n")])),
            ("patch bad escape", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -1,2 +1,2 @@\n-%ZZ\n+%E2%82\n")])),
            ("patch huge numbers", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -99999999999999999999,1 +1 @@\n-f\n+g\n")])),
            ("patch negative length", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -1,-5 +1,-5 @@\n-f\n+g\n")])),
            ("patch past the end", .object(["type": .string("patch"), "block_id": .string(block), "patch": .string("@@ -900,4 +900,4 @@\n-zzzz\n+yyyy\n")])),
            ("delete of an unknown block", .object(["type": .string("delete"), "block_id": .string("markpact:file=nope.py")])),
            ("create of an existing block", .object(["type": .string("create"), "block_id": .string(block)])),
            ("create with a bad id", .object(["type": .string("create"), "block_id": .string("not a markpact id")])),
            ("create at a bad index", .object(["type": .string("create"), "block_id": .string("markpact:file=fuzz.txt"), "index": .int(99_999)])),
            ("create whose kind gives another id", .object(["type": .string("create"), "block_id": .string("markpact:file=fuzz.txt"), "kind": .string("run")])),
            ("full on a stale base", .object(["type": .string("full"), "block_id": .string(block), "content": .string("stale"), "base_seq": .int(0)])),
            ("full on a wrong base sha", .object(["type": .string("full"), "block_id": .string(block), "content": .string("stale"), "base_sha": .string(String(repeating: "c", count: 64))])),
            ("snapshot past the head", .object(["type": .string("get_snapshot"), "at": .int(1_000_000_000)])),
            ("block past the head", .object(["type": .string("get_block"), "block_id": .string(block), "at": .int(1_000_000_000)])),
            ("subscribe past the head", .object(["type": .string("subscribe"), "since": .int(1_000_000_000)])),
            ("cursor past the head", .object(["type": .string("cursor"), "consumer": .string("fuzz-consumer"), "seq": .int(1_000_000_000)])),
            ("huge unknown type", .object(["type": .string(String(repeating: "t", count: maxMessageBytes / 2))])),
            ("huge block id", .object(["type": .string("patch"), "block_id": .string(String(repeating: "é", count: maxMessageBytes / 4)), "patch": .string("@@ -1 +1 @@\n-a\n+b\n")])),
            ("huge content, wrong block id type", .object(["type": .string("full"), "block_id": .int(3), "content": .string(String(repeating: "😀", count: maxMessageBytes / 8))])),
        ]
        for (name, value) in semantic { out.append((name, .text(value.text))) }
        for type in ["ack", "nack", "manifest", "snapshot", "error", "caught_up", "", "PATCH", "patch ", "\u{0}", "😀", "get_snapshot\u{0}"] {
            out.append(("unknown type \(type.debugDescription)", .text(JSONValue.object(["type": .string(type)]).text)))
        }
        let raw: [String] = [
            "", " ", "not json", "{", "}", "{\"type\":\"patch\"", "{\"type\": patch}", "{'type':'full'}", "{\"type\":\"full\",}", "[", "\"",
            "nul", "NaN", "{\"type\":\"get_snapshot\",\"at\":1e400}", "{\"type\":\"get_snapshot\",\"at\":-1}", "{\"type\":\"\\ud800\"}",
            "{\"type\":\"delete\",\"block_id\":\"\\udc00\\ud800\"}", "{\"type\":\"full\"}\u{0}", "\u{FEFF}{\"type\":1}",
            // JSON but not an object.
            "[]", "1", "-1.5", "\"patch\"", "true", "null", "[{\"type\":\"full\",\"block_id\":\"markpact:run\",\"content\":\"x\"}]",
            // Objects without a usable type.
            "{}", "{\"type\":5}", "{\"type\":null}", "{\"type\":[\"patch\"]}", "{\"type\":{\"a\":1}}", "{\"TYPE\":\"patch\"}",
            // Deep nesting and duplicate keys.
            String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000),
            String(repeating: "{\"a\":", count: 5_000) + "1" + String(repeating: "}", count: 5_000),
            String(repeating: "[", count: 30_000),
            "{\"type\":\"full\",\"type\":7,\"block_id\":3}",
        ]
        for text in raw { out.append(("raw \(text.prefix(40).debugDescription)", .text(text))) }
        out.append(("binary garbage", .binary([0xFF, 0xFE, 0x00, 0x01, 0x80, 0xC3, 0x28])))
        out.append(("binary hostile JSON", .binary(Array("{\"type\":\"full\",\"block_id\":7}".utf8))))
        out.append(("binary truncated UTF-8", .binary(Array("{\"type\":\"get_block\",\"block_id\":\"".utf8) + [0xE2, 0x82])))
        out.append(("too large by a little", .text(JSONValue.object(["type": .string("full"), "block_id": .string(block), "content": .string(String(repeating: "x", count: maxMessageBytes + 10))]).text)))
        return out
    }

    /// A random mutation of a random catalogue entry or shape (flipped, cut, repeated or random bytes).
    static func random(using random: inout some RandomNumberGenerator, maxMessageBytes: Int) -> (String, FuzzFrame) {
        let shape = shapes.randomElement(using: &random)!
        let index = Int.random(in: 0..<shape.fields.count, using: &random)
        let wrong = wrongValues(for: shape.fields[index].value).randomElement(using: &random)!
        var bytes = Array(object(shape, replacing: index, with: wrong).text.utf8)
        switch Int.random(in: 0..<6, using: &random) {
        case 0:  // wrong type, as is
            return ("random wrong type \(shape.type).\(shape.fields[index].name)", .text(String(decoding: bytes, as: UTF8.self)))
        case 1:  // cut short
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            return ("random cut", .binary(bytes))
        case 2:  // a byte flipped (sent as binary: it may not be UTF-8)
            let at = Int.random(in: 0..<bytes.count, using: &random)
            bytes[at] ^= UInt8.random(in: 1...255, using: &random)
            // Led by a control byte, so that a flip can never turn it back into a valid message.
            return ("random flip", .binary(Array("\u{1}".utf8) + bytes))
        case 3:  // random bytes
            let count = Int.random(in: 1...2048, using: &random)
            return ("random bytes", .binary((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }))
        case 4:  // random printable text
            let count = Int.random(in: 1...512, using: &random)
            let text = String((0..<count).map { _ in Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &random))) })
            return ("random text", .text(text))
        default:  // huge string in a wrong-typed message
            let size = Int.random(in: 1_000...(maxMessageBytes - 200), using: &random)
            var object = object(shape, replacing: index, with: wrong)
            if case .object(var fields) = object {
                fields["padding"] = .string(String(repeating: "ü", count: size / 2))
                object = .object(fields)
            }
            return ("random huge \(shape.type)", .text(object.text))
        }
    }
}

/// A reply (not another client's broadcast, which carries `sender`).
private func isReply(_ message: JSONValue) -> Bool {
    let type = message["type"]?.stringValue ?? ""
    if ["ack", "nack", "error", "snapshot", "log", "subscribed", "cursor", "hello", "caught_up"].contains(type) { return true }
    return type == "full" && message["exists"] != nil
}

/// The well-behaved client: writes (with ids) and reads in a loop, recording what it got.
final class WellBehavedClient: Sendable {
    struct Record {
        var acked: [String: Int] = [:]
        var failures: [String] = []
        var rounds = 0
        var lastContent: String?
    }
    let record = Mutex(Record())
    private let stopFlag = Mutex(false)

    func stop() { stopFlag.withLock { $0 = true } }

    /// Runs until `stop()` then `extra` more rounds.
    func run(port: Int, block: String, extra: Int) async {
        let socket: TestSocket
        do { socket = try await TestSocket.connect(port: port) } catch {
            record.withLock { $0.failures.append("cannot connect: \(error)") }
            return
        }
        defer { Task { await socket.close() } }
        guard await socket.next(types: ["manifest"]) != nil else {
            record.withLock { $0.failures.append("no manifest") }
            return
        }
        var round = 0
        var remaining = extra
        while true {
            if stopFlag.withLock({ $0 }) {
                if remaining == 0 { break }
                remaining -= 1
            }
            round += 1
            let id = "good-\(round)"
            let content = "echo good \(round) ✓ 😀"
            await socket.send(wireMessage("full", ["block_id": .string(block), "content": .string(content), "id": .string(id), "sender": .string("good")]))
            guard let reply = await socket.next(timeout: .seconds(30), where: isReply) else {
                record.withLock { $0.failures.append("no reply to write \(round) (closed: \(socket.isClosed))") }
                return
            }
            if reply["type"]?.stringValue == "ack", reply["id"]?.stringValue == id, let seq = reply["seq"]?.intValue {
                record.withLock {
                    $0.acked[id] = seq
                    $0.lastContent = content
                }
            } else {
                record.withLock { $0.failures.append("write \(round) answered \(reply.text)") }
            }
            if round % 4 == 0 {
                await socket.send(wireMessage("get_block", ["block_id": .string(block)]))
                let reply = await socket.next(timeout: .seconds(30), where: isReply)
                if reply?["content"]?.stringValue != content {
                    record.withLock { $0.failures.append("get_block after write \(round) answered \(reply?.text ?? "nothing")") }
                }
            }
            record.withLock { $0.rounds = round }
            try? await Task.sleep(for: .milliseconds(3))
        }
    }
}

// 14 s alone; the limit leaves room for a machine running every suite (and builds) on two cores.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FuzzTests {
    static let maxMessageBytes = 64 << 10

    @Test func hostileFramesAreRefusedAndOthersKeepWorking() async throws {
        let readme = InteropKit.repoRoot.appendingPathComponent("examples/task-manager-api/README.md")
        let seed = UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "") ?? 20_251_127
        let seconds = Double(ProcessInfo.processInfo.environment["FUZZ_SECONDS"] ?? "") ?? 3
        try await InteropKit.withServer(readme: readme, configure: {
            $0.maxMessageBytes = Self.maxMessageBytes
            $0.rateLimit = 200
            $0.rateBurst = 400
        }) { server, port, _ in
            let log = server.log
            let before = try await log.head("demo")
            let reportBefore = try await log.verify()
            #expect(reportBefore.isClean)

            let good = WellBehavedClient()
            let goodTask = Task { await good.run(port: port, block: "markpact:run", extra: 20) }

            // 1. The catalogue, then random mutations until the time is up, on one hostile connection
            //    (reopened when the server closes it).
            var random = InteropRandom(seed: seed)
            var sent = 0
            var answered = 0
            var closes = [String]()
            var problems = [String]()
            var hostile = try await TestSocket.connect(port: port)
            _ = await hostile.next(types: ["manifest"])
            let catalogue = HostileMessages.catalogue(maxMessageBytes: Self.maxMessageBytes)
            // Sends one hostile frame and checks the answer (reconnecting when the server closed it).
            func fire(_ name: String, _ frame: FuzzFrame) async throws {
                sent += 1
                switch frame {
                case .text(let text): await hostile.send(text)
                case .binary(let bytes): await hostile.sendBinary(bytes)
                }
                if let reply = await hostile.next(timeout: .seconds(30), where: isReply) {
                    let type = reply["type"]?.stringValue ?? ""
                    let reason = reply["reason"]?.stringValue ?? ""
                    if (type == "nack" || type == "error") && !reason.isEmpty {
                        answered += 1
                    } else {
                        problems.append("\(name): answered \(reply.text.prefix(300))")
                    }
                } else if hostile.isClosed {
                    closes.append(name)
                    hostile = try await TestSocket.connect(port: port)
                    _ = await hostile.next(types: ["manifest"])
                } else {
                    problems.append("\(name): no answer in 5 s")
                }
            }
            for (name, frame) in catalogue { try await fire(name, frame) }
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                let (name, frame) = HostileMessages.random(using: &random, maxMessageBytes: Self.maxMessageBytes)
                try await fire(name, frame)
            }
            #expect(problems.isEmpty, "\(problems.count) hostile messages not refused: \(problems.prefix(10))")
            #expect(answered + closes.count == sent)
            // Closing a hostile connection is allowed, but not as the answer to most bad input.
            #expect(closes.count < max(sent / 10, 3), "the server closed the connection \(closes.count) times: \(closes.prefix(10))")

            // 2. Oversized frames (over the WebSocket frame limit): that connection is closed or answered.
            for size in [Self.maxMessageBytes * 4 + 4096, Self.maxMessageBytes * 8] {
                let socket = try await TestSocket.connect(port: port)
                _ = await socket.next(types: ["manifest"])
                await socket.send(String(repeating: "{", count: size))
                let reply = await socket.next(timeout: .seconds(30), where: isReply)
                if let reply {
                    #expect(["error", "nack"].contains(reply["type"]?.stringValue ?? ""), "an oversized frame was answered \(reply.text.prefix(200))")
                } else {
                    #expect(socket.isClosed, "an oversized frame got no answer and the connection stayed open")
                }
                await socket.close()
            }

            // 3. A flood over the rate limit: every message is answered, some with error rate_limited, and
            //    the connection works again once it slows down.
            let flood = try await TestSocket.connect(port: port)
            _ = await flood.next(types: ["manifest"])
            let floodCount = 3_000
            // Cheap messages (each answered `nack unknown_type`), so that the server reads them faster
            // than the limit refills.
            for _ in 0..<floodCount { await flood.send("{\"type\":\"flood\"}") }
            var limited = 0
            var refused = 0
            for _ in 0..<floodCount {
                guard let reply = await flood.next(timeout: .seconds(10), where: isReply) else { break }
                if reply["type"]?.stringValue == "error", reply["reason"]?.stringValue == "rate_limited" { limited += 1 }
                if reply["type"]?.stringValue == "nack", reply["reason"]?.stringValue == "unknown_type" { refused += 1 }
            }
            #expect(limited + refused == floodCount, "the flood got \(limited) rate_limited and \(refused) unknown_type for \(floodCount) messages")
            #expect(limited > 0, "no message of the flood was rate limited")
            try await Task.sleep(for: .milliseconds(300))
            await flood.send(wireMessage("get_snapshot"))
            #expect(await flood.next(types: ["snapshot"], timeout: .seconds(5)) != nil, "the flooding connection does not work after slowing down")
            await flood.close()

            // The well-behaved client kept working during all this, and after.
            good.stop()
            await goodTask.value
            let record = good.record.withLock { $0 }
            #expect(record.failures.isEmpty, "the well-behaved client failed: \(record.failures.prefix(5))")
            #expect(record.acked.count >= 20)
            await hostile.close()

            print("fuzz (seed \(seed)): \(sent) hostile messages, \(answered) refused with a reason, \(closes.count) connections closed; flood: \(limited) rate limited of \(floodCount); good client: \(record.acked.count) acks")

            // The log holds only the well-behaved client's writes; everything else is as it was.
            let after = try await log.head("demo")
            let events = try await log.history("demo", filter: HistoryFilter(from: before.seq + 1))
            #expect(after.seq == before.seq + record.acked.count, "head moved by \(after.seq - before.seq), the good client got \(record.acked.count) acks")
            #expect(events.allSatisfy { $0.author == "good" && $0.clientMessageID.map { record.acked[MessageIDScope.unscoped($0)] } == $0.seq }, "the log holds events not acked to the good client")
            #expect(after.blocks.map(\.id) == before.blocks.map(\.id))
            for block in before.blocks where block.id != "markpact:run" {
                #expect(after.block(block.id)?.content == block.content, "\(block.id) changed")
            }
            #expect(after.prose == before.prose)
            #expect(after.block("markpact:run")?.content == record.lastContent)
            let reportAfter = try await log.verify()
            #expect(reportAfter.isClean, "\(reportAfter.problems)")
            #expect(reportAfter.events == reportBefore.events + record.acked.count)
        }
    }
}
