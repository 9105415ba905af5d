import ArgumentParser
import MarksyncCore
import MarksyncStore

/// The root command, `marksync-log`.
public struct MarksyncLogCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "marksync-log",
        abstract: "Event-sourced sync hub for Markpact projects.",
        discussion: """
            A Markpact project is one README.md whose fenced `markpact:*` code blocks are edited by agents \
            and people at the same time. marksync-log keeps every change as an event in an append-only log.
            """,
        version: "marksync-log \(MarksyncVersion.tool) (log format \(MarksyncVersion.logFormat))",
        subcommands: [
            BlocksCommand.self, ServeCommand.self, IngestCommand.self, LogCommand.self, ReplayCommand.self, DiffCommand.self, BlameCommand.self,
            VerifyCommand.self, RebuildCommand.self, StatsCommand.self, ExportCommand.self, ExportYjsCommand.self, ImportCommand.self, DebugCommand.self,
            PushCommand.self, PullCommand.self, WatchCommand.self, AgentCommand.self, OrchestrateCommand.self, APICommand.self, ShellCommand.self, SandboxCommand.self,
        ]
    )

    public init() {}
}

/// Runs the command line in-process and returns the exit code (what `main` passes to `exit`).
///
/// Usage errors exit with 2 (argument-parser's default would be 64), failures with 1.
public enum CommandLineRunner {
    /// Parses and runs `arguments` (without the program name).
    public static func run(_ arguments: [String]) async -> Int32 {
        do {
            var command = try MarksyncLogCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as CLIError {
            printError("error: \(error.message)")
            return error.exitCode
        } catch let error as StoreError {
            let cli = error.cliError
            printError("error: \(cli.message)")
            return cli.exitCode
        } catch {
            let code = MarksyncLogCommand.exitCode(for: error)
            let message = MarksyncLogCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Console.out(message) }
                return 0
            }
            if !message.isEmpty { printError(message) }
            return code == .validationFailure ? 2 : code.rawValue
        }
    }
}
