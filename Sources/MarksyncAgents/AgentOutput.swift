import Foundation

/// Where an agent's lines go: status lines for people, and the monitor's audit lines.
public struct AgentOutput: Sendable {
    /// A status line (`[reviewer-1:reviewer] reviewed markpact:file=app.py at seq 12: warning`).
    public var log: @Sendable (String) -> Void
    /// An audit line of a monitor without an audit file.
    public var audit: @Sendable (String) -> Void

    public init(log: @escaping @Sendable (String) -> Void, audit: @escaping @Sendable (String) -> Void) {
        self.log = log
        self.audit = audit
    }

    /// Status lines on standard error, audit lines on standard output.
    public static let standard = AgentOutput(
        log: { line in FileHandle.standardError.write(Data((line + "\n").utf8)) },
        audit: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) })

    /// Nothing printed.
    public static let silent = AgentOutput(log: { _ in }, audit: { _ in })
}
