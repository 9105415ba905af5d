import Foundation
import MarksyncCore
import MarksyncStore
import Testing

/// Two `EventLog`s on one database, as two processes (or two `serve` nodes) would have: a writer whose
/// head is stale catches up instead of failing, seqs stay dense, and observers get every event once, in order.
@Suite struct SharedLogTests {
    @Test(arguments: StoreBackend.allCases) func aStaleWriterCatchesUpAndItsObserversSeeEveryEventOnceInOrder(backend: StoreBackend) async throws {
        let (path, folder) = try await temporaryDatabase(backend)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await EventLog.open(database: path)
        let second = try await EventLog.open(database: path)
        try await first.createDocument("doc")
        #expect(try await second.headSeq("doc") == 0)  // loads the second's head before the first writes
        let seen = await second.committedEvents()

        for index in 1...5 {
            let outcome = try await first.append(
                WriteRequest(document: "doc", author: "first", change: .full(blockID: "markpact:file=a.txt", content: "a\(index)\n")))
            #expect(outcome.isAppended)
        }
        for index in 1...5 {
            let outcome = try await second.append(
                WriteRequest(document: "doc", author: "second", change: .full(blockID: "markpact:file=b.txt", content: "b\(index)\n")))
            #expect(outcome.event?.seq == 5 + index)
        }
        #expect(try await second.head("doc").block("markpact:file=a.txt")?.content == "a5\n")

        let received = try await firstEvents(10, of: seen)
        let seqs = received.map(\.seq)
        let authors = received.map(\.author)
        #expect(seqs == Array(1...10))
        #expect(authors == Array(repeating: "first", count: 5) + Array(repeating: "second", count: 5))

        let reopened = try await EventLog.open(database: path)
        #expect(try await reopened.verify().isClean)
        #expect(try await reopened.head("doc") == second.head("doc"))
    }

    /// On PostgreSQL a node learns of another node's commits without writing (LISTEN/NOTIFY wake-ups, then a
    /// page from the table): its head and its observers follow.
    @Test func aNodeFollowsAnotherNodesCommitsWithoutWriting() async throws {
        let (database, _) = try await temporaryDatabase(.postgres)
        let writer = try await EventLog.open(database: database)
        let reader = try await EventLog.open(database: database)
        try await writer.createDocument("doc")
        #expect(try await reader.headSeq("doc") == 0)
        let seen = await reader.committedEvents()
        for index in 1...20 {
            _ = try await writer.append(
                WriteRequest(document: "doc", author: "writer", change: .full(blockID: "markpact:file=a.txt", content: "v\(index)\n")))
        }
        let received = try await firstEvents(20, of: seen)
        #expect(received.map(\.seq) == Array(1...20))
        #expect(try await reader.head("doc") == writer.head("doc"))
        await writer.close()
        await reader.close()
    }
}

/// The first `count` events of an observer's stream, or a failure after 20 s (never a hang).
func firstEvents(_ count: Int, of stream: AsyncStream<[Event]>) async throws -> [Event] {
    try await withThrowingTaskGroup(of: [Event]?.self) { group in
        group.addTask {
            var out = [Event]()
            for await events in stream {
                out += events
                if out.count >= count { break }
            }
            return out
        }
        group.addTask {
            try await Task.sleep(for: .seconds(20))
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first else { throw TimeoutError(count: count) }
        return first
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    var count: Int
    var description: String { "fewer than \(count) events arrived within 20 s" }
}
