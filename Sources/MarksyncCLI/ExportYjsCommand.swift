import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore

/// `marksync-log export-yjs [--at N] [--out F]`: the document as a Yjs update (docs/crdt.md).
struct ExportYjsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-yjs",
        abstract: "The document as a Yjs update (format v1): at a seq, whole or as the diff from a state vector.",
        discussion: """
            The update loads in any Yjs (13.x) or pycrdt document: Y.applyUpdate(doc, bytes), then \
            doc.getMap("blocks"), doc.getArray("order"), doc.getMap("prose"), doc.getMap("meta"). See docs/crdt.md.

            Examples:
              marksync-log export-yjs --out doc.yjs
              marksync-log export-yjs --at 40 --base64
              marksync-log export-yjs --authors
            """)

    @OptionGroup var log: LogOptions
    @Option(help: "The seq (default: the head).") var at: Int?
    @Option(help: "Write to this file (atomically) instead of standard output.") var out: String?
    @Option(name: .customLong("sv"), help: "Only what a Yjs document at this state vector (base64) lacks.") var stateVector: String?
    @Flag(help: "Base64 text instead of binary.") var base64 = false
    @Flag(help: "Instead of the update: the Yjs client ids of the projection and their authors, as JSON.") var authors = false

    func run() async throws {
        let eventLog = try await log.openExisting()
        let document = try await log.document(in: eventLog)
        let head = try await eventLog.headSeq(document)
        let seq = at ?? head
        guard seq >= 0, seq <= head else { throw CLIError.usage("--at must be in 0…\(head) (the head of \(document))") }
        var vector: YjsStateVector?
        if let stateVector {
            guard let data = Data(base64Encoded: stateVector), let decoded = try? YjsStateVector(decoding: [UInt8](data)) else {
                throw CLIError.usage("--sv must be an encoded Yjs state vector in base64")
            }
            vector = decoded
        }
        var bytes: [UInt8]
        if authors {
            let projection = try await eventLog.yjsProjection(document, at: seq)
            let clients = Dictionary(uniqueKeysWithValues: projection.authors.map { (String($0.client), $0.author) })
            let listing = AuthorListing(document: document, seq: seq, format: YjsProjection.format, clients: clients)
            bytes = Array((try jsonText(listing) + "\n").utf8)
        } else {
            bytes = try await eventLog.yjsUpdate(document, at: seq, from: vector)
            if base64 { bytes = Array((Data(bytes).base64EncodedString() + "\n").utf8) }
        }
        if let out {
            do { try Data(bytes).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw CLIError.failure("cannot write \(out): \(error.localizedDescription)")
            }
        } else if Console.capture != nil {
            Console.write(String(decoding: bytes, as: UTF8.self))
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }
}

/// `export-yjs --authors`: client id → author.
private struct AuthorListing: Encodable {
    var document: String
    var seq: Int
    var format: String
    var clients: [String: String]
}
