import MarksyncClient

/// What a `watch` loop reacts to, in one stream: the server's updates, a tick every `interval` to look at
/// the file, and the end after `duration` (`--for`). Shared by the session against this server and the one
/// against the seed's. Call ``stop()`` when the loop ends.
struct WatchInputs {
    enum Input: Sendable {
        case remote(SyncUpdate)
        case ended((any Error)?)
        case tick
    }

    let stream: AsyncStream<Input>
    private let feed: AsyncStream<Input>.Continuation
    private let tasks: [Task<Void, Never>]

    init(updates: AsyncThrowingStream<SyncUpdate, any Error>, interval: Duration, duration: Duration?) {
        let (stream, feed) = AsyncStream<Input>.makeStream(bufferingPolicy: .unbounded)
        var tasks = [Task<Void, Never>]()
        tasks.append(
            Task {
                do {
                    for try await update in updates { feed.yield(.remote(update)) }
                    feed.yield(.ended(nil))
                } catch {
                    feed.yield(.ended(error))
                }
            })
        tasks.append(
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    feed.yield(.tick)
                }
            })
        if let duration {
            tasks.append(
                Task {
                    try? await Task.sleep(for: duration)
                    if !Task.isCancelled { feed.finish() }
                })
        }
        self.stream = stream
        self.feed = feed
        self.tasks = tasks
    }

    func stop() {
        for task in tasks { task.cancel() }
        feed.finish()
    }
}
