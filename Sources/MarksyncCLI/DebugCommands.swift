import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log debug …`: tools for tests and scripted checks (hidden from the main help).
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Tools for tests and scripted checks.", shouldDisplay: false,
        subcommands: [AppendLoopCommand.self, RandomIDsCommand.self])
}

/// Appends forever and prints `acked <seq> <client id>` after each append returns (after its commit).
/// The crash-safety check kills it with SIGKILL and then looks for every acked event in the log.
struct AppendLoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append-loop", abstract: "Append events in a loop, printing each ack (for crash tests).")

    @OptionGroup var log: LogOptions
    @Option(help: "Concurrent appenders.") var writers: Int = 4
    @Option(help: "A prefix for client message ids (unique per run).") var prefix: String = UUID().uuidString

    func run() async throws {
        let eventLog = try await log.open()
        let document = log.doc ?? "crash"
        if !(try await eventLog.hasDocument(document)) { try await eventLog.createDocument(document) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var counter = 0
                    let dmp = DiffMatchPatch()
                    var content = ""
                    let block = "markpact:file=w\(writer).txt"
                    while true {
                        counter += 1
                        let id = "\(prefix)-\(writer)-\(counter)"
                        let next = content + "line \(counter) of writer \(writer)\n"
                        let change: Change =
                            counter % 3 == 0 || content.isEmpty
                            ? .full(blockID: block, content: next)
                            : .patch(blockID: block, patch: dmp.patchToText(dmp.patchMake(content, next)), expectedSHA256: nil)
                        let outcome = try await eventLog.append(WriteRequest(document: document, author: "w\(writer)", change: change, clientMessageID: id))
                        guard let event = outcome.event else {
                            // Another run left the block elsewhere: start over from the server's content.
                            content = try await eventLog.head(document).block(block)?.content ?? ""
                            continue
                        }
                        content = next
                        // One unbuffered write per ack, so a kill never loses a printed ack.
                        FileHandle.standardOutput.write(Data("acked \(event.seq) \(id)\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
