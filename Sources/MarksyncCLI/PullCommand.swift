import ArgumentParser
import Foundation
import MarksyncClient
import MarksyncCore
import MarksyncServer

/// `marksync-log pull [README.md] [--at N]`: writes the server's document to the file.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Write the server's document (or its version at seq N) to the README.",
        discussion: """
            The file is replaced atomically (temporary file, fsync, rename): it is never left empty or partial. \
            Prints the seq written.
            """
    )

    @Argument(help: "The file to write (default: $PROJECT_README or README.md).")
    var readme: String?

    @OptionGroup var connection: ServerConnectionOptions

    @Option(help: "The seq to write the document at (default: the head).")
    var at: Int?

    @Flag(help: "Write to standard output instead of the file.")
    var stdout = false

    func run() async throws {
        if let at, at < 0 { throw CLIError.usage("--at must be 0 or more") }
        let path = defaultReadmePath(readme)
        let snapshot = try await Self.snapshot(from: connection, at: at)
        if stdout {
            Console.write(snapshot.markdown)
            return
        }
        try Self.write(snapshot, to: path)
        Console.out("\(snapshot.seq)")
        printError("wrote \(path) at seq \(snapshot.seq)\(snapshot.document.map { " of \($0)" } ?? "") from \(connection.serverURI)")
    }

    /// The server's document, or its version at `at` (what `pull` writes), with errors that say what failed.
    static func snapshot(from connection: ServerConnectionOptions, at: Int? = nil) async throws -> SyncSnapshot {
        try await connection.withClient { client in
            do { return try await client.snapshot(at: at) } catch SyncClientError.nack(let nack) {
                throw CLIError.failure("the server refused the snapshot: \(nack)")
            } catch {
                throw CLIError.failure("cannot read the document from \(connection.serverURI): \(error)")
            }
        }
    }

    /// Replaces the file with the snapshot's Markdown atomically (temporary file, fsync, rename).
    static func write(_ snapshot: SyncSnapshot, to path: String) throws {
        do { try AtomicFile.write(path, snapshot.markdown) } catch {
            throw CLIError.failure("cannot write \(path): \(error)")
        }
    }
}
