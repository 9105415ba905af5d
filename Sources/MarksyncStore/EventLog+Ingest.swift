import MarksyncCore

/// What an ingest did.
public struct IngestResult: Sendable, Equatable {
    public var document: String
    /// The head seq after the ingest.
    public var seq: Int
    /// How many events were appended (0 when the file matches the head).
    public var appended: Int
    /// Whether the document was created by this ingest.
    public var created: Bool
}

extension EventLog {
    /// Makes the document equal to a README: a new document gets one event per block plus prose; an
    /// existing one gets only what changed (patches, new and deleted blocks, prose edits). This is the path
    /// `serve` uses at start and when the file changes on disk.
    ///
    /// `progress` is told (events prepared, events to append) while a large change is prepared.
    public func ingest(
        document: String, markdown: String, author: String, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws(StoreError) -> IngestResult {
        try await ingest(document: document, parsed: MarkpactDocument(parsing: markdown), author: author, progress: progress)
    }

    /// ``ingest(document:markdown:author:progress:)`` of a README already parsed (a large README is parsed once).
    public func ingest(
        document: String, parsed target: MarkpactDocument, author: String, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws(StoreError) -> IngestResult {
        var created = false
        if !(try await hasDocument(document)) {
            do {
                try await createDocument(document)
                created = true
            } catch where error.code == .documentExists {
                created = false
            }
        }
        var appended = 0
        // Concurrent writers may move the head between the diff and the commit: then diff again.
        for _ in 0..<5 {
            let head = try await self.head(document)
            let bodies = head.changes(to: target)
            if bodies.isEmpty { return IngestResult(document: document, seq: head.seq, appended: appended, created: created) }
            let requests = bodies.map {
                WriteRequest(document: document, author: author, change: .event($0), baseSeq: head.seq)
            }
            appendProgress = progress
            let outcomes: [WriteOutcome]
            do {
                outcomes = try await append(requests)
                appendProgress = nil
            } catch {
                appendProgress = nil
                throw error
            }
            progress?(requests.count, requests.count)
            appended += outcomes.filter { if case .appended = $0 { true } else { false } }.count
            if !outcomes.contains(where: { if case .rejected = $0 { true } else { false } }) {
                let seq = try await headSeq(document)
                if try await self.head(document).render() == target.render() {
                    return IngestResult(document: document, seq: seq, appended: appended, created: created)
                }
            }
        }
        throw StoreError(.rejected, "the document \(document) kept changing while the file was ingested; try again")
    }
}
