import ArgumentParser

/// A failure of a command, with the message for the user and the exit code.
///
/// Exit codes follow the contract: 0 success, 1 failure, 2 usage error, 3 corruption found by `verify`.
public struct CLIError: Error, CustomStringConvertible {
    /// What went wrong and what to do about it.
    public var message: String
    /// The process exit code.
    public var exitCode: Int32

    /// A failure (exit code 1).
    public static func failure(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }
    /// A usage error (exit code 2).
    public static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }

    public var description: String { message }
}
