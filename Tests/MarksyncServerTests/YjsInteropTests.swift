import Foundation
import Hummingbird
import HummingbirdTesting
import MarksyncCore
import MarksyncServer
import MarksyncStore
import Testing

/// The Yjs projection read by the Yjs ecosystem: pycrdt (PyPI, Yrs inside) and Debian's Yjs open
/// exports of random logs at random seqs, per-event updates applied one by one, and state-vector diffs,
/// and find the log's block texts and order; a Node client speaking y-protocols' sync messages follows a
/// live edit on `/yjs/{doc}`. Skipped with a note when a reader is missing, except in CI (`CI` set).
@Suite(.serialized) struct YjsInteropTests {
    /// Exports of a random log as the readers' job, with what each case must read.
    static func job(seed: UInt64, events: Int, focus: Bool = false) async throws -> (job: JSONValue, expected: [String: [JSONValue]]) {
        let (log, folder) = try await YjsTestKit.randomLog(seed: seed, events: events, focus: focus)
        defer { try? FileManager.default.removeItem(at: folder) }
        // The first export stores Yjs checkpoints; the next ones start from them.
        _ = try await log.yjsUpdate("demo")
        var rng = seed
        var seqs = Set([0, 1, events])
        while seqs.count < 14 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1
            seqs.insert(1 + Int((rng >> 33) % UInt64(events)))
        }
        let sorted = seqs.sorted()
        var cases = [JSONValue]()
        var expected = [String: [JSONValue]]()
        var scratch = YjsProjection(document: "demo")
        var replayed = 0
        for seq in sorted {
            let state = try await log.state("demo", at: seq)
            let bytes = try await log.yjsUpdate("demo", at: seq)
            // The export from the checkpoints is the export of a projection replayed from seq 0.
            while replayed < seq {
                for event in try await log.yjsReplayEvents("demo", after: replayed, limit: seq - replayed) { try scratch.apply(event, encoding: false) }
                replayed = scratch.seq
            }
            #expect(bytes == scratch.encodeStateAsUpdate(), "seed \(seed): export at \(seq) differs from a replay from 0")
            cases.append(["name": .string("full@\(seq)"), "updates": [YjsTestKit.base64(bytes)]])
            expected["full@\(seq)"] = [YjsTestKit.expected(state)]
        }
        // Every event's update, applied one by one, read at the chosen seqs.
        let updates = try await log.yjsEventUpdates("demo", after: 0, through: events)
        #expect(updates.map(\.seq) == Array(1...events))
        let readAfter = sorted.filter { $0 > 0 }.map { $0 - 1 }
        cases.append(["name": "events", "updates": .array(updates.map { YjsTestKit.base64($0.update) }), "read_after": .array(readAfter.map { .int($0) })])
        var eventStates = [JSONValue]()
        for seq in sorted where seq > 0 { eventStates.append(YjsTestKit.expected(try await log.state("demo", at: seq))) }
        expected["events"] = eventStates
        // A copy at an older seq brought to a newer one by the diff from its state vector.
        for (older, newer) in zip(sorted.dropLast(), sorted.dropFirst()) where older > 0 {
            let base = try await log.yjsUpdate("demo", at: older)
            let vector = try await log.yjsProjection("demo", at: older).stateVector
            let diff = try await log.yjsUpdate("demo", at: newer, from: vector)
            let name = "diff@\(older)->\(newer)"
            cases.append(["name": .string(name), "updates": [YjsTestKit.base64(base), YjsTestKit.base64(diff)], "read_after": [0]])
            expected[name] = [YjsTestKit.expected(try await log.state("demo", at: older)), YjsTestKit.expected(try await log.state("demo", at: newer))]
        }
        return (["cases": .array(cases)], expected)
    }

    static func check(_ reader: YjsTestKit.Reader, job: JSONValue, expected: [String: [JSONValue]]) throws {
        let results = try YjsTestKit.read(reader, job)
        #expect(results.count == expected.count, "\(reader) answered \(results.count) of \(expected.count) cases")
        for (name, states) in expected {
            guard let result = results[name] else {
                Issue.record("\(reader): no result for \(name)")
                continue
            }
            #expect(result.error == nil, "\(reader) \(name): \(result.error ?? "")")
            #expect(result.states.count == states.count, "\(reader) \(name): \(result.states.count) states")
            for (index, (got, want)) in zip(result.states, states).enumerated() {
                let comparable = YjsTestKit.comparable(got)
                #expect(comparable == want, "\(reader) \(name) state \(index): \(comparable.text.prefix(600)) ≠ \(want.text.prefix(600))")
                #expect(got["meta"]?["format"]?.stringValue == YjsProjection.format || want["order"] == [], "\(reader) \(name): meta.format")
            }
        }
    }

    /// Seed 21: many blocks; seed 22: one block edited nearly every time (thousands of items, many chunks).
    @Test(arguments: [(UInt64(21), false), (22, true)])
    func pycrdtAndYjsReadTheExports(seed: UInt64, focus: Bool) async throws {
        try YjsTestKit.require(.pycrdt)
        try YjsTestKit.require(.yjs)
        let (job, expected) = try await Self.job(seed: seed, events: focus ? 2500 : 1500, focus: focus)
        try Self.check(.pycrdt, job: job, expected: expected)
        try Self.check(.yjs, job: job, expected: expected)
    }

    /// Two authors with colliding FNV-1a ids (YjsTestKit.collidingAuthorsLog): with one id for both, their
    /// items would clash on (client, clock) and the readers would lose or reorder text.
    @Test func collidingAuthorsReadBackInBothReaders() async throws {
        try YjsTestKit.require(.pycrdt)
        try YjsTestKit.require(.yjs)
        let (log, folder) = try await YjsTestKit.collidingAuthorsLog()
        defer { try? FileManager.default.removeItem(at: folder) }
        let head = try await log.headSeq("demo")
        let updates = try await log.yjsEventUpdates("demo", after: 0, through: head)
        let seqs = [1, 2, 17, 33, head]
        var expected = [String: [JSONValue]]()
        var cases = [JSONValue]()
        for seq in seqs {
            cases.append(["name": .string("full@\(seq)"), "updates": [YjsTestKit.base64(try await log.yjsUpdate("demo", at: seq))]])
            expected["full@\(seq)"] = [YjsTestKit.expected(try await log.state("demo", at: seq))]
        }
        cases.append(["name": "events", "updates": .array(updates.map { YjsTestKit.base64($0.update) }), "read_after": .array(seqs.map { .int($0 - 1) })])
        var states = [JSONValue]()
        for seq in seqs { states.append(YjsTestKit.expected(try await log.state("demo", at: seq))) }
        expected["events"] = states
        try Self.check(.pycrdt, job: ["cases": .array(cases)], expected: expected)
        try Self.check(.yjs, job: ["cases": .array(cases)], expected: expected)
    }

    @Test func goldenScenarioUpdatesLoadInBothReaders() throws {
        try YjsTestKit.require(.pycrdt)
        try YjsTestKit.require(.yjs)
        // The block lifecycle of the vectors through the projection's own operations, read back.
        var document = YjsDocument()
        var updates = [[UInt8]]()
        document.begin(client: 1)
        document.arrayPush(.order, [.string("b1")])
        document.mapSetText(.blocks, "b1", "héllo 😀")
        updates.append(document.commit())
        document.begin(client: 2)
        document.textInsert(.blocks, "b1", at: 2, "X")
        document.textDelete(.blocks, "b1", at: 6, count: 2)
        updates.append(document.commit())
        document.begin(client: 1)
        document.mapSetText(.blocks, "b1", "replaced 👍🏽")
        updates.append(document.commit())
        let job: JSONValue = [
            "cases": [
                ["name": "events", "updates": .array(updates.map(YjsTestKit.base64)), "read_after": [0, 1]],
                ["name": "full", "updates": [YjsTestKit.base64(document.encodeStateAsUpdate())]],
            ]
        ]
        for reader in YjsTestKit.Reader.allCases {
            let results = try YjsTestKit.read(reader, job)
            #expect(results["events"]?.states.map { $0["blocks"]?["b1"]?.stringValue } == ["héllo 😀", "héXllo", "replaced 👍🏽"], "\(reader)")
            #expect(results["full"]?.states.first?["blocks"]?["b1"]?.stringValue == "replaced 👍🏽", "\(reader)")
            #expect(results["full"]?.error == nil && results["events"]?.error == nil, "\(reader)")
        }
    }

    // MARK: - The live endpoint with a Node y-protocols client

    static let readme = """
        # Demo

        Some prose with an emoji 😀.

        ```python markpact:file path=app.py
        print("hello")
        ```

        The end.
        """

    static func viewer(_ port: Int, plan: JSONValue) throws -> YjsChild {
        try YjsChild(["node", YjsTestKit.toolsFolder.appendingPathComponent("ws_viewer.js").path, "ws://127.0.0.1:\(port)/yjs/demo", plan.text])
    }

    /// Writes through the marksync sync protocol (the seed's `full` message) and waits for the ack.
    static func write(_ port: Int, content: String) async throws -> Int {
        let socket = try await TestSocket.connect(port: port, path: "/sync?doc=demo&name=writer", timeout: .seconds(30))
        defer { Task { await socket.close() } }
        let request: JSONValue = ["type": "full", "block_id": "markpact:file=app.py", "content": .string(content)]
        #expect(await socket.send(request.text))
        let ack = try #require(await socket.next(types: ["ack"], timeout: .seconds(30)))
        return ack["seq"]?.intValue ?? 0
    }

    @Test func nodeViewerFollowsALiveEdit() async throws {
        try YjsTestKit.require(.yjs)
        let folder = try InteropKit.temporaryFolder("yjs-readme")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md")
        try Data(Self.readme.utf8).write(to: readme)
        try await InteropKit.withServer(readme: readme) { server, port, _ in
            let viewer = try Self.viewer(port, plan: ["until": ["block": "markpact:file=app.py", "contains": "live 🎉 edit"]])
            defer { viewer.stop() }
            let synced = try await viewer.event("synced")
            #expect(synced["state"]?["blocks"]?["markpact:file=app.py"]?.stringValue == "print(\"hello\")")
            #expect(synced["state"]?["order"] == ["markpact:file=app.py"])
            let seq = try await Self.write(port, content: "print(\"live 🎉 edit\")")
            #expect(seq > 0)
            #expect(try await viewer.exitStatus() == 0)
            let update = try await viewer.event("update")
            #expect(update["state"]?["blocks"]?["markpact:file=app.py"]?.stringValue == "print(\"live 🎉 edit\")")
            #expect(try await server.log.head("demo").block("markpact:file=app.py")?.content == "print(\"live 🎉 edit\")")
        }
    }

    @Test func viewerEditsAreRefusedAndAwarenessIsPassedOn() async throws {
        try YjsTestKit.require(.yjs)
        let folder = try InteropKit.temporaryFolder("yjs-readme")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md")
        try Data(Self.readme.utf8).write(to: readme)
        try await InteropKit.withServer(readme: readme) { server, port, _ in
            let head = try await server.log.headSeq("demo")
            // A watches and announces itself; B edits locally (refused) and waits to see A.
            let a = try Self.viewer(port, plan: ["awareness": ["user": ["name": "A"]], "until": ["block": "markpact:file=app.py", "contains": "after"]])
            defer { a.stop() }
            _ = try await a.event("synced")
            let b = try Self.viewer(port, plan: ["awareness": ["user": ["name": "B"]], "edit": true, "untilDenied": true, "untilAwareness": "A"])
            defer { b.stop() }
            let denied = try await b.event("denied")
            #expect(denied["reason"]?.stringValue?.hasPrefix("read-only") == true)
            #expect(try await b.exitStatus() == 0)
            // B's edit never reached the log, and A is still connected and live.
            #expect(try await server.log.headSeq("demo") == head)
            _ = try await a.line { line in
                guard line["event"]?.stringValue == "awareness", case .object(let states) = line["states"] ?? .null else { return false }
                return states.values.contains { $0["user"]?["name"]?.stringValue == "B" }
            }
            _ = try await Self.write(port, content: "after the refusal")
            #expect(try await a.exitStatus() == 0)
        }
    }
}
