import Foundation
import Logging
import MarksyncCore
import NIOCore
import PostgresNIO
import Synchronization

extension PostgresBackend {
    /// The channel every insert notifies with `<document id>:<head seq>`.
    static let commitChannel = "marksync_commits"
    /// The `application_name` of the listening connection.
    static let listenerName = "marksync-log listener"
}

/// Fans the commit notifications of one `LISTEN marksync_commits` connection out to every subscriber.
///
/// The listener runs on a connection of its own (outside the pool) from the first subscription until
/// ``close()``. Each time it starts listening — first, and again after a lost connection — it also
/// wakes every document up at its current head, so that commits made while it was not listening are
/// not missed (a reader pages from the table after a wake-up anyway).
final class CommitHub: Sendable {
    private struct State {
        var subscribers: [UUID: AsyncStream<(doc: Int64, seq: Int)>.Continuation] = [:]
        var started = false
        var task: Task<Void, Never>?
        var connection: PostgresConnection?
        var closed = false
    }

    private let state = Mutex(State())
    let location: String

    init(location: String) { self.location = location }

    /// A new stream of wake-ups; starts the listener the first time.
    func subscribe(configuration: PostgresConnection.Configuration, logger: Logger) -> AsyncStream<(doc: Int64, seq: Int)> {
        let (stream, continuation) = AsyncStream<(doc: Int64, seq: Int)>.makeStream(bufferingPolicy: .bufferingNewest(65_536))
        let id = RandomID.uuid()
        let (closed, start) = state.withLock { state -> (Bool, Bool) in
            if state.closed { return (true, false) }
            state.subscribers[id] = continuation
            defer { state.started = true }
            return (false, !state.started)
        }
        if closed {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        if start {
            let task = Task { [weak self] in
                guard let self else { return }
                await self.listen(configuration: configuration, logger: logger)
            }
            state.withLock { $0.task = task }
        }
        return stream
    }

    /// Stops listening and ends every stream.
    func close() {
        let (task, connection, subscribers) = state.withLock { state in
            state.closed = true
            defer {
                state.subscribers = [:]
                state.task = nil
                state.connection = nil
            }
            return (state.task, state.connection, Array(state.subscribers.values))
        }
        task?.cancel()
        connection?.close().whenComplete { _ in }
        for subscriber in subscribers { subscriber.finish() }
    }

    private var isClosed: Bool { state.withLock { $0.closed } }

    private func yield(_ wakeUp: (doc: Int64, seq: Int)) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(wakeUp) }
    }

    /// Listens until closed, reconnecting after a lost connection (backing off up to two seconds).
    private func listen(configuration: PostgresConnection.Configuration, logger: Logger) async {
        var failures = 0
        while !Task.isCancelled, !isClosed {
            var named = configuration
            // Named apart from the pool's connections, so that an operator can tell it in pg_stat_activity.
            named.options.additionalStartupParameters = [("application_name", PostgresBackend.listenerName)]
            do {
                let connection = try await PostgresConnection.connect(configuration: named, id: 1, logger: logger)
                let keep = state.withLock { state -> Bool in
                    if state.closed { return false }
                    state.connection = connection
                    return true
                }
                do {
                    if keep {
                        try await connection.listen(on: PostgresBackend.commitChannel) { notifications in
                            failures = 0
                            // Listening now: wake every document at its head (commits may have happened unheard).
                            let heads = try await connection.query("SELECT id, head_seq FROM documents", logger: logger).collect()
                            for row in heads {
                                let (id, seq) = try row.decode((Int64, Int).self)
                                self.yield((id, seq))
                            }
                            for try await notification in notifications {
                                let parts = notification.payload.split(separator: ":")
                                if parts.count == 2, let doc = Int64(parts[0]), let seq = Int(parts[1]) { self.yield((doc, seq)) }
                            }
                        }
                    }
                } catch {
                    logger.debug("marksync: listening on \(location) stopped: \(String(reflecting: error))")
                }
                // Closed on every path: a connection must not be released open.
                try? await connection.close()
            } catch {
                logger.debug("marksync: cannot connect to \(location) to listen: \(String(reflecting: error))")
            }
            state.withLock { $0.connection = nil }
            if Task.isCancelled || isClosed { return }
            failures += 1
            try? await Task.sleep(for: .milliseconds(min(2000, 50 << min(failures, 6))))
        }
    }
}
