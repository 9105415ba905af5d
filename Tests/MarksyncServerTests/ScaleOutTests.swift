import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Synchronization
import Testing

// Issue 8: three `marksync-log serve` processes on one PostgreSQL database (a real PostgreSQL 15 started
// by LivePostgres). Writers and subscribers are spread over the nodes and write concurrently to the same
// document; every subscriber sees every event once, in seq order, seqs are dense, all nodes end with the
// same document; a node killed with SIGKILL mid-write loses no acked event and the others keep serving.

/// Acks collected from writers: client message id → (seq, content).
private final class AckBook: Sendable {
    let acks = Mutex<[String: (seq: Int, content: String)]>([:])
    let failures = Mutex<[String]>([])
}

/// What a subscriber saw: the seqs of the events of its feed, in arrival order.
private final class Feed: Sendable {
    let seqs = Mutex<[Int]>([])
}

/// Tells the subscribers to stop.
private final class StopFlag: Sendable {
    let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

@Suite(.serialized, .timeLimit(.minutes(10)))
struct ScaleOutTests {
    static let nodes = 3
    static let writersPerNode = 3
    static let writesPerWriter = 30

    /// One writer: `count` full writes of its own block and of the shared block, each with an id, one at a
    /// time, each waiting for its ack. Stops quietly when the connection goes away (a killed node).
    private static func write(node: Int, writer: Int, port: Int, count: Int, prefix: String, book: AckBook) async {
        guard let socket = try? await TestSocket.connect(port: port), await socket.next(types: ["manifest"]) != nil else {
            book.failures.withLock { $0.append("\(prefix): no connection to node \(node)") }
            return
        }
        defer { socket.cancel() }
        for number in 1...count {
            let id = "\(prefix)-n\(node)-w\(writer)-\(number)"
            // Every third write goes to a block all writers share: concurrent writes to the same block.
            let block = number % 3 == 0 ? "markpact:file=shared.txt" : "markpact:file=n\(node)w\(writer).txt"
            let content = "node \(node) writer \(writer) write \(number) ✓\n"
            let message = wireMessage(
                "full", ["block_id": .string(block), "content": .string(content), "id": .string(id), "sender": .string("w\(node)-\(writer)")])
            guard await socket.send(message), let reply = await socket.next(types: ["ack", "nack", "error"], timeout: .seconds(30)) else { return }
            guard reply["type"]?.stringValue == "ack", reply["id"]?.stringValue == id, let seq = reply["seq"]?.intValue else {
                book.failures.withLock { $0.append("\(id) answered \(reply.text)") }
                return
            }
            book.acks.withLock { $0[id] = (seq, content) }
        }
    }

    /// A subscriber from seq 0 that records the seq of every event it is sent until `stop` is set.
    private static func subscribe(port: Int, feed: Feed, stop: StopFlag) async throws {
        let socket = try await TestSocket.connect(port: port)
        defer { socket.cancel() }
        _ = await socket.next(types: ["manifest"])
        await socket.send(wireMessage("subscribe", ["since": .int(0)]))
        // Events sent before `subscribed` belong to the plain connection's feed, not to the subscription.
        guard await socket.next(types: ["subscribed"], timeout: .seconds(10)) != nil else { throw InteropFailure(message: "no subscribed") }
        let control: Set<String> = ["manifest", "subscribed", "caught_up", "ack", "nack", "error", "pong"]
        while !stop.isSet {
            guard let message = await socket.next(timeout: .milliseconds(200)) else { continue }
            let type = message["type"]?.stringValue ?? ""
            if control.contains(type) { continue }
            if let seq = message["seq"]?.intValue { feed.seqs.withLock { $0.append(seq) } }
        }
    }

