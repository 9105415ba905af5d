/// The one error type of the Yjs projection: damaged input (an update, a state vector, a sync message,
/// a checkpoint) or an event the projection cannot apply.
public struct YjsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A stable reason code: `truncated`, `malformed`, `unsupported`, `bad_checkpoint`, `bad_event`,
    /// `out_of_order`.
    public var code: String
    /// What went wrong, for a person.
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}
