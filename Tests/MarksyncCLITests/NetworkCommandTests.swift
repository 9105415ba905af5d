import Foundation
import MarksyncCLI
import MarksyncClient
import MarksyncCore
import MarksyncStore
import MarksyncTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A port on 127.0.0.1 that nothing listens on (the OS picks it; the socket is closed again).
func unusedLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CLIError.failure("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard bound == 0 else { throw CLIError.failure("bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The network commands' surface: `serve` refusing a missing README, `push` sending prose, the seed's
/// `--server-uri`, and connection errors for people.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct NetworkCommandTests {
    static let readme = """
        # Demo

        Intro prose.

        ```python markpact:file path=app.py
        print(1)

        ```

        Between the blocks.

        ```bash markpact:run
        python app.py
        ```

        Closing words.

        """

    @Test func serveRefusesAMissingReadme() async throws {
        let folder = try temporaryFolder("serve-missing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("missing.md").path
        let started = ContinuousClock.now
        let result = await runCLI(["serve", missing, "--port", "0"])
        #expect(result.code == 2, "\(result.err)")
        #expect(result.err.contains("missing.md does not exist"), "\(result.err)")
        #expect(result.err.contains("--init"), "\(result.err)")
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".marksync").path), "serve created .marksync/ for a typo")
    }

    @Test func serveInitCreatesTheReadme() async throws {
        let folder = try temporaryFolder("serve-init")
        defer { try? FileManager.default.removeItem(at: folder) }
        let readme = folder.appendingPathComponent("README.md").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtBinary())
        process.arguments = ["serve", readme, "--init", "--port", "0", "--host", "127.0.0.1"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let (port, printed) = try await readListeningPort(out.fileHandleForReading, timeout: .seconds(60))
        #expect(port > 0, "serve --init did not start: \(printed)")
        #expect(FileManager.default.fileExists(atPath: readme))
        #expect((try? String(contentsOfFile: readme, encoding: .utf8))?.hasPrefix("# ") == true)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".marksync/log.db").path))
        process.terminate()
        try await waitForExit(process)
    }

    /// A prose edit reaches the server as a `prose` event; `--server-uri` (the seed's name) is accepted.
    @Test func pushSendsProseEdits() async throws {
        let server = try await LiveSyncServer.start(markdown: Self.readme)
        defer { Task { await server.stop() } }
        let file = try temporaryFile("README.md", Self.readme.replacingOccurrences(of: "Between the blocks.", with: "Between the blocks, edited."))
        let before = try await server.log.headSeq("demo")
        let result = await runCLI(["push", file, "--server-uri", server.url])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("prose"), "\(result.out)")
        let head = try await server.log.head("demo")
        #expect(head.seq == before + 1)
        #expect(head.render() == (try String(contentsOfFile: file, encoding: .utf8)))
        let events = try await server.log.history("demo").filter { $0.seq > before }
        #expect(events.map(\.body.kind) == [.proseEdited])

        // Nothing left to send: in sync, exit 0, nothing stored.
        let again = await runCLI(["push", file, "--server", server.url])
        #expect(again.code == 0, "\(again.err)")
        #expect(again.err.contains("in sync"), "\(again.err)")
        #expect(try await server.log.headSeq("demo") == head.seq)
    }

    /// Prose whose place on the server is unknown (next to a block the file does not have) is named, exit 1;
    /// prose whose neighbours the server has in the same order is sent.
    @Test func pushNamesProseItCannotSend() async throws {
        let server = try await LiveSyncServer.start(markdown: Self.readme + "```text markpact:notes\nserver only\n```\n")
        defer { Task { await server.stop() } }
        let edited = Self.readme.replacingOccurrences(of: "Closing words.", with: "Closing words, edited.")
            .replacingOccurrences(of: "Intro prose.", with: "Intro prose, edited.")
        let file = try temporaryFile("README.md", edited)
        let result = await runCLI(["push", file, "--server", server.url])
        #expect(result.code == 1, "\(result.err)")
        #expect(result.err.contains("not sent: prose"), "\(result.err)")
        #expect(try await server.log.head("demo").prose[0].contains("Intro prose, edited."))
    }

    /// A change the protocol cannot carry (a block's fence line) is not silently dropped: push exits 1
    /// naming it, and the rest of the file is still sent.
    @Test func pushFailsNamingAFenceLineItCannotSend() async throws {
        let server = try await LiveSyncServer.start(markdown: Self.readme)
        defer { Task { await server.stop() } }
        let edited = Self.readme.replacingOccurrences(of: "```python markpact:file path=app.py", with: "````python markpact:file path=app.py")
            .replacingOccurrences(of: "print(1)\n\n```", with: "print(1)\n\n````")
            .replacingOccurrences(of: "Between the blocks.", with: "Between the blocks, edited.")
        let file = try temporaryFile("README.md", edited)
        let result = await runCLI(["push", file, "--server", server.url])
        #expect(result.code == 1, "\(result.err)")
        #expect(result.err.contains("not sent: the fence line of markpact:file=app.py"), "\(result.err)")
        #expect(try await server.log.head("demo").render().contains("Between the blocks, edited."))
    }

    @Test func connectionRefusedIsSaidPlainly() async throws {
        let port = try unusedLoopbackPort()
        let file = try temporaryFile("README.md", Self.readme)
        let started = ContinuousClock.now
        for command in [["push", file], ["pull", file, "--stdout"], ["watch", file, "--once"]] {
            let result = await runCLI(command + ["--server", "ws://127.0.0.1:\(port)"])
            #expect(result.code == 1, "\(command[0]): \(result.err)")
            #expect(
                result.err.contains("cannot connect to ws://127.0.0.1:\(port): connection refused — is `marksync-log serve` running?"),
                "\(command[0]): \(result.err)")
            #expect(!result.err.contains("SingleConnectionFailure") && !result.err.contains("IPv4"), "\(result.err)")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func helpHasExamples() async throws {
        for command in ["serve", "push", "pull", "watch", "agent", "orchestrate", "shell", "api", "sandbox"] {
            let result = await runCLI([command, "--help"])
            #expect(result.out.contains("Examples:") || result.err.contains("Examples:"), "\(command) --help has no examples")
        }
        let orchestrate = await runCLI(["orchestrate", "--help"])
        let text = orchestrate.out + orchestrate.err
        #expect(text.components(separatedBy: "agents.yml)").count <= 2, "orchestrate -c says its default twice: \(text)")
        let push = await runCLI(["push", "--help"])
        #expect((push.out + push.err).contains("--server-uri"))
    }
}