    @Test func threeNodesShareOneDatabaseAndAKilledNodeLosesNoAckedEvent() async throws {
        let binary = try ServerChild.binary()
        let database = try await LivePostgres.database()
        let folder = try InteropKit.temporaryFolder("scale-out")
        defer { try? FileManager.default.removeItem(at: folder) }
        let example = InteropKit.repoRoot.appendingPathComponent("examples/task-manager-api/README.md")

        // Each node projects the document to its own README (its own disk); the log is shared.
        var children = [ServerChild]()
        // Every node is stopped at the end, whatever happened (a node left running would outlive the test).
        defer { for child in children { kill(child.process.processIdentifier, SIGKILL) } }
        for node in 0..<Self.nodes {
            let nodeFolder = folder.appendingPathComponent("node\(node)")
            try FileManager.default.createDirectory(at: nodeFolder, withIntermediateDirectories: true)
            let readme = nodeFolder.appendingPathComponent("README.md")
            try FileManager.default.copyItem(at: example, to: readme)
            // The first node creates the document; the others find it.
            children.append(
                try await ServerChild.start(
                    binary: binary, readme: readme.path, db: database, document: "scale",
                    stderr: nodeFolder.appendingPathComponent("stderr.txt")))
        }
        let ports = children.map(\.port)
        let startSeq = try await EventLog.open(database: database).headSeq("scale")

        // Two subscribers per surviving node (nodes 0 and 1), from seq 0.
        let stop = StopFlag()
        let feeds = (0..<4).map { _ in Feed() }
        let subscribers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, feed) in feeds.enumerated() {
                    let port = ports[index % 2]
                    group.addTask { try await Self.subscribe(port: port, feed: feed, stop: stop) }
                }
                try await group.waitForAll()
            }
        }

        // Round 1: writers on every node at once.
        let book = AckBook()
        await withTaskGroup(of: Void.self) { group in
            for node in 0..<Self.nodes {
                for writer in 0..<Self.writersPerNode {
                    group.addTask { await Self.write(node: node, writer: writer, port: ports[node], count: Self.writesPerWriter, prefix: "r1", book: book) }
                }
            }
        }
        #expect(book.failures.withLock { $0 } == [])
        #expect(book.acks.withLock { $0.count } == Self.nodes * Self.writersPerNode * Self.writesPerWriter)

        // Round 2: node 2 is killed with SIGKILL while its writers (and the others) write.
        let killed = AckBook()
        let survivors = AckBook()
        let victim = children[2]
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<Self.writersPerNode {
                group.addTask { await Self.write(node: 2, writer: writer, port: ports[2], count: 1000, prefix: "r2", book: killed) }
                for node in 0..<2 {
                    group.addTask { await Self.write(node: node, writer: writer, port: ports[node], count: 20, prefix: "r2", book: survivors) }
                }
            }
            group.addTask {
                // Kill once node 2 has acked some writes of this round.
                let deadline = ContinuousClock.now + .seconds(30)
                while killed.acks.withLock({ $0.count }) < 15, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
                victim.kill9()
            }
        }
        #expect(!victim.process.isRunning)
        #expect(killed.acks.withLock { $0.count } >= 15)
        #expect(survivors.failures.withLock { $0 } == [])
        #expect(survivors.acks.withLock { $0.count } == 2 * Self.writersPerNode * 20)

        // The surviving nodes keep serving: one more write through each.
        let after = AckBook()
        for node in 0..<2 { await Self.write(node: node, writer: 9, port: ports[node], count: 2, prefix: "r3", book: after) }
        #expect(after.acks.withLock { $0.count } == 4)

        // Every acked event is in the database with its seq and content; seqs are dense; verify is clean.
        let log = try await EventLog.open(database: database)
        let head = try await log.headSeq("scale")
        let events = try await log.history("scale", filter: HistoryFilter(from: 1))
        #expect(events.map(\.seq) == Array(1...head))
        let byID = Dictionary(events.compactMap { event in event.clientMessageID.map { (MessageIDScope.unscoped($0), event) } }, uniquingKeysWith: { a, _ in a })
        var lost = [String]()
        for (id, ack) in book.acks.withLock({ $0 }).merging(killed.acks.withLock({ $0 }), uniquingKeysWith: { a, _ in a })
            .merging(survivors.acks.withLock({ $0 }), uniquingKeysWith: { a, _ in a }).merging(after.acks.withLock({ $0 }), uniquingKeysWith: { a, _ in a })
        {
            guard let event = byID[id], event.seq == ack.seq else {
                lost.append(id)
                continue
            }
            if case .blockReplaced(_, let content) = event.body { #expect(content == ack.content) }
        }
        #expect(lost == [])
        #expect(try await log.verify().isClean)

        // Every subscriber saw every event after 0 exactly once, in order (also the writes made on other
        // nodes, and those of the killed node before it died).
        let expected = Array(1...head)
        for (index, feed) in feeds.enumerated() {
            let deadline = ContinuousClock.now + .seconds(20)
            while feed.seqs.withLock({ $0.count }) < head, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(feed.seqs.withLock { $0 } == expected, "subscriber \(index) on node \(index % 2)")
        }
        stop.set()
        try await subscribers.value

        // Both surviving nodes serve the same document as the database.
        let rendered = try await log.head("scale").render()
        for node in 0..<2 {
            let socket = try await TestSocket.connect(port: ports[node])
            _ = await socket.next(types: ["manifest"])
            await socket.send(wireMessage("get_snapshot"))
            let snapshot = await socket.next(types: ["snapshot"], timeout: .seconds(10))
            #expect(snapshot?["markdown"]?.stringValue == rendered, "node \(node)")
            #expect(snapshot?["seq"]?.intValue == head)
            socket.cancel()
        }
        #expect(head > startSeq)
    }
}
