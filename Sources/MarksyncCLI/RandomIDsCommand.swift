import ArgumentParser
import Foundation
import MarksyncCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `marksync-log debug random-ids`: prints ids made the way the server makes connection ids
/// (``RandomID``), optionally after using up every file descriptor of the process, as a connection storm
/// does. The connection-limit tests check that they stay unique and nonzero then (Foundation's `UUID()`
/// gives the all-zero UUID when it cannot open /dev/urandom).
struct RandomIDsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random-ids", abstract: "Print random connection ids, one a line (for tests).")

    @Option(help: "How many ids.") var count = 100
    @Flag(help: "Open /dev/null until the process has no descriptor left first (they are closed at exit).")
    var exhaustDescriptors = false

    func run() throws {
        var held = [Int32]()
        if exhaustDescriptors {
            // Bounded: the limit could be large; stop after a million.
            while held.count < 1_000_000 {
                let descriptor = open("/dev/null", O_RDONLY)
                if descriptor < 0 { break }
                held.append(descriptor)
            }
        }
        var lines = [String]()
        lines.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) { lines.append(RandomID.make()) }
        // Standard output is descriptor 1, open already: writing needs no new descriptor.
        let text = lines.joined(separator: "\n") + "\n"
        FileHandle.standardOutput.write(Data(text.utf8))
        if exhaustDescriptors { for descriptor in held { close(descriptor) } }
    }
}
