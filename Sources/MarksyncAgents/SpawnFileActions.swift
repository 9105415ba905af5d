import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File actions for `posix_spawn` shared by everything that starts a child process.
public enum SpawnFileActions {
    /// Adds actions that close every descriptor from 3 up in the child.
    ///
    /// Without them a child inherits the parent's sockets and pipes that are not close-on-exec (NIO's
    /// sockets among them). A child that outlives its command (a deployed server, a watchdog) then keeps
    /// connections open after the parent closed them: peers never see the close, and readers of a pipe
    /// never see its end.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
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
