import Foundation
import MarksyncCore
import MarksyncServer
import MarksyncStore
import Testing

/// Seed compatibility, exact: the seed's parser strips each block (`body.strip()`) and hashes that; this
/// server keeps content byte for byte. With the seed's own example READMEs (several blocks end with a
/// blank line), the real `marksync push` from PyPI of the unchanged file stores no event and changes no
/// byte of README.md; a seed `full` of the stripped content is a no-op; a real change keeps the block's
/// surrounding whitespace (the seed's server kept it too) and stores exactly one event.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SeedNoOpPushTests {
    static let seedExamples = ["example-1", "example-2", "example-3", "rest-api-do-zarz-dzania-zam-wieniami-z-walidacj"]

    static func seedExample(_ name: String) -> URL {
        InteropKit.repoRoot.appendingPathComponent("tools/interop/seed-examples/\(name)/README.md")
    }

    /// README.md on disk after the projection had time to write (it is written shortly after a commit).
    static func settledFile(_ path: String) async throws -> Data {
        try await Task.sleep(for: .milliseconds(600))
        return FileManager.default.contents(atPath: path) ?? Data()
    }

    @Test(arguments: seedExamples) func pythonNoOpPushStoresNothing(example: String) async throws {
        try await InteropKit.requirePython()
        let readme = Self.seedExample(example)
        let original = try Data(contentsOf: readme)
        try await InteropKit.withServer(readme: readme) { server, port, folder in
            let path = folder.appendingPathComponent("README.md").path
            let head = try await server.log.head("demo")
            let headSeq = head.seq
            // Blocks the seed sees differently (the reason this test exists): there must be some.
            let stripped = head.blocks.filter { SeedContent.differs($0.content) }
            if example == "rest-api-do-zarz-dzania-zam-wieniami-z-walidacj" { #expect(stripped.count >= 5, "\(stripped.map(\.id))") }

            for round in 1...2 {
                let push = try await InteropKit.runPython(["marksync_cli.py", "push", readme.path, "--server-uri", "ws://127.0.0.1:\(port)"])
                #expect(push.status == 0, "marksync push failed: \(push.stdout) \(push.stderr)")
                #expect(push.stdout.contains("Sent: 0 blocks"), "round \(round): the seed's client resent blocks: \(push.stdout)")
            }
            #expect(try await server.log.headSeq("demo") == headSeq, "a no-op push by the seed's client stored events")
            #expect(try await Self.settledFile(path) == original, "README.md changed")

            // The seed's `full` of a block's stripped content (what its client sends) changes nothing either.
            let socket = try await TestSocket.connect(port: port)
            defer { socket.cancel() }
            let manifest = try #require(await socket.next(types: ["manifest"]))
            for block in head.blocks {
                #expect(manifest["blocks"]?[block.id]?.stringValue == SeedContent.sha256(of: block.content), "\(block.id): manifest sha is not the seed's")
            }
            for block in stripped {
                await socket.send(wireMessage("full", ["block_id": .string(block.id), "content": .string(SeedContent.strip(block.content)), "sender": .string("py")]))
                let ack = try #require(await socket.next(types: ["ack", "nack"]))
                #expect(ack["type"]?.stringValue == "ack" && ack["unchanged"]?.boolValue == true, "\(block.id): \(ack)")
            }
            #expect(try await server.log.headSeq("demo") == headSeq, "a seed full of the stripped content stored an event")
            #expect(try await Self.settledFile(path) == original, "README.md changed")

            // A real change from a seed client: one event, stored as sent (lossless), the file rendered from it.
            if let block = stripped.first {
                let changed = SeedContent.strip(block.content) + "\n# changed by the seed"
                await socket.send(wireMessage("full", ["block_id": .string(block.id), "content": .string(changed), "sender": .string("py")]))
                let ack = try #require(await socket.next(types: ["ack", "nack"]))
                #expect(ack["type"]?.stringValue == "ack" && ack["unchanged"] == nil, "\(ack)")
                let after = try await server.log.head("demo")
                #expect(after.seq == headSeq + 1)
                #expect(after.block(block.id)?.content == changed)
                let onDisk = String(decoding: try await Self.settledFile(path), as: UTF8.self)
                #expect(onDisk == after.render())
            }
            await socket.close()
        }
    }

    /// This project's own clients still see (and can change) the exact content: `exact` in the manifest.
    @Test func exactShasStayAvailable() async throws {
        let readme = Self.seedExample("rest-api-do-zarz-dzania-zam-wieniami-z-walidacj")
        try await InteropKit.withServer(readme: readme) { server, port, _ in
            let head = try await server.log.head("demo")
            let socket = try await TestSocket.connect(port: port)
            defer { socket.cancel() }
            let manifest = try #require(await socket.next(types: ["manifest"]))
            for block in head.blocks where SeedContent.differs(block.content) {
                #expect(manifest["exact"]?[block.id]?.stringValue == block.sha256)
            }
            // A write with an id is this project's client: stripping the blank line is a real change.
            let block = try #require(head.blocks.first { SeedContent.differs($0.content) })
            await socket.send(
                wireMessage("full", ["block_id": .string(block.id), "content": .string(SeedContent.strip(block.content)), "id": .string("w1")]))
            let ack = try #require(await socket.next(types: ["ack", "nack"]))
            #expect(ack["unchanged"] == nil, "\(ack)")
            #expect(try await server.log.head("demo").block(block.id)?.content == SeedContent.strip(block.content))
            await socket.close()
        }
    }

    /// A seed client's patch (an agent's edit) is made against the stripped block, with the sha of the
    /// stripped result: it is accepted (not `hash_mismatch`) and the block keeps its blank line.
    @Test func seedPatchOfAStrippedBlock() async throws {
        let readme = Self.seedExample("rest-api-do-zarz-dzania-zam-wieniami-z-walidacj")
        try await InteropKit.withServer(readme: readme) { server, port, _ in
            let head = try await server.log.head("demo")
            let block = try #require(head.blocks.first { SeedContent.differs($0.content) })
            let stripped = SeedContent.strip(block.content)
            let edited = stripped.replacingOccurrences(of: "\n", with: "\n# agent note\n", options: [], range: stripped.range(of: "\n"))
            let dmp = DiffMatchPatch()
            let patch = dmp.patchToText(dmp.patchMake(stripped, edited))
            let socket = try await TestSocket.connect(port: port)
            defer { socket.cancel() }
            _ = await socket.next(types: ["manifest"])
            await socket.send(
                wireMessage("patch", ["block_id": .string(block.id), "patch": .string(patch), "sha": .string(SHA256.hexDigest(of: edited)), "sender": .string("agent")]))
            let ack = try #require(await socket.next(types: ["ack", "nack"]))
            #expect(ack["type"]?.stringValue == "ack", "\(ack)")
            #expect(try await server.log.head("demo").block(block.id)?.content == SeedContent.rewrap(edited, like: block.content))
            await socket.close()
        }
    }

    /// `prose` writes: stored as prose events, refused when the segment moved on or when the text would
    /// open a block.
    @Test func proseWrites() async throws {
        let readme = Self.seedExample("example-1")
        try await InteropKit.withServer(readme: readme) { server, port, _ in
            let head = try await server.log.head("demo")
            let socket = try await TestSocket.connect(port: port)
            defer { socket.cancel() }
            _ = await socket.next(types: ["manifest"])
            let old = head.prose[1]
            await socket.send(wireMessage("prose", ["index": .int(1), "text": .string(old + "More prose.\n\n"), "old": .string(old), "id": .string("p1")]))
            let ack = try #require(await socket.next(types: ["ack", "nack"]))
            #expect(ack["type"]?.stringValue == "ack", "\(ack)")
            #expect(try await server.log.head("demo").prose[1] == old + "More prose.\n\n")
            // Stale `old`: conflict, nothing stored.
            await socket.send(wireMessage("prose", ["index": .int(1), "text": .string("x\n\n"), "old": .string(old), "id": .string("p2")]))
            let conflict = try #require(await socket.next(types: ["ack", "nack"]))
            #expect(conflict["reason"]?.stringValue == "conflict", "\(conflict)")
            // A fence line in prose would make a new block: refused.
            await socket.send(wireMessage("prose", ["index": .int(1), "text": .string("\n```bash markpact:run\nrm -rf /\n```\n\n"), "id": .string("p3")]))
            let bad = try #require(await socket.next(types: ["ack", "nack"]))
            #expect(bad["reason"]?.stringValue == "bad_prose", "\(bad)")
            #expect(try await server.log.headSeq("demo") == head.seq + 1)
            await socket.close()
        }
    }
}
