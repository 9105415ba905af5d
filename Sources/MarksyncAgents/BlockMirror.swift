import MarksyncClient
import MarksyncCore

/// The blocks a consumer has seen, so that a broadcast `patch` becomes the block's new content without a
/// round trip. A patch that does not give the sha the server announced (or a block not seen yet) is read
/// from the server at that seq instead.
struct BlockMirror {
    private var blocks: [String: String] = [:]
    private let dmp = DiffMatchPatch()
    /// Blocks read from the server because the mirror could not produce them.
    private(set) var fetches = 0

    /// The event as an agent sees it, with the block version it made; `needsRead` when the block's content
    /// after the event must be read from the server (then give it to ``store(_:content:seq:)``).
    mutating func observe(_ event: SyncEvent) -> (event: ObservedEvent, needsRead: Bool) {
        var observed = ObservedEvent(
            seq: event.seq, type: event.type, author: event.sender ?? "", blockID: event.blockID, messageID: event.id)
        guard let blockID = event.blockID else { return (observed, false) }
        switch event.type {
        case "full":
            let content = event.content ?? ""
            blocks[blockID] = content
            observed.version = BlockVersion(
                blockID: blockID, seq: event.seq, author: observed.author, content: content, change: event.created ? "create" : "full")
        case "patch":
            var content: String?
            if let old = blocks[blockID], let text = event.patch, let patches = try? dmp.patchFromText(text) {
                let (result, applied) = dmp.patchApply(patches, to: old)
                if applied.allSatisfy({ $0 }), event.sha == nil || SHA256.hexDigest(of: result) == event.sha { content = result }
            }
            guard let content else {
                fetches += 1
                blocks[blockID] = nil
                observed.version = BlockVersion(blockID: blockID, seq: event.seq, author: observed.author, content: "", change: "patch")
                return (observed, true)
            }
            blocks[blockID] = content
            observed.version = BlockVersion(blockID: blockID, seq: event.seq, author: observed.author, content: content, change: "patch")
        case "delete":
            blocks[blockID] = nil
            observed.version = BlockVersion(blockID: blockID, seq: event.seq, author: observed.author, content: "", deleted: true)
        default:
            break
        }
        return (observed, false)
    }

    /// Content read from the server for a version the mirror could not produce.
    mutating func store(_ observed: inout ObservedEvent, content: String) {
        guard let version = observed.version else { return }
        blocks[version.blockID] = content
        observed.version = BlockVersion(
            blockID: version.blockID, seq: version.seq, author: version.author, content: content, change: version.change)
    }
}
