import Foundation
import HummingbirdWSClient
import Logging
import MarksyncCLI
import MarksyncClient
import MarksyncCore
import MarksyncServer
import MarksyncStore
import Synchronization
import MarksyncTestSupport
import Testing

// MARK: - A real server on a free loopback port

let clientTestReadme = """
    # Demo

    Intro prose.

    ```text markpact:deps python
    fastapi
    ```

    ```python markpact:file path=app/main.py
    line 1
    line 2
    line 3
    line 4
    line 5
    line 6
    line 7
    line 8
    line 9
    line 10
    ```

    ```bash markpact:run
    uvicorn app.main:app
    ```

    """

let mainBlock = "markpact:file=app/main.py"

/// A SyncServer running in-process on 127.0.0.1 with port 0, over a log in a temporary folder, serving
/// the demo document.
typealias LiveServer = LiveSyncServer

extension LiveSyncServer {
    /// Starts a server over the log at `folder` (a new temporary folder when nil), with the demo document.
    static func start(folder: URL? = nil, tokens: String? = nil) async throws -> LiveSyncServer {
        try await start(markdown: clientTestReadme, document: "demo", folder: folder, tokens: tokens)
    }
}

func clientOptions(_ name: String, token: String? = nil) -> SyncClient.Options {
    var options = SyncClient.Options()
    options.name = name
    options.token = token
    options.requestTimeout = .seconds(20)
    return options
}

