import Foundation

/// A character-level editing history from the `josephg/editing-traces` collection (`sequential_traces`).
///
/// Positions and counts are Unicode code points. Inside one transaction the patches are in descending
/// position order, so they can be applied one after another.
public struct EditingTrace: Sendable {
    /// One edit: at `position`, delete `deleteCount` code points, then insert `insert`.
    public struct Edit: Sendable, Equatable {
        public var position: Int
        public var deleteCount: Int
        public var insert: String
        public init(position: Int, deleteCount: Int, insert: String) {
            self.position = position
            self.deleteCount = deleteCount
            self.insert = insert
        }
    }

    /// The document before the first transaction.
    public var startContent: String
    /// The document after the last transaction.
    public var endContent: String
    /// The transactions, each a list of edits.
    public var transactions: [[Edit]]

    /// Every edit in order.
    public var edits: [Edit] { transactions.flatMap { $0 } }

    /// Loads a trace from a `.json.gz` (or plain `.json`) file.
    public static func load(path: String) throws -> EditingTrace {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        let bytes = path.hasSuffix(".gz") ? try Gunzip.decompress([UInt8](data)) : [UInt8](data)
        return try JSONDecoder().decode(EditingTrace.self, from: Data(bytes))
    }

    /// Applies every edit to `startContent`, on arrays of code points (the reference the checks compare with).
    public func replay(upTo editCount: Int? = nil) -> String {
        var text = Array(startContent.unicodeScalars)
        var applied = 0
        let limit = editCount ?? Int.max
        outer: for transaction in transactions {
            for edit in transaction {
                if applied == limit { break outer }
                text.replaceSubrange(edit.position..<(edit.position + edit.deleteCount), with: edit.insert.unicodeScalars)
                applied += 1
            }
        }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: text)
        return String(out)
    }

    /// The folder of the shared traces: `$MARKSYNC_TRACES`, else `../shared/data/traces` above the
    /// package root or the current directory.
    public static func defaultFolder(packageRoot: String? = nil) -> String? {
        if let folder = ProcessInfo.processInfo.environment["MARKSYNC_TRACES"], !folder.isEmpty { return folder }
        var candidates = [String]()
        if let packageRoot { candidates.append(packageRoot) }
        candidates.append(FileManager.default.currentDirectoryPath)
        for root in candidates {
            var url = URL(fileURLWithPath: root)
            for _ in 0..<4 {
                let folder = url.appendingPathComponent("../shared/data/traces").standardizedFileURL.path
                if FileManager.default.fileExists(atPath: folder + "/automerge-paper.json.gz") { return folder }
                url.deleteLastPathComponent()
            }
        }
        return nil
    }
}

extension EditingTrace: Decodable {
    private enum CodingKeys: String, CodingKey { case startContent, endContent, txns }
    private struct Transaction: Decodable {
        var patches: [EditingTrace.Edit]
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        startContent = try container.decode(String.self, forKey: .startContent)
        endContent = try container.decode(String.self, forKey: .endContent)
        transactions = try container.decode([Transaction].self, forKey: .txns).map(\.patches)
    }
}

extension EditingTrace.Edit: Decodable {
    /// `[position, deletedCount, "inserted text"]`.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        position = try container.decode(Int.self)
        deleteCount = try container.decode(Int.self)
        insert = try container.decode(String.self)
    }
}
