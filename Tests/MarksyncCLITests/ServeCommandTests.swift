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
        let binary = try builtBinary()
        let readme = try temporaryFile("README.md", "# Demo\n\n``` markpact:run\necho hi\n```\n")
        let folder = URL(fileURLWithPath: readme).deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", readme, "--port", "0", "--db", folder.appendingPathComponent("log.db").path]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let (port, _) = try await readListeningPort(pipe.fileHandleForReading)
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
}
