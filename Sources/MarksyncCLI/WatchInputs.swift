import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncServer

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

/// The file side of a `watch`, shared by both sessions.
enum WatchFile {
    /// Writes `model` to `path`, keeping the file's own prose (the protocol does not carry it), unless the
    /// file holds local edits not sent yet (it differs from `lastSeen`; the next tick sends them). Returns
    /// the text now in the file, or nil when it was left alone.
    static func write(_ model: MarkpactDocument, to path: String, lastSeen: String?) throws -> String? {
        let current = FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
        if let current, let lastSeen, current != lastSeen { return nil }
        var output = model
        if let current {
            let local = MarkpactDocument(parsing: current)
            if local.prose.count == output.prose.count, local.prose != output.prose {
                output = MarkpactDocument(blocks: model.blocks, prose: local.prose, lineEnding: model.lineEnding)
            }
        }
        let text = output.render()
        if text != current {
            do { try AtomicFile.write(path, text) } catch { throw CLIError.failure("cannot write \(path): \(error)") }
        }
        return text
    }
}
