#if os(Linux)
import Foundation
import Glibc
import HummingbirdCore
import MarksyncCore
import NIOCore
@testable import MarksyncServer
import MarksyncTestSupport
import Synchronization
import Testing

// Issue 16, point 3: connection storms, slow or idle connections, ids under descriptor exhaustion, and
// unbounded per-connection state. Every socket is to 127.0.0.1 on a port the OS chose; every wait is
// bounded and fails the test when it runs out.

@Suite("Connection limits and timeouts")
struct ConnectionLimitTests {
    // MARK: - Limits

    @Test("a connection over the limit is accepted and closed at once, and counted")
    func overTheLimit() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.maxConnections = 3 })
        defer { Task { await live.stop() } }
        var held = [RawSocket]()
        for _ in 0..<3 { held.append(try await RawSocket.connect(port: live.port)) }
        // The gate counts a connection when the server sets it up; wait until the three are in.
        #expect(try await waitUntil(timeout: .seconds(20)) { live.server.metrics.connectionLimits.count(of: .maxConnections) == 0 && Self.heldCount(live) == 3 })
        let refused = try await RawSocket.connect(port: live.port)
        let (_, closed) = await refused.readUntilClosed(timeout: .seconds(15))
        #expect(closed, "the fourth connection is closed by the server")
        #expect(held.allSatisfy { !$0.peerClosed }, "the three under the limit stay open")
        held.removeLast().close()
        // Its slot comes back: /health answers on a new connection (retried until the close is seen).
        #expect(try await waitUntil(timeout: .seconds(20)) {
            await RawSocket.get(port: live.port, "/health", timeout: .seconds(2))?.hasPrefix("HTTP/1.1 200") == true
        })
        for socket in held { socket.close() }
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.heldCount(live) == 0 })
        let metrics = await RawSocket.get(port: live.port, "/metrics") ?? ""
        #expect((RawSocket.metric(metrics, #"marksync_connections_refused_total{reason="max_connections"}"#) ?? 0) >= 1)
    }

    @Test("the per-address limit applies to loopback")
    func perAddress() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.maxConnectionsPerAddress = 2 })
        defer { Task { await live.stop() } }
        let first = try await RawSocket.connect(port: live.port)
        let second = try await RawSocket.connect(port: live.port)
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.heldCount(live) == 2 })
        let third = try await RawSocket.connect(port: live.port)
        let (_, closed) = await third.readUntilClosed(timeout: .seconds(15))
        #expect(closed)
        #expect(live.server.metrics.connectionLimits.count(of: .maxConnectionsPerAddress) >= 1)
        #expect(!first.peerClosed && !second.peerClosed)
    }

    @Test("defaults follow the descriptor limit")
    func defaults() {
        #expect(ConnectionLimits.defaultMaxConnections(descriptorLimit: 1024, processors: 2) == 1024 - 72)
        #expect(ConnectionLimits.defaultMaxConnections(descriptorLimit: 64, processors: 8) == 16)
        #expect(ConnectionLimits.defaultMaxConnections(descriptorLimit: nil, processors: 2) == 65_536)
        #expect(ConnectionLimits().effectiveMaxConnections >= 16)
    }

    // MARK: - Timeouts

    @Test("a request head sent a byte at a time is cut at the header timeout")
    func slowloris() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.headerTimeout = .milliseconds(1500) })
        defer { Task { await live.stop() } }
        let socket = try await RawSocket.connect(port: live.port)
        let started = ContinuousClock.now
        let head = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + String(repeating: "a", count: 64))
        var closedAfter: Duration?
        for character in head {
            // A byte every 250 ms: never idle for long, never done.
            guard await socket.sendAll(String(character)) else { break }
            if case (_, true) = await socket.readUntilClosed(timeout: .milliseconds(250)) {
                closedAfter = ContinuousClock.now - started
                break
            }
            if ContinuousClock.now - started > .seconds(15) { break }
        }
        let after = try #require(closedAfter, "the connection was still open after 15 s")
        #expect(after >= .milliseconds(1200) && after < .seconds(12), "closed after \(after)")
        #expect(live.server.metrics.connectionLimits.count(of: .headerTimeout) >= 1)
    }

    @Test("a connection that sends nothing is closed at the header timeout; an idle keep-alive one at the idle timeout")
    func idle() async throws {
        let live = try await ConnectionLimitKit.start(
            ConnectionLimitKit.limits {
                $0.headerTimeout = .seconds(1)
                $0.idleTimeout = .seconds(1)
            })
        defer { Task { await live.stop() } }
        let silent = try await RawSocket.connect(port: live.port)
        let started = ContinuousClock.now
        let (_, silentClosed) = await silent.readUntilClosed(timeout: .seconds(15))
        #expect(silentClosed)
        #expect(ContinuousClock.now - started < .seconds(12))

        let keepAlive = try await RawSocket.connect(port: live.port)
        #expect(await keepAlive.sendAll("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        let answered = ContinuousClock.now
        let (text, closed) = await keepAlive.readUntilClosed(timeout: .seconds(15))
        #expect(text.hasPrefix("HTTP/1.1 200"), "\(text.prefix(200))")
        #expect(closed, "the idle keep-alive connection is closed")
        #expect(ContinuousClock.now - answered < .seconds(12))
    }

    @Test("a WebSocket peer that never answers a ping is closed")
    func noPong() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.pingInterval = .milliseconds(500) })
        defer { Task { await live.stop() } }
        let socket = try await RawSocket.connect(port: live.port)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        #expect(
            await socket.sendAll(
                "GET /sync?doc=demo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"))
        let started = ContinuousClock.now
        // Read frames (the manifest, pings) and never answer: the server closes after a missed pong.
        let (text, closed) = await socket.readUntilClosed(timeout: .seconds(15))
        #expect(text.hasPrefix("HTTP/1.1 101"), "\(text.prefix(120))")
        #expect(closed, "still open 15 s after the upgrade")
        #expect(ContinuousClock.now - started < .seconds(12))
    }

    @Test("a sync connection that presents no valid token is closed at the header timeout")
    func unauthenticated() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.headerTimeout = .seconds(1) }, tokens: "s3cret:write")
        defer { Task { await live.stop() } }
        let socket = try await TestSocket.connect(port: live.port, path: "/sync?doc=demo", timeout: .seconds(20))
        #expect(await socket.next(types: ["error"], timeout: .seconds(15))?["reason"]?.stringValue == "unauthorized")
        let started = ContinuousClock.now
        #expect(try await waitUntil(timeout: .seconds(20)) { socket.isClosed }, "still open 20 s later")
        #expect(ContinuousClock.now - started < .seconds(12))
        #expect(live.server.metrics.connectionLimits.count(of: .authTimeout) == 1)
    }

    @Test("a connection whose peer stops reading is closed at the write timeout")
    func writeStall() async throws {
        // 8 MiB of markdown: more than the server's socket buffer (4 MiB at most here) and the client's.
        let line = String(repeating: "x", count: 127) + "\n"
        let markdown = "# Big\n\n```markpact:file=big.txt\n" + String(repeating: line, count: 65_536) + "```\n"
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.writeTimeout = .seconds(1) }, markdown: markdown)
        defer { Task { await live.stop() } }
        let socket = try await RawSocket.connect(port: live.port, receiveBuffer: 4096)
        #expect(await socket.sendAll("GET /api/v1/docs/demo/markdown HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        // Never read: the server's output stays blocked, and the connection is closed.
        #expect(try await waitUntil(timeout: .seconds(30)) { live.server.metrics.connectionLimits.count(of: .writeTimeout) == 1 })
        #expect(try await waitUntil(timeout: .seconds(20)) { Self.heldCount(live) == 0 })
        socket.close()
    }

    // MARK: - Server-sent events

    @Test("event streams of a document are capped: one more is answered 503 too_many_streams")
    func eventStreams() async throws {
        let live = try await ConnectionLimitKit.start(ConnectionLimitKit.limits { $0.maxEventStreamsPerDocument = 2 })
        defer { Task { await live.stop() } }
        func open() async throws -> (RawSocket, String) {
            let socket = try await RawSocket.connect(port: live.port)
            await socket.sendAll("GET /api/v1/docs/demo/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let (text, _) = await socket.readUntilClosed(timeout: .seconds(15)) { $0.contains(": marksync-log events") || $0.contains("\r\n\r\n{") }
            return (socket, text)
        }
        let (first, firstText) = try await open()
        let (second, _) = try await open()
        #expect(firstText.hasPrefix("HTTP/1.1 200"))
        let (third, thirdText) = try await open()
        #expect(thirdText.hasPrefix("HTTP/1.1 503"), "\(thirdText.prefix(200))")
        #expect(thirdText.contains("too_many_streams"))
        third.close()
        // A client that leaves gives its slot back, although no event came.
        first.close()
        #expect(try await waitUntil(timeout: .seconds(20)) { live.server.eventStreams.count("demo") == 1 })
        let (fourth, fourthText) = try await open()
        #expect(fourthText.hasPrefix("HTTP/1.1 200"), "\(fourthText.prefix(200))")
        second.close()
        fourth.close()
    }

    @Test("a body built in memory is not taken for one that reads from its connection (Hummingbird would trap)")
    func inMemoryBody() {
        #expect(!RequestBody(buffer: ByteBuffer(string: "x")).readsFromConnection)
    }

    // MARK: - Ids

    @Test("ids are unique, version 4 and never zero")
    func randomIDs() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RandomID.make()
            #expect(id.count == 36)
            #expect(Array(id)[14] == "4")
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        #expect(!seen.contains("00000000-0000-4000-8000-000000000000"))
    }

    @Test("ids stay unique and nonzero when the process has no descriptor left")
    func randomIDsWithoutDescriptors() async throws {
        let binary = try marksyncBinary()
        let result = try await runToEnd(
            "/bin/sh", ["-c", #"ulimit -n 256 && exec "$0" debug random-ids --exhaust-descriptors --count 500"#, binary])
        #expect(result.status == 0, "\(result.error.suffix(500))")
        let ids = result.output.split(separator: "\n").map(String.init)
        let distinct = Set(ids).count
        let zeros = ids.count { $0 == "00000000-0000-4000-8000-000000000000" }
        #expect(ids.count == 500)
        #expect(distinct == 500, "ids repeat: \(ids.prefix(3))")
        #expect(zeros == 0, "\(ids.prefix(3))")
    }

    // MARK: - Helpers

    static func heldCount(_ live: LiveSyncServer) -> Int {
        let text = live.server.metrics.connectionLimits.render()
        return RawSocket.metric(text, "marksync_tcp_connections") ?? -1
    }
}
#endif
