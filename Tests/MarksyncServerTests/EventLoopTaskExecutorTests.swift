import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MarksyncServer

/// A connection's tasks run on its event loop: structured children, unstructured feeds, and after an await.
struct EventLoopTaskExecutorTests {
    @Test func tasksPreferringTheExecutorRunOnItsEventLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let other = group.next()
        #expect(loop !== other)
        let executor = EventLoopTaskExecutor(loop)
        let (onLoop, childOnLoop, afterAwait, unstructured, otherLoop) = await withTaskExecutorPreference(executor) {
            let onLoop = loop.inEventLoop
            let childOnLoop = await withTaskGroup(of: Bool.self) { tasks in
                tasks.addTask { loop.inEventLoop }
                return await tasks.next() ?? false
            }
            // A hop elsewhere (another loop's future) comes back to the preferred loop.
            _ = try? await other.submit { 1 }.get()
            let afterAwait = loop.inEventLoop
            let unstructured = await Task(executorPreference: executor) { loop.inEventLoop }.value
            let otherLoop = other.inEventLoop
            return (onLoop, childOnLoop, afterAwait, unstructured, otherLoop)
        }
        #expect(onLoop)
        #expect(childOnLoop)
        #expect(afterAwait)
        #expect(unstructured)
        #expect(!otherLoop)
        // Without the preference, a task does not run on the loop.
        #expect(await Task { loop.inEventLoop }.value == false)
        try await group.shutdownGracefully()
    }
}
