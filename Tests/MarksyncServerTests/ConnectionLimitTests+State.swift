#if os(Linux)
import Foundation
import Glibc
import MarksyncCore
@testable import MarksyncServer
import MarksyncTestSupport
import Testing

// Per-connection and per-room state of the Yjs rooms (awareness), and the connection storm against the
// real `marksync-log serve` binary.

extension ConnectionLimitTests {
    static func awareness(_ entries: [(UInt64, String)], clock: Int = 1) -> YjsSyncMessage {
        .awareness(YjsAwarenessUpdate(entries.map { .init(client: $0.0, clock: clock, state: $0.1) }).encoded)
    }

    @Test("the awareness table caps entries per viewer, per room and by size, and forgets a viewer that leaves")
    func awarenessTable() {
        var table = AwarenessTable(limits: .init(perViewer: 4, perRoom: 10, stateBytes: 100, roomBytes: 10_000))
        let viewers = (0..<4).map { _ in RandomID.uuid() }
        func payload(_ clients: Range<UInt64>, _ state: String = #"{"user":"x"}"#) -> [UInt8] {
            YjsAwarenessUpdate(clients.map { .init(client: $0, clock: 1, state: state) }).encoded
        }
        // Per viewer: 4 client ids, then refused (nothing applied).
        guard case .success(let accepted) = table.apply(payload(0..<4), from: viewers[0]) else {
            Issue.record("refused")
            return
        }
        #expect(accepted?.entries.count == 4)
        guard case .failure(let refusal) = table.apply(payload(4..<5), from: viewers[0]) else {
            Issue.record("a fifth client id was taken")
            return
        }
        #expect(refusal.reason == .tooManyClients)
        #expect(table.count == 4)
        // Announced counts over the cap are refused before decoding.
        var flood = Lib0Encoder(capacity: 16)
        flood.varUint(1_200_000)
        guard case .failure(let big) = table.apply(flood.bytes, from: viewers[1]) else {
            Issue.record("a million-entry header was taken")
            return
        }
        #expect(big.reason == .tooManyClients)
        // Oversized state.
        guard case .failure(let large) = table.apply(payload(100..<101, String(repeating: "x", count: 101)), from: viewers[1]) else {
            Issue.record("an oversized state was taken")
            return
        }
        #expect(large.reason == .stateTooLarge)
        // Per room: 10 entries; the rest dropped, the viewer kept.
        _ = table.apply(payload(10..<14), from: viewers[1])
        guard case .success(let partial) = table.apply(payload(20..<24), from: viewers[2]) else {
            Issue.record("refused")
            return
        }
        #expect(table.count == 10)
        #expect(partial?.entries.count == 2)
        // A viewer that leaves takes its entries with it.
        let gone = table.removeAll(ownedBy: viewers[0])
        #expect(gone?.entries.count == 4)
        #expect(gone?.entries.allSatisfy { $0.state == "null" } == true)
        #expect(table.count == 6)
        _ = table.removeAll(ownedBy: viewers[1])
        _ = table.removeAll(ownedBy: viewers[2])
        #expect(table.isEmpty)
        #expect(table.bytes == 0)
    }

