import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncLLM

extension Agent {
    /// The deployer: a change of a `run` or `deps` block (or of the blocks it watches or is routed) starts
    /// a debounced deploy of the document as it is at the last such change.
    func trigger(_ version: BlockVersion) -> StageOutcome {
        let kind = version.kind
        guard configuration.isFiltered || kind == "run" || kind == "deps" else {
            status.skipped += 1
            return .pass(version)
        }
        let settings = configuration.deploy
        guard settings.enabled else {
            say("change of \(version.blockID) at seq \(version.seq); deploys are off (would run `\(settings.command)`)")
            status.skipped += 1
            return .pass(version)
        }
        status.handled += 1
        if !pendingTriggers.contains(version.seq) {
            pendingTriggers.append(version.seq)
            pendingTriggers.sort()
        }
        scheduleDeploy()
        return .pass(version)
    }

    private func scheduleDeploy() {
        debounceTask?.cancel()
        let quiet = configuration.deploy.debounce
        debounceTask = Task { [weak self] in
            try? await Task.sleep(for: quiet)
            guard !Task.isCancelled else { return }
            await self?.deployNow()
        }
    }

    /// Deploys the document at the newest pending trigger; changes that come meanwhile get one more deploy.
    func deployNow() async {
        guard !deploying else {
            deployAgain = true
            return
        }
        guard let seq = pendingTriggers.last else { return }
        deploying = true
        await deploy(at: seq)
        pendingTriggers.removeAll { $0 <= seq }
        deploying = false
        if deployAgain || !pendingTriggers.isEmpty {
            deployAgain = false
            if !pendingTriggers.isEmpty { scheduleDeploy() }
        }
    }

    /// Materialises the document at `seq` and runs the command; records a deploy event either way.
    @discardableResult
    func deploy(at seq: Int) async -> [String: JSONValue] {
        let settings = configuration.deploy
        let started = Date()
        var exitCode: Int?
        var tail: String
        say("deploying seq \(seq): \(settings.command) in \(settings.workFolder)")
        do {
            let snapshot = try await connection.use { try await $0.snapshot(at: seq) }
            lastDeployedSHA = SHA256.hexDigest(of: snapshot.markdown)
            let folder = try WorkFolder(path: settings.workFolder)
            try folder.materialise(MarkpactDocument(parsing: snapshot.markdown), markdown: snapshot.markdown)
            let result = try await CommandRunner.run(
                settings.command, in: folder.url, environment: ["MARKSYNC_DEPLOY_SEQ": "\(seq)"], timeout: settings.timeout,
                tailLines: settings.tailLines)
            exitCode = result.exitCode
            tail = result.outputTail + (result.timedOut ? "\n[stopped after \(settings.timeout)]" : "")
            if result.exitCode != 0 { fail("deploy of seq \(seq) exited with \(result.exitCode)") }
        } catch let error as AgentError {
            tail = "deploy refused: \(error.message)"
            fail(tail)
        } catch {
            tail = "deploy failed: \(error)"
            fail(tail)
        }
        let duration = Int64(Date().timeIntervalSince(started) * 1000)
        let request = SyncRequest.deploy(
            documentSeq: seq, command: settings.command, startedMs: Int64(started.timeIntervalSince1970 * 1000), durationMs: duration,
            exitCode: exitCode, outputTail: tail, id: "\(idPrefix):deploy:\(seq)")
        do {
            let ack = try await connection.use { try await $0.write(request) }
            status.deploys += 1
            status.writes += 1
            say("deploy of seq \(seq): exit \(exitCode.map(String.init) ?? "none") in \(duration) ms (event seq \(ack.seq))")
        } catch {
            fail("could not record the deploy of seq \(seq): \(error)")
        }
        lastDeployed = seq
        return [
            "document_seq": .int(seq), "exit_code": exitCode.map { .int($0) } ?? .null, "duration_ms": .int(Int(duration)),
            "output_tail": .string(tail),
        ]
    }
}
