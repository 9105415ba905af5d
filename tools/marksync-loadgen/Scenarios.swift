import Foundation
import MarksyncCore
import Synchronization

/// What every scenario needs: where the server is and how to read its CPU.
struct RunContext: Sendable {
    /// The servers' URLs: peer i connects to `urls[i % urls.count]` (several `serve` nodes on one log).
    var urls: [String]
    var target: String
    /// The servers' pids; their CPU times are added up.
    var serverPIDs: [Int32]
    var url: String { urls.joined(separator: ",") }
    var serverPID: Int32? { serverPIDs.first }
    /// A tag unique to this run: block ids are `markpact:file=loadgen/<tag>/…`.
    var tag: String
    var seed: UInt64

    func blockID(_ name: String) -> String { "markpact:file=loadgen/\(tag)/\(name)" }

    func connect(_ name: String, index: Int = 0) async throws -> Peer {
        // The seed ignores the path and query; marksync-log needs a path (`/`) and uses `name` as the author.
        let url = urls[index % urls.count]
        var components = URLComponents(string: url) ?? URLComponents()
        if components.path.isEmpty { components.path = "/" }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "name", value: name)]
        return try await Peer.connect(url: components.string ?? url, name: name)
    }

    /// Connects `count` peers, a few at a time.
    func connectMany(_ count: Int, prefix: String) async throws -> [Peer] {
        var peers = [Peer]()
        var next = 0
        while next < count {
            let batch = min(16, count - next)
            let start = next
            let connected = try await withThrowingTaskGroup(of: (Int, Peer).self) { group in
                for i in start..<(start + batch) { group.addTask { (i, try await self.connect("\(prefix)\(i)", index: i)) } }
                var out = [(Int, Peer)]()
                for try await item in group { out.append(item) }
                return out.sorted { $0.0 < $1.0 }.map(\.1)
            }
            peers += connected
            next += batch
        }
        return peers
    }

    /// The servers' CPU times added up (nil without pids).
    func cpuTimes() -> CPUTimes? { summed { ProcessCPU.tree($0, ProcessCPU.times) } }

    /// The servers' resident memory added up, megabytes (nil without pids).
    func residentMegabytes() -> Double? { summed { ProcessCPU.tree($0, ProcessCPU.residentBytes) }.map { $0 / 1_048_576 } }

    /// A reading of every server process added up; nil without pids or when one is gone.
    private func summed<Value: AdditiveArithmetic>(_ read: (Int32) -> Value?) -> Value? {
        if serverPIDs.isEmpty { return nil }
        var total = Value.zero
        for pid in serverPIDs {
            guard let value = read(pid) else { return nil }
            total += value
        }
        return total
    }
}

/// A JSON message with `type` and `ts` like the seed's `_signal`.
func message(_ type: String, _ fields: [String: JSONValue]) -> String {
    var object = fields
    object["type"] = .string(type)
    object["ts"] = .double(Date().timeIntervalSince1970)
    return JSONValue.object(object).text
}

/// Runs `body` while measuring server and client CPU.
func measured<T>(_ context: RunContext, _ body: () async throws -> T) async rethrows -> (T, server: CPUTimes?, client: Double, seconds: Double) {
    let serverBefore = context.cpuTimes()
    let clientBefore = ProcessCPU.selfMicros()
    let started = monotonicNanos()
    let value = try await body()
    let seconds = Double(monotonicNanos() - started) / 1e9
    let serverAfter = context.cpuTimes()
    let client = (ProcessCPU.selfMicros() - clientBefore) / 1e6
    var server: CPUTimes?
    if let serverBefore, let serverAfter { server = serverAfter - serverBefore }
    return (value, server, client, seconds)
}

/// Closes connections and gives the server a moment to forget them.
func closeAll(_ peers: [Peer]) async {
    await withTaskGroup(of: Void.self) { group in
        for peer in peers { group.addTask { await peer.close() } }
    }
    try? await Task.sleep(for: .milliseconds(200))
}