    @Test("a Yjs viewer flooding awareness entries is cut off, and its entries go with it")
    func awarenessFlood() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits())
        defer { Task { await live.stop() } }
        let observer = try await YjsSocket.connect(port: live.port, path: "/yjs/demo")
        let flooder = try await YjsSocket.connect(port: live.port, path: "/yjs/demo")
        let cap = AwarenessTable.Limits().perViewer
        // Up to the cap, entries are relayed to the others.
        for client in 0..<UInt64(cap) { try await flooder.send(Self.awareness([(1000 + client, #"{"user":{"name":"flood"}}"#)])) }
        try await observer.send(.queryAwareness)
        #expect(try await waitUntil(timeout: .seconds(30)) {
            if case .awareness(let payload)? = await observer.next(timeout: .milliseconds(200), { if case .awareness = $0 { true } else { false } }),
                let update = try? YjsAwarenessUpdate(decoding: payload), update.entries.count == cap
            {
                return true
            }
            try? await observer.send(.queryAwareness)
            return false
        }, "the observer sees the flooder's \(cap) entries")
        // Then a flood: many distinct client ids, one update each, and one update announcing 1.2 M.
        for client in 0..<UInt64(256) {
            guard (try? await flooder.send(Self.awareness([(5000 + client, "{}")]))) != nil else { break }
        }
        #expect(try await waitUntil(timeout: .seconds(30)) { flooder.isClosed }, "the flooding viewer is disconnected")
        #expect(flooder.closeCode == "policyViolation", "\(flooder.closeCode ?? "-")")
        // Its entries are gone for the others: the room holds none.
        #expect(try await waitUntil(timeout: .seconds(30)) {
            try? await observer.send(.queryAwareness)
            if case .awareness(let payload)? = await observer.next(timeout: .milliseconds(200), { if case .awareness = $0 { true } else { false } }),
                let update = try? YjsAwarenessUpdate(decoding: payload)
            {
                let held = await YjsRooms.shared.room(for: live.server, document: "demo").awarenessCount
                return update.entries.allSatisfy { $0.state == "null" } && update.entries.count <= cap && held == 0
            }
            return false
        })
        await observer.close()
    }

    @Test("a connection storm of 3,000 against `serve` under ulimit -n 1024: the server lives, answers, acks")
    func storm() async throws {
        let binary = try marksyncBinary()
        let folder = try temporaryFolder("marksync-storm")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md")
        try "# Storm\n\n```markpact:file=a.txt\nbefore\n```\n".write(to: readme, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The per-address limit is off: every connection comes from 127.0.0.1 and the global limit is tested.
        process.arguments = [
            "-c", #"ulimit -n 1024 && exec "$0" "$@""#, binary, "serve", readme.path, "--port", "0", "--db",
            folder.appendingPathComponent("log.db").path, "--doc", "demo", "--max-connections-per-address", "0",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "error"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        let errors = folder.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let (port, printed) = try await readListeningPort(out.fileHandleForReading, timeout: .seconds(60))
        try #require(port > 0, "serve did not start: \(printed) \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")

        // A client connected before the storm.
        let client = try await TestSocket.connect(port: port, path: "/sync?doc=demo", timeout: .seconds(20))
        #expect(await client.next(types: ["manifest"], timeout: .seconds(30)) != nil)

        let limit = ConnectionLimits.defaultMaxConnections(descriptorLimit: 1024, processors: ProcessInfo.processInfo.activeProcessorCount)
        let total = 3000
        let script = folder.appendingPathComponent("storm.py")
        try connectionStormScript.write(to: script, atomically: true, encoding: .utf8)
        let started = ContinuousClock.now
        let handover = folder.appendingPathComponent("handover")
        try FileManager.default.createDirectory(at: handover, withIntermediateDirectories: true)
        let running = Task {
            try await runToEnd("/usr/bin/env", ["python3", script.path, "\(port)", "\(total)", "100", "\(total - limit - 16)", handover.path])
        }
        // In the middle of the storm (its connections held, the server at its limit), the client from before
        // writes and is acked.
        let holding = try await waitUntil(timeout: .seconds(40)) { FileManager.default.fileExists(atPath: handover.appendingPathComponent("holding").path) }
        #expect(holding, "the storm did not get to hold its connections")
        let during = "during-storm-\(RandomID.make())"
        #expect(await client.send(wireMessage("full", ["block_id": .string("markpact:file=a.txt"), "content": .string("during\n"), "id": .string(during), "sender": .string("storm")])))
        let duringReply = await client.next(types: ["ack", "nack", "error"], timeout: .seconds(30))
        #expect(duringReply?["type"]?.stringValue == "ack" && duringReply?["id"]?.stringValue == during, "\(duringReply?.text ?? "no reply")")
        FileManager.default.createFile(atPath: handover.appendingPathComponent("release").path, contents: nil)
        let storm = try await running.value
        let elapsed = ContinuousClock.now - started
        try #require(storm.status == 0, "\(storm.error.suffix(1000))")
        let report = try #require(JSONValue.parse(Array(storm.output.utf8)), "\(storm.output)")
        print("storm (\(elapsed)): \(report.text)")

        #expect(process.isRunning, "the server died: \((try? String(contentsOf: errors, encoding: .utf8))?.suffix(2000) ?? "")")
        // Connections over the limit are closed by the server, not left in the backlog.
        let closedByServer = report["closed_by_server"]?.intValue ?? 0
        #expect(closedByServer >= total - limit - 16, "\(report.text)")
        #expect(report["released"]?.boolValue == true, "\(report.text)")
        #expect(report["health_status"]?.stringValue?.contains(" 200 ") == true, "\(report.text)")
        let healthSeconds: Double? =
            switch report["health_seconds"] {
            case .double(let value)?: value
            case .int(let value)?: Double(value)
            default: nil
            }
        #expect((healthSeconds ?? 99) <= 1.0, "\(report.text)")
        #expect(report["refused"]?.text.contains(#"reason=\"max_connections\"} 0"#) == false, "\(report.text)")
        #expect(elapsed < .seconds(45))

        // The client from before the storm still writes and is acked.
        let id = "after-storm-\(RandomID.make())"
        #expect(await client.send(wireMessage("full", ["block_id": .string("markpact:file=a.txt"), "content": .string("after\n"), "id": .string(id), "sender": .string("storm")])))
        let reply = await client.next(types: ["ack", "nack", "error"], timeout: .seconds(30))
        #expect(reply?["type"]?.stringValue == "ack" && reply?["id"]?.stringValue == id, "\(reply?.text ?? "no reply")")
        await client.close()
    }
}
#endif
