import Foundation
import MarksyncCLI
import MarksyncClient
import MarksyncCore
import MarksyncTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// This project's client against the real seed server (`marksync server` from PyPI, 0.2.17), which speaks
/// only the seed's protocol: `push` of an unchanged seed README leaves its file byte for byte (the seed's
/// server rewrote it, growing it by the blank lines, when blocks were sent with them), new blocks go as
/// `full`, `watch` follows its broadcasts, `pull --at` and `agent` refuse at once with a clear message.
///
/// The seed comes from scripts/setup.sh (`pip install --no-deps marksync==0.2.17` and its light
/// dependencies). Without it these tests fail in CI (`CI` set) and are skipped with a note elsewhere.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SeedServerTests {
    static let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"

    static func seedExample(_ name: String) -> URL {
        repoRoot.appendingPathComponent("tools/interop/seed-examples/\(name)/README.md")
    }

    /// Fails in CI and skips elsewhere when python3 with marksync 0.2.17 is missing.
    static func requireSeed() async throws {
        let check = try await runToEnd("/usr/bin/env", [python, repoRoot.appendingPathComponent("tools/interop/check_env.py").path])
        guard check.status != 0 else { return }
        let message = "the seed (marksync 0.2.17 from PyPI) is missing: \(check.output) \(check.error.suffix(300)). Install it with scripts/setup.sh"
        let ci = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" && $0 != "false" } ?? false
        if ci {
            Issue.record(Comment(rawValue: message))
            throw CLIError.failure(message)
        }
        try Test.cancel(Comment(rawValue: "skipped: \(message)"))
    }

    /// The real `marksync server README.md` on 127.0.0.1 and a port the OS chose, in a temporary folder.
    final class SeedServer: @unchecked Sendable {
        let process = Process()
        let folder: URL
        let port: Int
        var url: String { "ws://127.0.0.1:\(port)" }
        var readme: URL { folder.appendingPathComponent("README.md") }

        init(copying readme: URL) async throws {
            folder = try temporaryFolder("seed-server")
            try FileManager.default.copyItem(at: readme, to: folder.appendingPathComponent("README.md"))
            port = try unusedLoopbackPort()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                SeedServerTests.python, repoRoot.appendingPathComponent("tools/interop/marksync_cli.py").path, "server", "README.md",
                "--host", "127.0.0.1", "--port", "\(port)",
            ]
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Ready when a client gets its manifest (Python takes a few seconds to start).
            let deadline = ContinuousClock.now + .seconds(40)
            while ContinuousClock.now < deadline {
                var options = SyncClient.Options()
                options.reconnect = false
                options.connectTimeout = .seconds(2)
                if let client = try? await SyncClient.connect(to: url, options: options) {
                    await client.close()
                    return
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            stop()
            throw CLIError.failure("the seed server did not start on port \(port)")
        }

        func stop() {
            // The seed's server ignores SIGTERM (its event loop keeps serving): SIGKILL it.
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: folder)
        }

        /// The seed server's README after it had time to save.
        func file() async throws -> String {
            try await Task.sleep(for: .milliseconds(300))
            return try String(contentsOf: readme, encoding: .utf8)
        }
    }

    /// `push` of the unchanged README leaves the seed's file as it is, again and again; a changed block is
    /// written by the seed without growing the file; a new block goes as `full` (the seed has no `create`),
    /// quickly (the seed ignores unknown messages: waiting for their reply took 30 s).
    @Test(arguments: ["rest-api-do-zarz-dzania-zam-wieniami-z-walidacj", "example-1"])
    func pushAgainstTheSeedServer(example: String) async throws {
        try await Self.requireSeed()
        let seed = try await SeedServer(copying: Self.seedExample(example))
        defer { seed.stop() }
        let original = try await seed.file()
        let local = try temporaryFile("README.md", original)

        for round in 1...3 {
            let result = await runCLI(["push", local, "--server", seed.url])
            #expect(result.code == 0, "round \(round): \(result.err)")
            #expect(result.err.contains("speaks only the seed's protocol"), "\(result.err)")
            #expect(result.out.isEmpty, "round \(round): the unchanged file sent writes: \(result.out)")
            #expect(try await seed.file() == original, "round \(round): the seed's README changed")
        }

        // One block changed: the seed's file changes in that block only, with as many lines as before.
        let document = MarkpactDocument(parsing: original)
        let block = try #require(document.blocks.first { SeedContent.differs($0.content) } ?? document.blocks.first)
        let core = SeedContent.strip(block.content)
        let changedCore = core + " # edited"
        var edited = document
        let index = try #require(edited.index(ofBlock: block.id))
        edited.blocks[index].setContent(SeedContent.rewrap(changedCore, like: block.content))
        try edited.render().write(toFile: local, atomically: true, encoding: .utf8)
        let started = ContinuousClock.now
        let changed = await runCLI(["push", local, "--server", seed.url])
        #expect(changed.code == 0, "\(changed.err)")
        #expect(changed.out.contains("full \(block.id): ack"), "\(changed.out)")
        let afterChange = try await seed.file()
        #expect(afterChange.components(separatedBy: "\n").count == original.components(separatedBy: "\n").count, "the seed's README grew")
        #expect(afterChange == edited.render(), "the seed's README is not the edited file")
        // And again: nothing more to send, nothing changes.
        let again = await runCLI(["push", local, "--server", seed.url])
        #expect(again.code == 0 && again.out.isEmpty, "\(again.out) \(again.err)")
        #expect(try await seed.file() == afterChange)

        // A new block goes as `full`, acked at once.
        try (edited.render() + "\n```text markpact:notes\nnew block\n```\n").write(toFile: local, atomically: true, encoding: .utf8)
        let created = await runCLI(["push", local, "--server", seed.url])
        #expect(created.code == 0, "\(created.err)")
        #expect(created.out.contains("full markpact:notes: ack"), "\(created.out)")
        #expect(ContinuousClock.now - started < .seconds(20), "pushes to the seed took \(ContinuousClock.now - started)")
        var options = SyncClient.Options()
        options.reconnect = false
        let client = try await SyncClient.connect(to: seed.url, options: options)
        #expect(await client.isSeedServer)
        #expect(await client.manifest.blocks["markpact:notes"] == SHA256.hexDigest(of: "new block"))
        await client.close()

        // A prose edit cannot be sent to the seed: push says so and fails.
        try ("Edited prose.\n\n" + edited.render()).write(toFile: local, atomically: true, encoding: .utf8)
        let prose = await runCLI(["push", local, "--server", seed.url])
        #expect(prose.code == 1, "\(prose.err)")
        #expect(prose.err.contains("not sent: prose"), "\(prose.err)")
    }

    /// `pull --at`, `agent` and `orchestrate` refuse at once; plain `pull` writes the seed's document
    /// without claiming a seq.
    @Test func refusalsAgainstTheSeedServer() async throws {
        try await Self.requireSeed()
        let seed = try await SeedServer(copying: Self.seedExample("example-2"))
        defer { seed.stop() }
        let local = try temporaryFile("README.md", "")

        let started = ContinuousClock.now
        let at = await runCLI(["pull", local, "--at", "1", "--server", seed.url])
        #expect(at.code == 1, "\(at.err)")
        #expect(at.err.contains("speaks only the seed's protocol") && at.err.contains("--at"), "\(at.err)")
        #expect(try String(contentsOfFile: local, encoding: .utf8).isEmpty, "pull --at wrote the file")

        let pull = await runCLI(["pull", local, "--server", seed.url])
        #expect(pull.code == 0, "\(pull.err)")
        #expect(!pull.err.contains("at seq"), "\(pull.err)")
        #expect(try String(contentsOfFile: local, encoding: .utf8) == (try await seed.file()))

        let agent = await runCLI(["agent", "--role", "monitor", "--name", "monitor-1", "--server", seed.url])
        #expect(agent.code == 1, "\(agent.err)")
        #expect(agent.err.contains("speaks only the seed's protocol"), "\(agent.err)")
        #expect(ContinuousClock.now - started < .seconds(15), "the refusals took \(ContinuousClock.now - started)")
    }

    /// `watch` follows the seed's broadcasts: a change another client makes reaches the file.
    @Test func watchFollowsTheSeedServer() async throws {
        try await Self.requireSeed()
        let seed = try await SeedServer(copying: Self.seedExample("example-1"))
        defer { seed.stop() }
        let original = try await seed.file()
        let local = try temporaryFile("README.md", original)
        let watching = Task { await runCLI(["watch", local, "--server", seed.url, "--for", "8", "--interval", "100"]) }
        try await Task.sleep(for: .seconds(2))

        let document = MarkpactDocument(parsing: original)
        let block = try #require(document.block(withID: "markpact:run"))
        var options = SyncClient.Options()
        options.reconnect = false
        let writer = try await SyncClient.connect(to: seed.url, options: options)
        let ack = try await writer.write(.full(blockID: block.id, content: "uvicorn app.main:app --port 9999"))
        #expect(ack.seq >= 1)
        await writer.close()

        let arrived = try await waitUntil(timeout: .seconds(5)) {
            ((try? String(contentsOfFile: local, encoding: .utf8)) ?? "").contains("uvicorn app.main:app --port 9999")
        }
        #expect(arrived, "watch did not write the seed's broadcast into the file")
        let result = await watching.value
        #expect(result.code == 0, "\(result.err)")
        #expect(result.err.contains("speaks only the seed's protocol"), "\(result.err)")
        let after = try String(contentsOfFile: local, encoding: .utf8)
        #expect(after.components(separatedBy: "\n").count == original.components(separatedBy: "\n").count, "the file grew")
    }
}
