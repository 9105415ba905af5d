import Foundation
import MarksyncCore
import MarksyncStore

/// Revisions and block references as the history commands take them, resolved against a log.
extension EventLog {
    /// A revision (`42`, `HEAD`, `HEAD~3`, an ISO time, `2h`) as a seq of the document; `what` names the
    /// option in errors.
    func seq(of text: String, in document: String, what: String, now: Date = Date()) async throws -> Int {
        let revision: Revision
        do { revision = try Revision(parsing: text, now: now) } catch { throw CLIError.usage("\(what): \(error)") }
        let seq = try await resolve(revision, in: document)
        let head = try await storedHeadSeq(document)
        guard seq <= head else {
            throw CLIError.failure("\(what): \(document) has events 1…\(head); there is no seq \(seq) (HEAD is \(head))")
        }
        return seq
    }

    /// An optional revision; nil stays nil.
    func seq(ofOptional text: String?, in document: String, what: String) async throws -> Int? {
        guard let text else { return nil }
        return try await seq(of: text, in: document, what: what)
    }

    /// A time bound for `--since`/`--until`: a time or relative time in Unix ms.
    static func timeBound(_ text: String?, what: String, now: Date = Date()) throws -> Int64? {
        guard let text else { return nil }
        let revision: Revision
        do { revision = try Revision(parsing: text, now: now) } catch { throw CLIError.usage("\(what): \(error)") }
        guard case .time(let ms) = revision else {
            throw CLIError.usage("\(what) takes a time (2026-12-08, 2026-12-08T10:00:00Z, 2h, 3d); for seqs use --from/--to")
        }
        return ms
    }

    /// A block reference (`main.py`, `app/main.py`, `run`, or a full id) as a block id: resolved against the
    /// blocks of `state` when given (the document at the seq the command looks at), else, or when nothing
    /// matches there, against every block the document has ever had. Unknown or ambiguous references are
    /// errors that list the candidates.
    func blockID(_ reference: String, in document: String, state: DocumentState? = nil) async throws -> String {
        if let state, case .unique(let id) = BlockReference.resolve(reference, in: state.blocks.map(\.id)) { return id }
        let known = try await knownBlockIDs(document)
        do { return try BlockReference.require(reference, in: known) } catch { throw CLIError.failure(error.description) }
    }
}
