import Foundation
import Synchronization

/// Why a log or README could not be taken: a stable reason code and a message naming the holder.
public struct OwnershipError: Error, CustomStringConvertible, Sendable {
    /// Stable reason codes.
    public struct Reason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// Another process (or another server in this one) holds the lock.
        public static let held = Reason(rawValue: "lock_held")
        /// The lock file could not be opened or locked.
        public static let io = Reason(rawValue: "lock_io")
    }

    public var reason: Reason
    public var message: String
    /// The pid recorded by the holder, when it could be read.
    public var holder: Int32?
    public var description: String { message }
}

/// One owner per log and per README: an exclusive `flock` on a lock file (`log.db.lock` beside a SQLite
/// log, `.README.md.lock` beside a README) holding the owner's pid. The OS drops it when the process dies,
/// kill -9 included, so a stale lock file never blocks a restart. `flock` locks belong to the open file,
/// so two servers in one process exclude each other too.
public final class OwnershipLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Mutex<Int32>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    /// Takes the lock at `path` (created when missing) without waiting, and writes this process's pid in
    /// it; throws ``OwnershipError`` naming the pid that holds it. `what` names the thing owned in messages.
    public static func acquire(_ path: String, what: String) throws(OwnershipError) -> OwnershipLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw OwnershipError(reason: .io, message: "cannot open the lock file \(path) of \(what): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid = count > 0 ? Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            if code == EWOULDBLOCK {
                let holder = pid.map { "process \($0)" } ?? "another process"
                throw OwnershipError(
                    reason: .held,
                    message: "\(what) is already served by \(holder) (lock \(path)); stop it first, or serve another log/README",
                    holder: pid)
            }
            throw OwnershipError(reason: .io, message: "cannot lock \(path) of \(what): \(String(cString: strerror(code)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return OwnershipLock(path: path, descriptor: fd)
    }

    /// Releases the lock (also at deinit, and by the OS when the process ends). The file stays: removing
    /// it would let a third process lock a new file while a second still waits on the old one.
    public func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
