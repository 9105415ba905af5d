import MarksyncClient
import MarksyncCore

extension Agent {
    /// A message for the agent (the DSL's `SEND agent …`): the block it names (a word starting with
    /// `markpact:`) is handled now as it is at the head, whatever the filters and cool-downs say. An
    /// editor improves it (writes only with auto-edit; otherwise the answer is the suggestion), a reviewer
    /// reviews it, a monitor audits it; a deployer deploys the head (no block needed).
    /// - Returns: `{ok, …}` with what the agent did, or `{ok: false, error}`.
    public func request(_ message: String) async -> JSONValue {
        let words = message.split(whereSeparator: \.isWhitespace).map(String.init)
        if case .deployer = role { return await deployRequest(force: true) }
        guard let blockID = words.first(where: { $0.hasPrefix("markpact:") }) else {
            return Self.failure("the message names no block: say which, e.g. `SEND \(name) improve markpact:file=app/main.py`")
        }
        let block: SyncBlock
        do { block = try await connection.use { try await $0.block(blockID) } } catch {
            return Self.failure("cannot read \(blockID) from the server: \(error)")
        }
        guard block.exists else { return Self.failure("no block \(blockID) in the document") }
        let version = BlockVersion(blockID: blockID, seq: block.seq, author: "dsl", content: block.content)
        var summary: [String: JSONValue]
        switch role {
        case .editor: summary = await improve(version, write: configuration.autoEdit).summary
        case .reviewer: summary = await writeReview(version)
        case .monitor:
            audit(seq: version.seq, type: "request", blockID: blockID, content: version.content, author: "dsl")
            summary = [:]
        case .deployer, .other: summary = [:]
        }
        summary["agent"] = .string(name)
        summary["block_id"] = .string(blockID)
        summary["block_seq"] = .int(version.seq)
        let ok = summary["error"] == nil
        summary["ok"] = .bool(ok)
        return .object(summary)
    }

    /// Deploys the document at the head now (the DSL's `DEPLOY`); without `force`, only when it changed
    /// since the last deploy. Deploys that are off stay off.
    public func deployRequest(force: Bool) async -> JSONValue {
        guard case .deployer = role else { return Self.failure("\(name) is not a deployer") }
        guard configuration.deploy.enabled else {
            return Self.failure("deploys are off for \(name): start it with deploys enabled (SET deploy true, or --deploy)")
        }
        let snapshot: SyncSnapshot
        do { snapshot = try await connection.use { try await $0.snapshot() } } catch {
            return Self.failure("cannot read the document from the server: \(error)")
        }
        let head = snapshot.seq
        // Notes and deploy results move the seq but not the document: compare what would be deployed.
        if !force, lastDeployedSHA == SHA256.hexDigest(of: snapshot.markdown) {
            return .object(["ok": .bool(true), "agent": .string(name), "up_to_date": .bool(true), "document_seq": .int(lastDeployed ?? head)])
        }
        guard !deploying else { return Self.failure("a deploy of \(name) is running; try again when it ends") }
        deploying = true
        var summary = await deploy(at: head)
        pendingTriggers.removeAll { $0 <= head }
        deploying = false
        summary["ok"] = .bool(true)
        summary["agent"] = .string(name)
        return .object(summary)
    }

    static func failure(_ message: String) -> JSONValue { .object(["ok": .bool(false), "error": .string(message)]) }
}
