import MarksyncClient
import MarksyncCore
import MarksyncLLM

extension Agent {
    static let reviewPrompt = """
        Review this code for bugs, security issues, and best practices. Be concise. List only real issues. \
        Start your answer with one line: OK, WARNING or ERROR.


        """

    /// The reviewer: a review note event per changed block version, tied to that version's seq and sha.
    /// It never changes the block.
    func review(_ version: BlockVersion) async -> StageOutcome {
        guard !version.deleted, version.author != name else {
            status.skipped += 1
            return .pass(version)
        }
        _ = await writeReview(version)
        return .pass(version)
    }

    /// Reviews one version and stores the note; returns what happened (for a `SEND`).
    func writeReview(_ version: BlockVersion) async -> [String: JSONValue] {
        status.llmCalls += 1
        let answer: String
        do {
            answer = try await llm.chat(
                [.system("You review code in a Markpact project."), .user(Self.reviewPrompt + "Block \(version.blockID):\n\n" + version.content)],
                onToken: nil)
        } catch {
            status.llmFailures += 1
            fail("LLM failed reviewing \(version.blockID) at seq \(version.seq): \(error)")
            return ["error": .string("\(error)")]
        }
        status.handled += 1
        let text = String(answer.trimmingBlankLines().prefix(4000))
        let verdict = CodeAnswer.verdict(of: text)
        let request = SyncRequest.review(
            blockID: version.blockID, blockSeq: version.seq, sha: version.sha, verdict: verdict, text: text, id: "\(idPrefix):review:\(version.seq)")
        do {
            let ack = try await connection.use { try await $0.write(request) }
            status.reviews += 1
            status.writes += 1
            say("reviewed \(version.blockID) at seq \(version.seq): \(verdict) (note seq \(ack.seq))")
            return ["verdict": .string(verdict), "seq": .int(ack.seq), "text": .string(text)]
        } catch {
            fail("could not store the review of \(version.blockID) at seq \(version.seq): \(error)")
            return ["error": .string("\(error)")]
        }
    }
}
