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
            Prints the seq written. A server that speaks only the seed's protocol (Python `marksync server`) keeps \
            no history and no seqs: pull writes its current document and --at is refused.

            Examples:
              marksync-log pull  # the head into README.md
              marksync-log pull --at 120 --stdout | less  # the document at seq 120
              marksync-log pull copy.md --server ws://hub.internal:8765 --doc handbook
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
        let (snapshot, seedOnly) = try await Self.snapshotAndServerKind(from: connection, at: at)
        if seedOnly, snapshot.markdown.isEmpty {
            throw CLIError.failure(
                "\(connection.serverURI) speaks only the seed's protocol and its document is empty (it was started without a README, "
                    + "or its blocks exist only in memory): \(path) is left as it is")
        }
        if stdout {
            Console.write(snapshot.markdown)
            return
        }
        try Self.write(snapshot, to: path)
        if seedOnly {
            // The seed has no seqs: there is no number to print.
            printError("wrote \(path) from \(connection.serverURI) (a seed-only server: no seq)")
            return
        }
        Console.out("\(snapshot.seq)")
        printError("wrote \(path) at seq \(snapshot.seq)\(snapshot.document.map { " of \($0)" } ?? "") from \(connection.serverURI)")
    }

    /// The server's document, or its version at `at` (what `pull` writes), with errors that say what failed.
    static func snapshot(from connection: ServerConnectionOptions, at: Int? = nil) async throws -> SyncSnapshot {
        try await snapshotAndServerKind(from: connection, at: at).snapshot
    }

    /// The snapshot, and whether the server speaks only the seed's protocol (then `at` is refused at once).
    static func snapshotAndServerKind(from connection: ServerConnectionOptions, at: Int? = nil) async throws -> (snapshot: SyncSnapshot, seedOnly: Bool) {
        try await connection.withClient { client in
            let seedOnly = await client.isSeedServer
            if seedOnly, let at {
                throw CLIError.failure(
                    "\(connection.serverURI) speaks only the seed's protocol (Python marksync 0.2.x): it keeps no history, so there is "
                        + "no version at seq \(at) to pull. Pull without --at for its current document.")
            }
            do { return (try await client.snapshot(at: at), seedOnly) } catch SyncClientError.nack(let nack) {
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