/// Waits until `done()` or the timeout.
func settle(timeout: Double, _ done: () -> Bool) async {
    let deadline = monotonicNanos() + UInt64(timeout * 1e9)
    while !done(), monotonicNanos() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
}

// MARK: - Closed-loop writers

/// One writer: its block, its editor, its connection; it counts the broadcasts it receives.
final class ClosedLoopWriter: @unchecked Sendable {
    let index: Int
    let peer: Peer
    let blockID: String
    var editor: CodeEditor
    let slot = ReplySlot()
    let broadcasts = Counter()
    var latencies = Latencies()
    var sent = 0
    var acks = 0
    var nacks = 0
    var errors = 0
    var reasons: [String: Int] = [:]

    init(index: Int, peer: Peer, blockID: String, seed: UInt64) {
        self.index = index
        self.peer = peer
        self.blockID = blockID
        editor = CodeEditor(writer: index, seed: seed)
        peer.setHandlers(
            reply: { [slot] type, text, now in slot.deliver(type, text, now) },
            broadcast: { [broadcasts] type, _, _ in
                if type == "patch" || type == "full" { broadcasts.add() }
            })
    }

    /// Sends and waits for the reply; returns its type and the round trip in nanoseconds.
    func roundTrip(_ text: String) async throws -> (type: String, text: String, nanos: UInt64) {
        slot.arm()
        let started = monotonicNanos()
        try await peer.send(text)
        let reply = await slot.wait()
        if reply.type == "closed" { throw LoadgenError("the server closed writer \(index)'s connection") }
        return (reply.type, reply.text, reply.receivedNanos &- started)
    }

    func create() async throws {
        let reply = try await roundTrip(message("full", ["block_id": .string(blockID), "content": .string(editor.content), "sender": .string(peer.name)]))
        guard reply.type == "ack" else { throw LoadgenError("creating \(blockID) failed: \(reply.text)") }
    }

    /// One patch; on a refusal the block is put back in step with a `full` (not measured).
    func write(record: Bool) async throws {
        let edit = editor.edit()
        let text = message(
            "patch", ["block_id": .string(blockID), "patch": .string(edit.patch), "sha": .string(edit.sha), "sender": .string(peer.name)])
        let reply = try await roundTrip(text)
        guard record else {
            if reply.type != "ack" { try await create() }
            return
        }
        sent += 1
        switch reply.type {
        case "ack":
            acks += 1
            latencies.add(reply.nanos)
        case "nack", "conflict":
            nacks += 1
            reasons[Frame.stringField("reason", in: reply.text) ?? reply.type, default: 0] += 1
            try await create()
        default:
            errors += 1
            reasons[Frame.stringField("reason", in: reply.text) ?? reply.type, default: 0] += 1
            try await create()
        }
    }
}

