import MarksyncClient
import MarksyncCore
import MarksyncLLM

extension Agent {
    static let editPrompt =
        "Improve this code. Add error handling, type hints, and docstrings. Return ONLY the improved code, no explanations.\n\n"
    static let editSystem = "You are a coding assistant. Respond with code only, no markdown fences."

    /// The editor: a changed code block goes to the LLM; with auto-edit, a different answer is written
    /// back as a patch based on the version read. Never reacts to its own writes or another editor's, nor
    /// to a block it asked its LLM about less than `editCooldown` ago: two editors cannot ping-pong.
    func edit(_ version: BlockVersion) async -> StageOutcome {
        guard !version.deleted, BlockIdentity.isCode(version.blockID) else {
            status.skipped += 1
            return .pass(version)
        }
        if version.author == name || configuration.peerEditors.contains(version.author) || produced.contains(version.sha) {
            status.skipped += 1
            return .pass(version)
        }
        guard configuration.autoEdit else {
            say("block updated: \(version.blockID) (\(version.content.count) chars), auto_edit=off, skipping")
            status.skipped += 1
            return .pass(version)
        }
        if let last = lastEdit[version.blockID], ContinuousClock.now - last < configuration.editCooldown {
            say("\(version.blockID) edited \(ContinuousClock.now - last) ago; cooling down")
            status.skipped += 1
            return .pass(version)
        }
        return await improve(version, write: true).outcome
    }

    /// Asks the LLM to improve a version and, with `write`, writes a different answer back.
    /// - Returns: the stage outcome and what happened, for a `SEND` (`suggestion`, `seq` of the write).
    func improve(_ version: BlockVersion, write: Bool) async -> (outcome: StageOutcome, summary: [String: JSONValue]) {
        // The cool-down starts with the call, whatever comes of it: an editor asks its LLM about a block at
        // most once per cool-down, which bounds what two editors can do to each other.
        lastEdit[version.blockID] = .now
        let answer: String
        status.llmCalls += 1
        do {
            answer = try await llm.generate(prompt: Self.editPrompt + version.content, system: Self.editSystem)
        } catch {
            status.llmFailures += 1
            fail("LLM failed for \(version.blockID) at seq \(version.seq): \(error)")
            return (.pass(version), ["error": .string("\(error)")])
        }
        status.handled += 1
        var improved = CodeAnswer.code(from: answer)
        guard !improved.isEmpty, improved != version.content.trimmingBlankLines() else {
            return (.pass(version), ["changed": .bool(false)])
        }
        if version.content.hasSuffix("\n") { improved += "\n" }
        guard write else { return (.pass(version), ["changed": .bool(true), "suggestion": .string(improved)]) }
        let request = SyncRequest.update(
            blockID: version.blockID, from: version.content, to: improved, baseSeq: version.seq, id: "\(idPrefix):edit:\(version.seq)")
        do {
            let ack = try await connection.use { try await $0.write(request) }
            status.writes += 1
            remember(produced: SHA256.hexDigest(of: improved))
            var content = improved
            if ack.rebased || (ack.sha != nil && ack.sha != SHA256.hexDigest(of: improved)) {
                // The server merged the edit with a newer change: read the version it made.
                let block = try await connection.use { try await $0.block(version.blockID, at: ack.seq) }
                content = block.content
                remember(produced: block.sha ?? SHA256.hexDigest(of: content))
            }
            say("edited \(version.blockID): seq \(version.seq) → \(ack.seq)\(ack.rebased ? " (rebased)" : "")")
            let next = BlockVersion(blockID: version.blockID, seq: ack.seq, author: name, content: content, change: request.type)
            return (.pass(next), ["changed": .bool(true), "seq": .int(ack.seq), "rebased": .bool(ack.rebased)])
        } catch SyncClientError.nack(let nack) where nack.reason == "conflict" {
            status.conflicts += 1
            say("\(version.blockID) changed meanwhile (seq \(nack.seq ?? 0)); edit of seq \(version.seq) dropped")
            return (.stop, ["error": .string("conflict: the block changed meanwhile")])
        } catch {
            fail("could not write the edit of \(version.blockID): \(error)")
            return (.pass(version), ["error": .string("\(error)")])
        }
    }

    private func remember(produced sha: String) {
        produced.append(sha)
        if produced.count > 256 { produced.removeFirst(produced.count - 256) }
    }
}
