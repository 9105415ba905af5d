import MarksyncCore

/// One version of a block as an agent sees it: the content after the event at `seq`.
public struct BlockVersion: Sendable, Equatable {
    public var blockID: String
    /// The seq of the event that made this version.
    public var seq: Int
    /// Who made it (the event's author).
    public var author: String
    public var content: String
    /// sha256 of `content`.
    public var sha: String
    /// The block was deleted by this event (`content` is empty).
    public var deleted: Bool
    /// The kind of write that made it: `patch`, `full`, `create` or `delete`.
    public var change: String

    public init(blockID: String, seq: Int, author: String, content: String, change: String = "full", deleted: Bool = false) {
        self.blockID = blockID
        self.seq = seq
        self.author = author
        self.content = content
        self.sha = SHA256.hexDigest(of: content)
        self.change = deleted ? "delete" : change
        self.deleted = deleted
    }

    /// The block's kind from its id: `file` for `markpact:file=app.py`, `run` for `markpact:run`.
    public var kind: String { BlockIdentity.kind(of: blockID) }
}

/// One event of the log as a consumer receives it, with the block version it made (for block events).
public struct ObservedEvent: Sendable, Equatable {
    public var seq: Int
    /// The message type: `patch`, `full`, `delete`, `review`, `deploy`, `prose`, `header`, `line_ending`.
    public var type: String
    public var author: String
    public var blockID: String?
    /// The client message id of the write, when it had one.
    public var messageID: String?
    /// The block after the event, for `patch`, `full` and `delete`.
    public var version: BlockVersion?

    public init(seq: Int, type: String, author: String, blockID: String? = nil, messageID: String? = nil, version: BlockVersion? = nil) {
        self.seq = seq
        self.type = type
        self.author = author
        self.blockID = blockID
        self.messageID = messageID
        self.version = version
    }
}

/// What a block id says about the block.
public enum BlockIdentity {
    /// `file`, `deps`, `run`, … (the part after `markpact:` and before `=`).
    public static func kind(of blockID: String) -> String {
        var rest = Substring(blockID)
        if rest.hasPrefix("markpact:") { rest = rest.dropFirst("markpact:".count) }
        return String(rest.prefix { $0 != "=" })
    }

    /// The value after `=`: the path of a `file` block, the language of `deps`.
    public static func value(of blockID: String) -> String? {
        guard let equals = blockID.firstIndex(of: "=") else { return nil }
        return String(blockID[blockID.index(after: equals)...])
    }

    /// Extensions of files that hold data or prose, not code: an editor leaves them alone.
    static let dataExtensions: Set<String> = [
        "csv", "tsv", "json", "jsonl", "ndjson", "yaml", "yml", "toml", "ini", "cfg", "conf", "env", "txt", "text", "md",
        "markdown", "rst", "lock", "xml", "svg", "png", "jpg", "gif", "sql",
    ]

    /// Whether the block is source code an editor may improve: a `file` block whose path is not a data
    /// or text file. (The seed's editor rewrote every kind, CSV and YAML included.)
    public static func isCode(_ blockID: String) -> Bool {
        guard kind(of: blockID) == "file", let path = value(of: blockID), !path.isEmpty else { return false }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return true }  // Makefile, Dockerfile, …
        return !dataExtensions.contains(name[name.index(after: dot)...].lowercased())
    }
}
