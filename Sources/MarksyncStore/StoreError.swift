import MarksyncCore

/// The one error type of the store. `code` is stable (scripts and the protocol rely on it).
public struct StoreError: Error, Equatable, CustomStringConvertible {
    /// A stable reason code.
    public var code: Code
    /// What happened and what to do about it.
    public var message: String

    /// The store's reason codes.
    public enum Code: String, Sendable {
        /// The log file could not be opened or created.
        case cannotOpen = "cannot_open"
        /// The log was written by a newer marksync-log.
        case newerFormat = "newer_format"
        /// The document does not exist.
        case unknownDocument = "unknown_document"
        /// A document with that name already exists.
        case documentExists = "document_exists"
        /// The event could not be applied (see the message for the apply reason).
        case rejected
        /// The seq asked for is outside the log.
        case seqOutOfRange = "seq_out_of_range"
        /// Stored data is damaged.
        case corrupt
        /// SQLite failed (disk full, I/O error, …).
        case database
        /// A backup file could not be read.
        case badImport = "bad_import"
        /// Another process appended to the log since this one read it (retried internally).
        case staleHead = "stale_head"
    }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
