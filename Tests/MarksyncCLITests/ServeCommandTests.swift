import Foundation
import MarksyncCLI
import MarksyncCore
import MarksyncStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MarksyncTestSupport
import Testing

struct ServeCommandTests {
    @Test func nonLoopbackWithoutTokensIsRefused() async throws {
        let readme = try temporaryFile("README.md", "``` markpact:run\necho hi\n```\n")
        let result = await runCLI(["serve", readme, "--host", "0.0.0.0", "--port", "0", "--tokens", ""])
        #expect(result.code == 2)
        #expect(result.err.contains("--allow-unauthenticated"))
    }

    /// Tokens never appear in what the server prints, even at debug level and after refused requests.
    @Test func tokensAreNotLogged() async throws {
        let binary = try builtBinary()
        let readme = try temporaryFile("README.md", "``` markpact:run\necho hi\n```\n")
        let folder = URL(fileURLWithPath: readme).deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", readme, "--port", "0", "--db", folder.appendingPathComponent("log.db").path, "--tokens", "sekrit-w1:write,sekrit-r1:read"]
        process.environment = ProcessInfo.processInfo.environment.merging(["LOG_LEVEL": "trace"]) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let (port, buffer) = try await readListeningPort(out.fileHandleForReading)
        for token in ["sekrit-w1", "sekrit-r1", "wrong-sekrit"] {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/docs/\(folder.lastPathComponent)/blocks/markpact%3Arun?token=\(token)")!)
            request.httpMethod = "PUT"
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data("echo \(token)".utf8)
            _ = try? await URLSession.shared.data(for: request)
        }
        kill(process.processIdentifier, SIGTERM)
        try await waitForExit(process)
        let printed = buffer + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(port > 0)
        #expect(!printed.contains("sekrit"), "a token was printed")
    }

    /// `serve` as a child process: SIGTERM stops it cleanly (exit 0) with the README flushed.
    @Test func sigtermStopsCleanly() async throws {
        let (process, readme, port) = try await Self.startServe()
        let folder = URL(fileURLWithPath: readme).deletingLastPathComponent()
        #expect(port > 0, "the server did not report its port")
        // A change through the HTTP API, then SIGTERM.
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/docs/\(folder.lastPathComponent)/blocks/markpact%3Arun")!)
        request.httpMethod = "PUT"
        request.httpBody = Data("echo bye".utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        kill(process.processIdentifier, SIGTERM)
        try await waitForExit(process)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        #expect(text == "# Demo\n\n``` markpact:run\necho bye\n```\n")
    }

    /// Issue 17: SIGTERM ends `serve` within 5 s whatever is connected: an idle WebSocket (it gets a close frame),
    /// an SSE stream (it ends), a half-closed socket in CLOSE-WAIT and a request head sent halfway.
    @Test func sigtermStopsWithinSecondsWhateverIsConnected() async throws {
        let (process, readme, port) = try await Self.startServe()
        let document = URL(fileURLWithPath: readme).deletingLastPathComponent().lastPathComponent
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try #require(port > 0, "the server did not report its port")
        let headEnded: @Sendable ([UInt8]) -> Bool = { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }

        let socket = try RawSocket(port: port)
        socket.send(
            "GET / HTTP/1.1\nHost: 127.0.0.1:\(port)\nUpgrade: websocket\nConnection: Upgrade\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n")
        let upgraded = try await socket.read(timeout: .seconds(10), until: headEnded)
        #expect(String(decoding: upgraded.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 101"))
        let stream = try RawSocket(port: port)
        stream.send("GET /api/v1/docs/\(document)/events/stream HTTP/1.1\nHost: 127.0.0.1:\(port)\n\n")
        let streaming = try await stream.read(timeout: .seconds(10)) { String(decoding: $0, as: UTF8.self).contains("marksync-log events") }
        #expect(String(decoding: streaming.bytes, as: UTF8.self).contains("text/event-stream"))
        let halfClosed = try RawSocket(port: port)
        halfClosed.send("GET /health HTTP/1.1\nHost: 127.0.0.1:\(port)\n")
        halfClosed.shutdownWrite()
        let slow = try RawSocket(port: port)
        slow.send("GET /health HTTP/1.1\nHost: 127.0.0.1:\(port)\nX-Slow: ")

        let started = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        // The WebSocket is told the server is going away (close frame, code 1001 = 0x03E9).
        // (The manifest came first, as a text frame.)
        let closing = try await socket.read(timeout: .seconds(5)) { Self.closeCode(in: $0) != nil }
        // 1001 (going away) from the server's shutdown, or 1000 when hummingbird-websocket's own shutdown handler wins.
        let code = Self.closeCode(in: closing.bytes)
        #expect(code == 1001 || code == 1000, "a close frame: \(closing.bytes.prefix(16))")
        let ended = try await stream.read(timeout: .seconds(5))
        #expect(ended.closed, "the event stream ended")
        let exited = try await waitUntil(timeout: .seconds(5)) { !process.isRunning }
        let elapsed = ContinuousClock.now - started
        #expect(exited, "serve still running \(elapsed) after SIGTERM")
        if exited {
            // 0: stopped gracefully, or cancelled after the grace period (the WebSocket client never answers the
            // close; the slow head is closed at once). 1 would be the hard deadline: a connection that held on.
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0, "exit status \(process.terminationStatus)")
        }
        print("serve stopped \(elapsed) after SIGTERM with a WebSocket, an SSE stream, a half-closed and a slow socket open")
    }

    /// `serve` of a new one-block README as a child process on a free port (0 when it did not report one).
    static func startServe() async throws -> (process: Process, readme: String, port: Int) {
        let readme = try temporaryFile("README.md", "# Demo\n\n``` markpact:run\necho hi\n```\n")
        let folder = URL(fileURLWithPath: readme).deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtBinary())
        process.arguments = ["serve", readme, "--port", "0", "--db", folder.appendingPathComponent("log.db").path]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let (port, _) = try await readListeningPort(pipe.fileHandleForReading)
        return (process, readme, port)
    }

    /// The code of the first close frame among unmasked server frames (nil before one arrived whole).
    static func closeCode(in bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 2 <= bytes.count {
            let opcode = bytes[index] & 0x0F
            var length = Int(bytes[index + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard index + 4 <= bytes.count else { return nil }
                length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
                header = 4
            } else if length == 127 {
                guard index + 10 <= bytes.count else { return nil }
                length = bytes[(index + 2)..<(index + 10)].reduce(0) { $0 << 8 | Int($1) }
                header = 10
            }
            guard index + header + length <= bytes.count else { return nil }
            if opcode == 0x8 {
                guard length >= 2 else { return 1005 }
                return Int(bytes[index + header]) << 8 | Int(bytes[index + header + 1])
            }
            index += header + length
        }
        return nil
    }
}
