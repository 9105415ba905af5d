import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a shell command in a folder with a time limit and keeps the end of its output.
///
/// The command runs in its own process group, so that a timeout stops everything it started (a server,
/// a test runner), not only the shell. (Foundation's `Process` is not used: on Linux it reports the end
/// of the shell only once every process that inherited its descriptors has ended.)
public enum CommandRunner {
    /// How a run ended.
    public struct Result: Sendable, Equatable {
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var exitCode: Int
        public var timedOut: Bool
        /// The last lines of standard output and standard error, interleaved as written.
        public var outputTail: String
    }

    /// Runs `/bin/sh -c command` in `folder`; after `timeout` its process group gets SIGTERM, 5 s later SIGKILL.
    public static func run(
        _ command: String, in folder: URL, environment extra: [String: String] = [:], timeout: Duration, tailLines: Int
    ) async throws -> Result {
        let logPath = folder.appendingPathComponent(".marksync-deploy.log").path
        let script = "cd '\(folder.path.replacingOccurrences(of: "'", with: "'\\''"))' && \(command)"
        let environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        let pid = try spawn(["/bin/sh", "-c", script], environment: environment, output: logPath)
        let watch = Watch()
        let watchdog = Task.detached {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            watch.timedOut.withLock { $0 = true }
            kill(-pid, SIGTERM)
            try? await Task.sleep(for: .seconds(5))
            if !Task.isCancelled { kill(-pid, SIGKILL) }
        }
        let status = await wait(for: pid)
        watchdog.cancel()
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: logPath)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        var tail = lines.suffix(tailLines).joined(separator: "\n")
        if tail.utf8.count > 16_384 { tail = String(tail.suffix(8_192)) }
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS, spelled out (the C macros are not imported).
        let signal = status & 0x7f
        let exitCode = signal != 0 ? 128 + Int(signal) : Int((status >> 8) & 0xff)
        return Result(exitCode: exitCode, timedOut: watch.timedOut.withLock { $0 }, outputTail: tail)
    }

    /// Starts a process in a new process group with stdin from /dev/null and stdout+stderr to `output`.
    private static func spawn(_ arguments: [String], environment: [String: String], output: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        SpawnFileActions.standardStreams(&actions, output: output)
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw AgentError("io", "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Waits for a child on a thread of its own (never on the concurrency pool); returns its wait status.
    private static func wait(for pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1, errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
    }

    /// What the watchdog shares with the run.
    private final class Watch: Sendable {
        let timedOut = Mutex(false)
    }
}
