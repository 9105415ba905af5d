import MarksyncCore

/// The one error type of the store. `code` is stable (scripts and the protocol rely on it).
public struct StoreError: Error, Equatable, CustomStringConvertible {
    /// A stable reason code.
    public var code: Code
    /// What happened and what to do about it.
    public var message: String

    /// The store's reason codes (stable strings: scripts and the protocol rely on them).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The log file could not be opened or created.
        public static let cannotOpen = Code(rawValue: "cannot_open")
        /// The log was written by a newer marksync-log.
        public static let newerFormat = Code(rawValue: "newer_format")
        /// The document does not exist.
        public static let unknownDocument = Code(rawValue: "unknown_document")
        /// A document with that name already exists.
        public static let documentExists = Code(rawValue: "document_exists")
        /// The event could not be applied (see the message for the apply reason).
        public static let rejected = Code(rawValue: "rejected")
        /// The seq asked for is outside the log.
        public static let seqOutOfRange = Code(rawValue: "seq_out_of_range")
        /// Stored data is damaged.
        public static let corrupt = Code(rawValue: "corrupt")
        /// SQLite failed (disk full, I/O error, …).
        public static let database = Code(rawValue: "database")
        /// A backup file could not be read.
        public static let badImport = Code(rawValue: "bad_import")
        /// Another process appended to the log since this one read it (retried internally).
        public static let staleHead = Code(rawValue: "stale_head")
        /// The log's file vanished or was replaced while open: nothing more is stored or acked (fail closed).
        public static let storage = Code(rawValue: "storage")
    }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
