import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File actions for `posix_spawn` shared by everything that starts a child process.
public enum SpawnFileActions {
    /// Adds the actions that give a child its descriptors: standard input from /dev/null, standard output and
    /// standard error written to the file at `output` (created or truncated), and nothing else.
    public static func standardStreams(_ actions: inout posix_spawn_file_actions_t, output: String) {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)
    }

    /// Adds actions that close every descriptor from 3 up in the child.
    ///
    /// Without them a child inherits the parent's sockets and pipes that are not close-on-exec (NIO's
    /// sockets among them). A child that outlives its command (a deployed server, a watchdog) then keeps
    /// connections open after the parent closed them: peers never see the close, and readers of a pipe
    /// never see its end.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        #if os(Linux)
        // glibc ≥ 2.34 has posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not
        // show: looked up at run time.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
            if closeFrom(&actions, 3) == 0 { return }
        }
        #endif
        // Elsewhere: one close action per descriptor open now (a close of a descriptor closed meanwhile is
        // ignored by posix_spawn).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? (try? FileManager.default.contentsOfDirectory(atPath: "/dev/fd")) ?? []
        for descriptor in open.compactMap({ Int32($0) }) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }
}