/// Reads a subscription until an event with `seq` ≥ `until` arrived (or the timeout).
func collect(
    _ stream: AsyncThrowingStream<SyncUpdate, any Error>, until: @escaping @Sendable () -> Int?, untilCaughtUp: Bool = false,
    timeout: Duration = .seconds(90), onEvent: @escaping @Sendable (SyncEvent) async -> Void = { _ in }
) async throws -> (events: [SyncEvent], caughtUp: [Int]) {
    try await withThrowingTaskGroup(of: ([SyncEvent], [Int])?.self) { group in
        group.addTask {
            var events = [SyncEvent]()
            var caughtUp = [Int]()
            for try await update in stream {
                switch update {
                case .event(let event):
                    events.append(event)
                    await onEvent(event)
                case .caughtUp(let seq): caughtUp.append(seq)
                }
                if let target = until(), let last = events.last, last.seq >= target, !untilCaughtUp || !caughtUp.isEmpty {
                    return (events, caughtUp)
                }
            }
            return (events, caughtUp)
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let first else { throw SyncClientError.timeout("subscription did not reach the expected seq") }
        return first
    }
}

/// Four writers, each writing its own block `count` times; returns the acked (seq, id) pairs.
func runWriters(_ url: String, count: Int, tag: String) async throws -> [(seq: Int, id: String)] {
    try await withThrowingTaskGroup(of: [(seq: Int, id: String)].self) { group in
        for writer in 0..<4 {
            group.addTask {
                let client = try await SyncClient.connect(to: url, options: clientOptions("writer-\(writer)"))
                var acked = [(seq: Int, id: String)]()
                for index in 0..<count {
                    let id = "\(tag)-w\(writer)-\(index)"
                    let ack = try await client.write(.full(blockID: "markpact:file=w\(writer).txt", content: "writer \(writer) edit \(index)", id: id))
                    acked.append((ack.seq, id))
                }
                await client.close()
                return acked
            }
        }
        var all = [(seq: Int, id: String)]()
        for try await acked in group { all += acked }
        return all
    }
}

@Suite(.serialized) struct ClientTests {
    // MARK: Catch-up and live

    @Test func subscriberFromCursorGetsExactlyTheEventsAfterItUnderConcurrentWrites() async throws {
        let live = try await LiveServer.start()
        defer { Task { await live.stop() } }
        // Some history before the cursor.
        let setup = try await SyncClient.connect(to: live.url, options: clientOptions("setup"))
        for index in 0..<5 { _ = try await setup.write(.full(blockID: mainBlock, content: "before \(index)")) }
        let cursor = try await live.log.headSeq("demo") - 2
        await setup.close()

        let finalHead = Mutex<Int?>(nil)
        let subscriber = try await SyncClient.connect(to: live.url, options: clientOptions("subscriber"))
        async let written = runWriters(live.url, count: 25, tag: "live")
        // Subscribe while the writers run: the catch-up and the live stream overlap.
        try await Task.sleep(for: .milliseconds(20))
        let stream = try await subscriber.subscribe(since: cursor)
        let acked = try await written
        let head = try await live.log.headSeq("demo")
        finalHead.withLock { $0 = head }
        let (events, caughtUp) = try await collect(stream, until: { finalHead.withLock { $0 } }, untilCaughtUp: true)
        #expect(head == cursor + 2 + 100)
        #expect(events.map(\.seq) == Array((cursor + 1)...head))
        #expect(caughtUp.count == 1)
        #expect(caughtUp.allSatisfy { $0 > cursor && $0 <= head })
        let stats = await subscriber.stats
        #expect(stats.duplicatesDropped == 0)
        #expect(stats.gaps == 0)
        // Every acked write is there, at its seq, with its id.
        let byID = Dictionary(uniqueKeysWithValues: events.compactMap { event in event.id.map { ($0, event.seq) } })
        for write in acked { #expect(byID[write.id] == write.seq) }
        // The events carry what the log holds.
        let stored = try await live.log.events("demo", after: cursor, limit: 1000)
        #expect(stored.map(\.seq) == events.map(\.seq))
        #expect(stored.map { $0.clientMessageID.map(MessageIDScope.unscoped) } == events.map(\.id))
        await subscriber.close()
    }

    @Test func subscriptionResumesAfterAForcedDisconnectWithoutLossOrDuplicates() async throws {
        let live = try await LiveServer.start()
        defer { Task { await live.stop() } }
        let start = try await live.log.headSeq("demo")
        let subscriber = try await SyncClient.connect(to: live.url, options: clientOptions("subscriber"))
        let stream = try await subscriber.subscribe(since: start)
        let dropped = Mutex(false)
        // 4 writers × 30 writes: the subscription must reach start + 120.
        async let written = runWriters(live.url, count: 30, tag: "drop")
        async let collected = collect(
            stream, until: { start + 120 },
            onEvent: { event in
                // Drop the connection in the middle of the stream, while the writers keep writing.
                if event.seq >= start + 40, dropped.withLock({ state in defer { state = true }; return !state }) {
                    try? await subscriber.reconnect()
                }
            })
        let acked = try await written
        let head = try await live.log.headSeq("demo")
        #expect(head == start + 120)
        let (events, _) = try await collected
        #expect(dropped.withLock { $0 })
        #expect(events.map(\.seq) == Array((start + 1)...head))
        let stats = await subscriber.stats
        #expect(stats.reconnects >= 1)
        #expect(stats.duplicatesDropped == 0)
        #expect(stats.gaps == 0)
        #expect(Set(events.compactMap(\.id)) == Set(acked.map(\.id)))
        await subscriber.close()
    }

    @Test func durableConsumerResumesFromItsStoredCursorAfterAServerRestart() async throws {
        let first = try await LiveServer.start()
        let writer = try await SyncClient.connect(to: first.url, options: clientOptions("writer"))
        for index in 0..<4 { _ = try await writer.write(.full(blockID: mainBlock, content: "first run \(index)")) }
        await writer.close()
        let headBefore = try await first.log.headSeq("demo")

        // The consumer handles events up to headBefore - 2 and stores its cursor there.
        let consumer = try await SyncClient.connect(to: first.url, options: clientOptions("reviewer"))
        let target = headBefore - 2
        let stream = try await consumer.subscribe(consumer: "reviewer-1")
        let (events, _) = try await collect(stream, until: { target })
        #expect(events.first?.seq == 1)
        #expect(events.map(\.seq).prefix(target) == ArraySlice(1...target))
        try await consumer.setCursor(consumer: "reviewer-1", seq: target)
        await consumer.close()
        await first.stop()

        // A new server on the same log file; more writes while the consumer is away.
        let second = try await LiveServer.start(folder: first.folder)
        #expect(second.port != 0)
        let writer2 = try await SyncClient.connect(to: second.url, options: clientOptions("writer"))
        for index in 0..<3 { _ = try await writer2.write(.full(blockID: mainBlock, content: "second run \(index)")) }
        await writer2.close()
        let headAfter = try await second.log.headSeq("demo")
        #expect(headAfter == headBefore + 3)

        let resumed = try await SyncClient.connect(to: second.url, options: clientOptions("reviewer"))
        let again = try await resumed.subscribe(consumer: "reviewer-1")
        let (more, caughtUp) = try await collect(again, until: { headAfter }, untilCaughtUp: true)
        #expect(more.map(\.seq) == Array((target + 1)...headAfter))
        #expect(caughtUp == [headAfter])
        #expect(try await second.log.cursor(document: "demo", consumer: "reviewer-1") == target)
        await resumed.close()
        await second.stop()
    }

    // MARK: Concurrency

    @Test func concurrentEditsFromOneBaseAreRebasedOrRefusedWithConflict() async throws {
        let live = try await LiveServer.start()
        defer { Task { await live.stop() } }
        let alice = try await SyncClient.connect(to: live.url, options: clientOptions("alice"))
        let bob = try await SyncClient.connect(to: live.url, options: clientOptions("bob"))
        let base = try await alice.block(mainBlock)
        #expect(base.exists)
        let dmp = DiffMatchPatch()
        func patch(_ from: String, _ to: String) -> String { dmp.patchToText(dmp.patchMake(from, to)) }

        // Non-overlapping: line 2 and line 9, both from the same base.
        let aliceText = base.content.replacingOccurrences(of: "line 2\n", with: "line 2 by alice\n")
        let bobText = base.content.replacingOccurrences(of: "line 9\n", with: "line 9 by bob\n")
        let first = try await alice.write(.patch(blockID: mainBlock, patch: patch(base.content, aliceText), baseSeq: base.seq))
        #expect(!first.rebased)
        let second = try await bob.write(.patch(blockID: mainBlock, patch: patch(base.content, bobText), baseSeq: base.seq))
        #expect(second.rebased)
        #expect(second.seq == first.seq + 1)
        let merged = try await bob.block(mainBlock)
        #expect(merged.content.contains("line 2 by alice"))
        #expect(merged.content.contains("line 9 by bob"))
        if let sha = second.sha { #expect(merged.sha == sha) }

        // Overlapping: alice rewrites line 5, bob changes a letter inside it, from the same base.
        let base2 = merged
        let aliceLine = base2.content.replacingOccurrences(of: "line 5\n", with: "LINE FIVE\n")
        let bobLine = base2.content.replacingOccurrences(of: "line 5\n", with: "lane 5\n")
        let third = try await alice.write(.full(blockID: mainBlock, content: aliceLine, baseSeq: base2.seq))
        do {
            _ = try await bob.write(.patch(blockID: mainBlock, patch: patch(base2.content, bobLine), baseSeq: base2.seq))
            Issue.record("an overlapping edit was accepted")
        } catch SyncClientError.nack(let nack) {
            #expect(nack.reason == "conflict")
            #expect(nack.blockID == mainBlock)
            #expect(nack.content == aliceLine)
            #expect(nack.sha == SHA256.hexDigest(of: aliceLine))
            #expect(nack.seq == third.seq)
            #expect(nack.id != nil)
        }
        // Nothing lost: every accepted edit is in the log, the refused one is not, the block is alice's.
        let head = try await live.log.head("demo")
        #expect(head.seq == third.seq)
        #expect(head.block(mainBlock)?.content == aliceLine)
        let history = try await live.log.events("demo", after: first.seq - 1, limit: 10)
        #expect(history.map(\.seq) == [first.seq, second.seq, third.seq])
        #expect(history.map(\.author) == ["alice", "bob", "alice"])
        await alice.close()
        await bob.close()
    }

    // MARK: Idempotency

    @Test func aMessageIDIsStoredOnceAlsoAcrossAReconnect() async throws {
        let live = try await LiveServer.start()
        defer { Task { await live.stop() } }
        let client = try await SyncClient.connect(to: live.url, options: clientOptions("retrier"))
        let before = try await live.log.headSeq("demo")
        let request = SyncRequest.full(blockID: mainBlock, content: "idempotent", id: "fixed-id-1")
        let ack = try await client.write(request)
        #expect(!ack.duplicate)
        #expect(ack.id == "fixed-id-1")
        let again = try await client.write(request)
        #expect(again.duplicate)
        #expect(again.seq == ack.seq)
        try await client.reconnect()
        let afterReconnect = try await client.write(request)
        #expect(afterReconnect.duplicate)
        #expect(afterReconnect.seq == ack.seq)
        // Pipelined resends of one id are stored once too.
        let burst = await client.sendAll(Array(repeating: SyncRequest.full(blockID: mainBlock, content: "burst", id: "fixed-id-2"), count: 5))
        let seqs = Set(burst.compactMap { try? $0.get().seq })
        #expect(seqs.count == 1)
        #expect(try await live.log.headSeq("demo") == before + 2)
        let stored = try await live.log.events("demo", after: before, limit: 10)
        #expect(stored.compactMap(\.clientMessageID).map(MessageIDScope.unscoped) == ["fixed-id-1", "fixed-id-2"])
        await client.close()
    }

    // MARK: Auth

    @Test func tokensGateWrites() async throws {
        let live = try await LiveServer.start(tokens: "r:read,w:write")
        defer { Task { await live.stop() } }
        let before = try await live.log.headSeq("demo")

        // No token: the connection is refused…
        do {
            _ = try await SyncClient.connect(to: live.url, options: clientOptions("anonymous"))
            Issue.record("connected without a token")
        } catch SyncClientError.rejected(let nack) {
            #expect(nack.reason == "unauthorized")
        }
        // …and a write sent anyway on a raw socket is refused.
        let replies = Mutex<[String]>([])
        try await WebSocketClient.connect(url: live.url, logger: Logger(label: "raw")) { inbound, outbound, _ in
            try await outbound.write(.text(#"{"type":"full","block_id":"markpact:file=app/main.py","content":"anonymous"}"#))
            var count = 0
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message { replies.withLock { $0.append(text) } }
                count += 1
                if count == 2 { break }
            }
        }
        let raw = replies.withLock { $0 }.compactMap { JSONValue.parse(Array($0.utf8)) }
        #expect(raw.first?["reason"]?.stringValue == "unauthorized")
        #expect(raw.last?["type"]?.stringValue == "nack")
        #expect(raw.last?["reason"]?.stringValue == "unauthorized")

        // A read token reads but cannot write.
        let reader = try await SyncClient.connect(to: live.url, options: clientOptions("reader", token: "r"))
        let snapshot = try await reader.snapshot()
        #expect(snapshot.markdown == clientTestReadme)
        do {
            _ = try await reader.write(.full(blockID: mainBlock, content: "reader"))
            Issue.record("a read token wrote")
        } catch SyncClientError.nack(let nack) {
            #expect(nack.reason == "forbidden")
        }
        await reader.close()
        #expect(try await live.log.headSeq("demo") == before)

        // A write token writes.
        let writer = try await SyncClient.connect(to: live.url, options: clientOptions("writer", token: "w"))
        let ack = try await writer.write(.full(blockID: mainBlock, content: "writer"))
        #expect(ack.seq == before + 1)
        await writer.close()
        #expect(try await live.log.head("demo").block(mainBlock)?.content == "writer")
    }

    // MARK: Command line

    @Test func pushSendsChangedBlocksAndPullWritesAnOldVersion() async throws {
        let live = try await LiveServer.start()
        defer { Task { await live.stop() } }
        let original = try await live.log.headSeq("demo")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marksync-push-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("README.md").path

        // A small edit (patch), a rewrite (full) and a new block.
        var edited = clientTestReadme.replacingOccurrences(of: "line 7\n", with: "line 7 edited locally\n")
        edited = edited.replacingOccurrences(of: "fastapi\n", with: "flask\nrequests\nhttpx\n")
        edited += "\n```text markpact:file path=notes.txt\nnew notes\n```\n"
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let push = await runSyncCLI(["push", path, "--server", live.url, "--name", "cli"])
        #expect(push.code == 0, "\(push.err)")
        #expect(push.out.contains("patch \(mainBlock): ack seq"))
        #expect(push.out.contains("full markpact:deps=python: ack seq"))
        #expect(push.out.contains("create markpact:file=notes.txt: ack seq"))
        let head = try await live.log.head("demo")
        #expect(head.seq == original + 3)
        let local = MarkpactDocument(parsing: edited)
        #expect(head.blocks.map(\.id) == local.blocks.map(\.id))
        #expect(head.blocks.map(\.content) == local.blocks.map(\.content))
        let stored = try await live.log.events("demo", after: original, limit: 10)
        #expect(stored.allSatisfy { $0.author == "cli" && $0.clientMessageID != nil })

        // Nothing differs now.
        let again = await runSyncCLI(["push", path, "--server", live.url])
        #expect(again.code == 0)
        #expect(again.out.isEmpty)

        // pull --at writes the old version; pull writes the head.
        let old = folder.appendingPathComponent("old.md").path
        let pull = await runSyncCLI(["pull", old, "--server", live.url, "--at", "\(original)"])
        #expect(pull.code == 0, "\(pull.err)")
        #expect(pull.out == "\(original)\n")
        #expect(try String(contentsOfFile: old, encoding: .utf8) == clientTestReadme)
        let current = folder.appendingPathComponent("head.md").path
        #expect(await runSyncCLI(["pull", current, "--server", live.url]).code == 0)
        #expect(try String(contentsOfFile: current, encoding: .utf8) == head.render())
        let bad = await runSyncCLI(["pull", current, "--server", live.url, "--at", "9999"])
        #expect(bad.code == 1)
    }

    @Test func pushExitsOneOnANack() async throws {
        let live = try await LiveServer.start(tokens: "r:read,w:write")
        defer { Task { await live.stop() } }
        let path = try temporarySyncFile(clientTestReadme.replacingOccurrences(of: "line 3\n", with: "line three\n"))
        let before = try await live.log.headSeq("demo")
        let refused = await runSyncCLI(["push", path, "--server", live.url, "--token", "r"])
        #expect(refused.code == 1)
        #expect(refused.out.contains("nack forbidden"))
        #expect(try await live.log.headSeq("demo") == before)
        #expect(try await live.log.head("demo").render() == clientTestReadme)
        let noToken = await runSyncCLI(["push", path, "--server", live.url])
        #expect(noToken.code == 1)
        #expect(noToken.err.contains("unauthorized"))
        let accepted = await runSyncCLI(["push", path, "--server", live.url, "--token", "w"])
        #expect(accepted.code == 0, "\(accepted.err)")
        #expect(try await live.log.head("demo").render() == clientTestReadme.replacingOccurrences(of: "line 3\n", with: "line three\n"))
    }

    @Test func watchWritesRemoteChangesAndPushesLocalSaves() async throws {
        let live = try await LiveServer.start()
        defer { Task { await live.stop() } }
        let path = try temporarySyncFile(clientTestReadme)
        let watch = Task { await runSyncCLI(["watch", path, "--server", live.url, "--name", "watcher", "--for", "6", "--interval", "100"]) }
        try await Task.sleep(for: .milliseconds(500))

        // Remote → file.
        let remote = try await SyncClient.connect(to: live.url, options: clientOptions("remote"))
        _ = try await remote.write(.full(blockID: "markpact:run", content: "uvicorn app.main:app --reload"))
        try await waitFor { (try? String(contentsOfFile: path, encoding: .utf8))?.contains("--reload") == true }

        // File → server (a save by an editor).
        let saved = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "line 4\n", with: "line 4 saved locally\n")
        try saved.write(toFile: path, atomically: true, encoding: .utf8)
        try await waitFor { (try? await live.log.head("demo").block(mainBlock)?.content.contains("line 4 saved locally")) == true }
        let head = try await live.log.head("demo")
        #expect(head.render() == saved)
        let last = try await live.log.events("demo", after: head.seq - 1, limit: 1).first
        #expect(last?.author == "watcher")
        #expect(last?.baseSeq == head.seq - 1)

        // Both at once: a remote edit of another block while the file is unchanged is written; the file is whole.
        _ = try await remote.write(.full(blockID: "markpact:deps=python", content: "fastapi\nuvicorn"))
        try await waitFor { (try? String(contentsOfFile: path, encoding: .utf8))?.contains("uvicorn\n```") == true }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == (try await live.log.head("demo").render()))
        await remote.close()
        let result = await watch.value
        #expect(result.code == 0, "\(result.err)")
    }
}

// MARK: - Helpers

/// Runs a `marksync-log` command in-process and returns its exit code and output.
func runSyncCLI(_ arguments: [String]) async -> (code: Int32, out: String, err: String) {
    let capture = Console.Capture()
    let code = await Console.$capture.withValue(capture) { await CommandLineRunner.run(arguments) }
    return (code, capture.standardOutput, capture.standardError)
}

func temporarySyncFile(_ contents: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marksync-sync-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("README.md").path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Polls a condition for up to `timeout`.
func waitFor(timeout: Duration = .seconds(5), _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(timeout)")
}
