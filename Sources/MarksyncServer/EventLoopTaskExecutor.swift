import NIOCore

/// Runs a task's jobs on one NIO event loop: a connection's, so that reading its frames, handing them to its
/// handler and writing its replies and broadcasts happen on the thread that owns its socket, with no hop
/// between threads (a sleeping thread woken per message was the largest kernel cost per ack).
///
/// Work run this way must not block: the store's calls hop to the log's actor and SQLite's own queue, and
/// long loops (catch-up) yield now and then so the loop's other connections keep being served.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
