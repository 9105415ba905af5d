import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MarksyncTestSupport
import Testing

/// Issue 17: every long-running command ends within seconds of SIGINT/SIGTERM whatever is connected, and a
/// second signal ends it at once. Each command runs as a child process of the built binary.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct StopTests {
    /// The built binary with `arguments` in `folder`, `MARKSYNC_HOME` inside it, standard output piped.
    static func launch(_ arguments: [String], in folder: URL) throws -> (process: Process, output: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtBinary())
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(["MARKSYNC_HOME": folder.appendingPathComponent("home").path]) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Sends `signal` and waits up to 5 s for the process to end: how long it took, or nil if it did not.
    static func stop(_ process: Process, with signal: Int32 = SIGTERM) async throws -> Duration? {
        let started = ContinuousClock.now
        kill(process.processIdentifier, signal)
        let exited = try await waitUntil(timeout: .seconds(5)) { !process.isRunning }
        return exited ? ContinuousClock.now - started : nil
    }

    /// A WebSocket upgrade of `/` by a client that will never answer a close frame.
    static func idleWebSocket(port: Int) async throws -> RawSocket {
        let socket = try RawSocket(port: port)
        socket.send(
            "GET / HTTP/1.1\nHost: 127.0.0.1:\(port)\nUpgrade: websocket\nConnection: Upgrade\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n")
        let upgraded = try await socket.read(timeout: .seconds(10)) { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        #expect(String(decoding: upgraded.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 101"))
        return socket
    }

    /// The graceful stop of `serve` waits (up to its grace period) for a WebSocket client that never answers
    /// the close frame; a second SIGINT meanwhile ends the process at once, with exit status 130.
    @Test func secondSigintEndsServeAtOnce() async throws {
        let (process, _, port) = try await ServeCommandTests.startServe()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try #require(port > 0, "the server did not report its port")
        let socket = try await Self.idleWebSocket(port: port)
        kill(process.processIdentifier, SIGINT)
        // The close frame shows the graceful stop has begun; the client does not answer it.
        let closing = try await socket.read(timeout: .seconds(5)) { ServeCommandTests.closeCode(in: $0) != nil }
        #expect(ServeCommandTests.closeCode(in: closing.bytes) != nil)
        let took = try await Self.stop(process, with: SIGINT)
        #expect(took != nil, "serve still running after a second SIGINT")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130, "exit status \(process.terminationStatus): the second signal was not what ended it")
    }

    /// `api` with an idle connection and a request head sent halfway ends within 5 s of SIGTERM.
    @Test func apiStopsWithinSeconds() async throws {
        let folder = try temporaryFolder("stop-api")
        let (process, output) = try Self.launch(["api", "--port", "0", "--server", "ws://127.0.0.1:9"], in: folder)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let (port, _) = try await readListeningPort(output.fileHandleForReading)
        try #require(port > 0, "api did not report its port")
        let idle = try RawSocket(port: port)
        let slow = try RawSocket(port: port)
        slow.send("GET /api/v1/status HTTP/1.1\nHost: 127.0.0.1:\(port)\nX-Slow: ")
        let took = try await Self.stop(process)
        #expect(took != nil, "api still running 5 s after SIGTERM")
        #expect(process.terminationReason == .exit)
        _ = (idle, slow)
    }

    /// `watch`, connected to a server and following it, ends within 5 s of SIGTERM.
    @Test func watchStopsWithinSeconds() async throws {
        let server = try await LiveSyncServer.start(markdown: "# W\n\n```bash markpact:run\necho hi\n```\n")
        let readme = server.folder.appendingPathComponent("README.md")
        try "# W\n\n```bash markpact:run\necho hi\n```\n".write(to: readme, atomically: true, encoding: .utf8)
        let (process, _) = try Self.launch(["watch", readme.path, "--server", server.url, "--name", "stopper"], in: server.folder)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let connected = try await waitUntil(timeout: .seconds(30)) {
            let (data, _) = try await URLSession.shared.data(from: URL(string: server.httpBase + "/health")!)
            return ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["clients"] as? Int ?? 0) >= 1
        }
        #expect(connected, "watch never connected")
        let took = try await Self.stop(process)
        #expect(took != nil, "watch still running 5 s after SIGTERM")
        await server.stop()
    }

    /// `sandbox` (serve over copies of the examples) with an idle WebSocket ends within 5 s of SIGTERM.
    @Test func sandboxStopsWithinSeconds() async throws {
        let folder = try temporaryFolder("stop-sandbox")
        let examples = repositoryRoot.appendingPathComponent("examples").path
        let (process, output) = try Self.launch(
            ["sandbox", "--port", "0", "--examples", examples, "--folder", folder.appendingPathComponent("sandbox").path], in: folder)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let (port, _) = try await readListeningPort(output.fileHandleForReading)
        try #require(port > 0, "sandbox did not report its port")
        let socket = try await Self.idleWebSocket(port: port)
        let took = try await Self.stop(process)
        #expect(took != nil, "sandbox still running 5 s after SIGTERM")
        #expect(process.terminationReason == .exit)
        _ = socket
    }
}
