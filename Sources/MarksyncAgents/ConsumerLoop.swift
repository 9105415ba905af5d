import Foundation
import MarksyncClient
import MarksyncCore

/// A durable consumer of the log that passes each event through its stages: one agent on its own, or the
/// agents of a pipeline in order (an editor's result reaches the reviewer, then the deployer).
///
/// It subscribes with its consumer name, so the server resumes it from the cursor it stored; after each
/// event it stores the new cursor (kept below unfinished work such as a debounced deploy). It reconnects
/// with backoff for as long as it runs: the server may be down for hours.
public actor ConsumerLoop {
    /// Where a consumer that the server does not know yet starts.
    public enum Start: Sendable, Equatable {
        /// Only changes made from now on (the seed's agents reacted to changes after they connected).
        case head
        /// Every event of the log, from seq 1.
        case beginning
    }

    /// The durable consumer's name: the agent's name, or `pipeline:<name>`.
    public nonisolated let consumer: String
    public nonisolated let stages: [Agent]
    let endpoint: ServerEndpoint
    /// Events written by these authors are not handled again: a pipeline's own results go from stage to
    /// stage directly.
    let skipAuthors: Set<String>
    let start: Start
    let output: AgentOutput

    private var mirror = BlockMirror()
    private var processed: Int?
    private var storedCursor: Int?
    private var head = 0
    private(set) var state = "starting"
    private var lastError: String?
    private var stopping = false
    private var busy = false
    private var client: SyncClient?

    public init(
        consumer: String, stages: [Agent], endpoint: ServerEndpoint, skipAuthors: Set<String> = [], start: Start = .head,
        output: AgentOutput = .standard
    ) {
        self.consumer = consumer
        self.stages = stages
        self.endpoint = endpoint
        self.skipAuthors = skipAuthors
        self.start = start
        self.output = output
    }

    /// The consumer's progress: stored cursor, newest seq known, state and last connection error.
    public func progress() -> (cursor: Int, head: Int, state: String, lastError: String?) {
        (storedCursor ?? processed ?? 0, max(head, processed ?? 0), state, lastError)
    }

    /// Runs until ``stop()`` or cancellation.
    public func run() async {
        var delay = Duration.milliseconds(200)
        while !stopping, !Task.isCancelled {
            do {
                try await session()
                delay = .milliseconds(200)
            } catch {
                guard !stopping, !Task.isCancelled else { break }
                let message = "\(error)"
                if lastError != message { output.log("[\(consumer)] server unavailable at \(endpoint.url): \(message); retrying every \(delay)") }
                lastError = message
                state = "waiting_for_server"
            }
            await closeClient()
            guard !stopping, !Task.isCancelled else { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
        await flushCursor()
        await closeClient()
        state = "stopped"
    }

    /// Finishes the event being handled, stores the cursor and ends ``run()``.
    public func stop() async {
        stopping = true
        if !busy { await closeClient() }
    }

    private func closeClient() async {
        if let client {
            self.client = nil
            await client.close()
        }
    }

    /// One connection: subscribe from the stored cursor, handle events until the stream ends.
    private func session() async throws {
        state = "connecting"
        var options = AgentConnection.options(endpoint, name: consumer)
        options.requestTimeout = .seconds(60)
        let client = try await SyncClient.connect(to: endpoint.url, options: options)
        self.client = client
        guard !stopping else { return }
        head = max(head, await client.manifest.seq ?? 0)
        // A consumer the server does not know starts at the head (or the beginning), then from its cursor.
        let since = processed ?? (start == .head ? head : 0)
        let stream = try await client.subscribe(consumer: consumer, since: since)
        storedCursor = await client.cursor
        if processed == nil, let start = storedCursor {
            // Store where a new consumer starts, so that a restart before its first event resumes there
            // (and the server lists the consumer with its lag from now on).
            try await client.setCursor(consumer: consumer, seq: start)
        }
        lastError = nil
        state = "catching_up"
        await withTaskGroup(of: Void.self) { group in
            // Moves the cursor when unfinished work (a debounced deploy) completes between events.
            group.addTask { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await self?.flushCursor()
                }
            }
            defer { group.cancelAll() }
            do {
                for try await update in stream {
                    switch update {
                    case .caughtUp(let seq):
                        head = max(head, seq)
                        state = "live"
                    case .event(let event):
                        head = max(head, event.seq)
                        busy = true
                        defer { busy = false }
                        try await handle(event, client: client)
                        await flushCursor()
                    }
                    if stopping { break }
                }
            } catch {
                lastError = "\(error)"
            }
        }
        if !stopping, let lastError { throw AgentError("connection", lastError) }
    }

    /// Handles one event; throws (ending the session, which resumes before this event) when the block it
    /// changed cannot be read.
    private func handle(_ event: SyncEvent, client: SyncClient) async throws {
        if let processed, event.seq <= processed { return }
        var (observed, needsRead) = mirror.observe(event)
        if needsRead, let blockID = observed.blockID {
            do {
                let content = try await client.block(blockID, at: event.seq).content
                mirror.store(&observed, content: content)
            } catch {
                throw AgentError("connection", "reading block \(blockID) at seq \(event.seq): \(error)")
            }
        }
        if skipAuthors.contains(observed.author) {
            // A result of this pipeline, already passed from stage to stage.
        } else if var version = observed.version {
            for agent in stages {
                guard case .pass(let next) = await agent.process(version) else { break }
                version = next
            }
        } else {
            for agent in stages { await agent.observe(observed) }
        }
        processed = event.seq
    }

    /// Stores the cursor: the last event handled, or just below the oldest unfinished work.
    private func flushCursor() async {
        guard let processed, let client else { return }
        var target = processed
        for agent in stages {
            if let since = await agent.unfinishedSince() { target = min(target, since - 1) }
        }
        guard target > (storedCursor ?? -1) else { return }
        do {
            try await client.setCursor(consumer: consumer, seq: target)
            storedCursor = target
        } catch {
            lastError = "storing the cursor: \(error)"
        }
    }
}