func runClosedLoop(_ context: RunContext, writers count: Int, duration: Double, maxWrites: Int, warmup: Int) async throws -> ScenarioResult {
    var result = ScenarioResult(scenario: "writers-\(count)", target: context.target)
    result.writers = count
    let peers = try await context.connectMany(count, prefix: "writer-")
    let writers = peers.enumerated().map { i, peer in
        ClosedLoopWriter(index: i, peer: peer, blockID: context.blockID("writers\(count)-w\(i).py"), seed: context.seed)
    }
    // Set-up: every writer creates its block (a `full`), then warms up.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in writers {
            group.addTask {
                try await writer.create()
                for _ in 0..<warmup { try await writer.write(record: false) }
            }
        }
        try await group.waitForAll()
    }
    // Let the set-up broadcasts arrive, then count from zero.
    try? await Task.sleep(for: .milliseconds(200))
    for writer in writers { writer.broadcasts.store(0) }

    let total = Counter()
    let deadline = monotonicNanos() + UInt64(duration * 1e9)
    let (_, server, client, seconds) = try await measured(context) {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in writers {
                group.addTask {
                    while monotonicNanos() < deadline, total.add() <= maxWrites {
                        try await writer.write(record: true)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    result.seconds = seconds
    var latencies = Latencies()
    var reasons = [String: Int]()
    for writer in writers {
        result.sent += writer.sent
        result.acks += writer.acks
        result.nacks += writer.nacks
        result.errors += writer.errors
        latencies.merge(writer.latencies)
        for (reason, n) in writer.reasons { reasons[reason, default: 0] += n }
    }
    result.latency = latencies.summary()
    result.acksPerSecond = Double(result.acks) / seconds
    // Every write is broadcast to the other writers: each should get the others' acked writes (and the
    // `full`s that put a refused write back in step).
    let expected = writers.indices.map { i in writers.indices.filter { $0 != i }.map { writers[$0].acks + writers[$0].nacks + writers[$0].errors }.reduce(0, +) }
    await settle(timeout: 5) { writers.indices.allSatisfy { writers[$0].broadcasts.load() >= expected[$0] } }
    result.broadcastsExpected = expected.reduce(0, +)
    result.broadcastsReceived = writers.map { $0.broadcasts.load() }.reduce(0, +)
    result.lost = max(0, result.broadcastsExpected - result.broadcastsReceived)
    fillCPU(&result, context, server: server, client: client, per: result.acks)
    await closeAll(peers)
    if !reasons.isEmpty { result.notes.append("refusals: " + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
    return result
}

/// Fills the CPU figures (server times in microseconds, client in seconds) and the server's memory; called
/// while the scenario's peers are still connected.
func fillCPU(_ result: inout ScenarioResult, _ context: RunContext, server: CPUTimes?, client: Double, per count: Int) {
    result.clientCPUSeconds = client
    if count > 0 { result.clientCPUMicrosPerAck = client * 1e6 / Double(count) }
    result.serverRSSMegabytes = context.residentMegabytes()
    if let server {
        result.serverCPUSeconds = server.total / 1e6
        result.serverCPUUtilisation = result.seconds > 0 ? server.total / 1e6 / result.seconds : nil
        if count > 0 {
            result.serverCPUMicrosPerAck = server.total / Double(count)
            result.serverSystemMicrosPerAck = server.system / Double(count)
        }
    }
}

// MARK: - Fan-out

/// One subscriber: which stamps it got and how late.
final class FanoutSubscriber: Sendable {
    struct State {
        var received: [UInt8]
        var latencies = Latencies()
        var count = 0
        var duplicates = 0
        var undecodable = 0
        var unique = 0
    }
    let state: Locked<State>
    let origin: UInt64

    init(peer: Peer, capacity: Int, origin: UInt64) {
        state = Locked(State(received: [UInt8](repeating: 0, count: capacity + 1)))
        self.origin = origin
        peer.setHandlers(
            reply: nil,
            broadcast: { [state] type, text, now in
                guard type == "patch" else { return }
                guard let stamp = Stamp.decode(frame: text) else {
                    state.withLock { $0.undecodable += 1 }
                    return
                }
                let sentAt = origin + stamp.micros * 1000
                state.withLock { state in
                    state.count += 1
                    guard stamp.number < state.received.count else { return }
                    if state.received[stamp.number] != 0 {
                        state.duplicates += 1
                        return
                    }
                    state.received[stamp.number] = 1
                    state.unique += 1
                    state.latencies.add(now > sentAt ? now - sentAt : 0)
                }
            })
    }
}

func runFanout(
    _ context: RunContext, subscribers count: Int, rate: Double, duration: Double, maxMessages: Int, drain: Double
) async throws -> ScenarioResult {
    var result = ScenarioResult(scenario: "fanout-\(count)@\(Int(rate))/s", target: context.target)
    result.subscribers = count
    result.writers = 1
    result.targetRate = rate
    let capacity = min(maxMessages, Int(rate * duration) + 1)
    let origin = monotonicNanos()
    let subscriberPeers = try await context.connectMany(count, prefix: "subscriber-")
    let writerPeer = try await context.connect("fanout-writer")
    let blockID = context.blockID("fanout\(count).py")
    var content = stampedContent(Stamp.encode(number: 0, micros: 0))

    // Replies come back in order on the writer's connection: reply k answers message k.
    struct WriterState {
        var sendTimes: [UInt64] = []
        var replies = 0
        var acked: [Bool] = []
        var ackLatencies = Latencies()
        var nacks = 0
        var errors = 0
        var reasons: [String: Int] = [:]
        var creating = true
    }
    let writerState = Locked(WriterState())
    let createSlot = ReplySlot()
    writerPeer.setHandlers(
        reply: { type, text, now in
            let isCreate = writerState.withLock { $0.creating }
            if isCreate {
                createSlot.deliver(type, text, now)
                return
            }
            writerState.withLock { state in
                let k = state.replies
                state.replies += 1
                guard k < state.sendTimes.count else { return }
                if type == "ack" {
                    state.acked[k] = true
                    state.ackLatencies.add(now &- state.sendTimes[k])
                } else {
                    if type == "nack" { state.nacks += 1 } else { state.errors += 1 }
                    state.reasons[Frame.stringField("reason", in: text) ?? type, default: 0] += 1
                }
            }
        }, broadcast: nil)
    createSlot.arm()
    try await writerPeer.send(message("full", ["block_id": .string(blockID), "content": .string(content), "sender": .string("fanout-writer")]))
    let created = await createSlot.wait()
    guard created.type == "ack" else { throw LoadgenError("creating the fan-out block failed: \(created.text)") }
    writerState.withLock { $0.creating = false }
    let subscribers = subscriberPeers.map { FanoutSubscriber(peer: $0, capacity: capacity, origin: origin) }
    try? await Task.sleep(for: .milliseconds(300))  // the `full` broadcast reaches everyone before counting

    let dmp = DiffMatchPatch()
    let interval = 1e9 / rate
    var sent = 0
    var sendSeconds = 0.0
    let (_, server, client, seconds) = try await measured(context) {
        let start = monotonicNanos()
        let end = start + UInt64(duration * 1e9)
        while sent < capacity - 1 {
            let due = start + UInt64(Double(sent) * interval)
            var now = monotonicNanos()
            if due > now + 200_000 {
                try? await Task.sleep(for: .nanoseconds(Int(due - now - 100_000)))
                now = monotonicNanos()
            }
            if now >= end { break }
            let number = sent + 1
            let micros = (monotonicNanos() - origin) / 1000
            let new = stampedContent(Stamp.encode(number: number, micros: micros))
            let patch = dmp.patchToText(dmp.patchMake(content, new))
            let text = message(
                "patch", ["block_id": .string(blockID), "patch": .string(patch), "sha": .string(SHA256.hexDigest(of: new)), "sender": .string("fanout-writer")])
            writerState.withLock { state in
                state.sendTimes.append(monotonicNanos())
                state.acked.append(false)
            }
            try await writerPeer.send(text)
            content = new
            sent += 1
        }
        sendSeconds = Double(monotonicNanos() - start) / 1e9
        await settle(timeout: drain) { writerState.withLock { $0.replies >= sent } }
    }
    // Every acked message must reach every subscriber.
    let acked = writerState.withLock { $0.acked }
    let ackedNumbers = acked.indices.filter { acked[$0] }.map { $0 + 1 }
    await settle(timeout: drain) {
        subscribers.allSatisfy { sub in sub.state.withLock { $0.unique >= ackedNumbers.count } }
    }
    let writer = writerState.withLock { $0 }
    result.seconds = seconds
    result.sent = sent
    result.acks = ackedNumbers.count
    result.nacks = writer.nacks
    result.errors = writer.errors
    result.acksPerSecond = Double(result.acks) / sendSeconds
    result.achievedRate = Double(sent) / sendSeconds
    result.latency = writer.ackLatencies.summary()
    var delivery = Latencies()
    var undecodable = 0
    for subscriber in subscribers {
        subscriber.state.withLock { state in
            delivery.merge(state.latencies)
            result.broadcastsReceived += state.count
            result.duplicates += state.duplicates
            undecodable += state.undecodable
            result.lost += ackedNumbers.filter { state.received[$0] == 0 }.count
        }
    }
    result.broadcastsExpected = ackedNumbers.count * count
    result.delivery = delivery.summary()
    fillCPU(&result, context, server: server, client: client, per: result.acks)
    if !writer.reasons.isEmpty {
        result.notes.append("refusals: " + writer.reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }
    await closeAll(subscriberPeers + [writerPeer])
    if writer.replies < sent {
        result.notes.append("\(sent - writer.replies) of \(sent) writes not answered \(Int(drain)) s after the writer stopped (the server fell behind the rate)")
    }
    if result.lost > 0 { result.notes.append("lost = acked messages a subscriber had not received \(Int(drain)) s after the writer stopped") }
    if undecodable > 0 { result.notes.append("\(undecodable) patch broadcasts without a readable stamp") }
    if result.duplicates > 0 { result.notes.append("\(result.duplicates) duplicate deliveries") }
    return result
}

// MARK: - Request round trips

/// `get_snapshot` latency: the whole document as one message.
func runSnapshots(_ context: RunContext, count: Int, duration: Double) async throws -> ScenarioResult {
    var result = try await runRequests(
        context, scenario: "snapshot", request: { message("get_snapshot", [:]) }, replyType: "snapshot", count: count, duration: duration)
    result.notes.append("snapshot message \(result.replyBytes) bytes; acks = snapshots received; µs/ack = server CPU per snapshot")
    return result
}

/// The floor of a request: `hello` answered by `hello` on an open connection, through the same reader, handler
/// and writer as a write but with no storage, so a writer's ack latency minus this is what its commit costs.
func runRoundTrips(_ context: RunContext, count: Int, duration: Double) async throws -> ScenarioResult {
    var result = try await runRequests(
        context, scenario: "roundtrip", request: { message("hello", ["name": .string("roundtrip")]) }, replyType: "hello", count: count,
        duration: duration)
    result.notes.append("hello → hello on one connection (no storage): the request path's floor; acks = replies")
    return result
}

/// One connection sending `request()` and waiting for its reply, again and again.
func runRequests(
    _ context: RunContext, scenario: String, request: () -> String, replyType: String, count: Int, duration: Double
) async throws -> ScenarioResult {
    var result = ScenarioResult(scenario: scenario, target: context.target)
    let peer = try await context.connect("\(scenario)-client")
    let slot = ReplySlot()
    peer.setHandlers(reply: { type, text, now in slot.deliver(type, text, now) }, broadcast: nil)
    var latencies = Latencies()
    let deadline = monotonicNanos() + UInt64(duration * 1e9)
    let (_, server, client, seconds) = try await measured(context) {
        while result.sent < count, monotonicNanos() < deadline {
            slot.arm()
            let started = monotonicNanos()
            try await peer.send(request())
            let reply = await slot.wait()
            result.sent += 1
            if reply.type == replyType {
                result.acks += 1
                latencies.add(reply.receivedNanos &- started)
                result.replyBytes = reply.text.utf8.count
            } else if reply.type == "closed" {
                throw LoadgenError("the server closed the \(scenario) connection")
            } else {
                result.errors += 1
            }
        }
    }
    result.seconds = seconds
    result.latency = latencies.summary()
    result.acksPerSecond = Double(result.acks) / seconds
    fillCPU(&result, context, server: server, client: client, per: result.acks)
    await closeAll([peer])
    return result
}
