import Foundation
import Logging
import MarksyncAgents
import PostgresNIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real PostgreSQL 15 server for the tests, one per test process, started on first use.
///
/// `initdb` into a fresh temporary folder, then `pg_ctl start` on 127.0.0.1 with a free port and its unix
/// socket in that folder (`fsync=on`, small `shared_buffers`, `max_connections=200`). Each test takes a
/// database of its own (``database()``), so tests stay independent. The server is stopped
/// (`pg_ctl stop -m fast`) and its folder deleted when the test process exits; a watchdog shell does the
/// same within a second should the process die without running its exit handlers.
///
/// PostgreSQL refuses to run as root: when the tests run as root (here and in CI) the server runs as the
/// `postgres` system user (created by Debian's package) through `runuser`. The binaries are taken from
/// /usr/lib/postgresql/15/bin, else from the PATH; `scripts/setup.sh` installs them (postgresql-15).
public actor LivePostgres {
    public static let shared = LivePostgres()

    /// A running server.
    public struct Server: Sendable {
        public let port: Int
        /// The temporary folder: `data/` (the cluster), the unix socket, `server.log`.
        public let folder: URL
        let binaries: String
        let runAs: [String]
    }

    private var starting: Task<Server, any Error>?

    /// The URL of a new, empty database on the shared server (started on first use).
    public static func database() async throws -> String {
        let server = try await shared.server()
        let name = "t_" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20))
        try await execute("CREATE DATABASE \(name)", database: "postgres", port: server.port)
        return "postgres://postgres@127.0.0.1:\(server.port)/\(name)?sslmode=disable"
    }

    /// Runs one statement as the superuser in a database of the shared server (by name or URL).
    public static func execute(_ sql: String, in database: String) async throws {
        let server = try await shared.server()
        let name = database.hasPrefix("postgres") ? URLComponents(string: database)?.path.trimmingCharacters(in: ["/"]) ?? database : database
        try await execute(sql, database: name, port: server.port)
    }

    /// The shared server, started the first time.
    public func server() async throws -> Server {
        if let starting { return try await starting.value }
        let task = Task { try await Self.start() }
        starting = task
        return try await task.value
    }

    private static func execute(_ sql: String, database: String, port: Int) async throws {
        let logger = Logger(label: "live-postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: port, username: "postgres", password: nil, database: database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
        } catch {
            try? await connection.close()
            throw LivePostgresError(message: "\(sql): \(String(reflecting: error))")
        }
        try? await connection.close()
    }

    // MARK: - Starting and stopping

    private static func start() async throws -> Server {
        let binaries = try findBinaries()
        var runAs: [String] = []
        if getuid() == 0 {
            guard getpwnam("postgres") != nil else {
                throw LivePostgresError(
                    message: "the tests run as root and PostgreSQL refuses to: they run it as the `postgres` user, which does not exist; "
                        + "scripts/setup.sh installs postgresql-15, whose package creates it")
            }
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let runuser else { throw LivePostgresError(message: "the tests run as root but runuser (util-linux) is missing") }
            runAs = [runuser, "-u", "postgres", "--"]
        }
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("marksync-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if getuid() == 0, let user = getpwnam("postgres") {
            guard chown(folder.path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw LivePostgresError(message: "cannot hand \(folder.path) to the postgres user (errno \(errno))")
            }
        }
        let data = folder.appendingPathComponent("data").path
        let initdb = try await run(
            runAs + ["\(binaries)/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], in: folder)
        guard initdb.status == 0 else {
            try? FileManager.default.removeItem(at: folder)
            throw LivePostgresError(message: "initdb failed (\(initdb.status)): \(initdb.output)")
        }
        registerCleanup(binaries: binaries, runAs: runAs, data: data, folder: folder.path)
        var lastError = ""
        for _ in 0..<8 {
            let port = try freePort()
            let options = [
                "-c listen_addresses=127.0.0.1", "-c port=\(port)", "-c unix_socket_directories=\(folder.path)", "-c fsync=on",
                "-c shared_buffers=16MB", "-c max_connections=200", "-c max_wal_size=256MB", "-c log_min_messages=warning",
            ].joined(separator: " ")
            let started = try await run(
                runAs + ["\(binaries)/pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", "\(folder.path)/server.log", "-o", options],
                in: folder)
            if started.status == 0 { return Server(port: port, folder: folder, binaries: binaries, runAs: runAs) }
            let log = (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            lastError = "\(started.output)\n\(log.suffix(2000))"
            if !log.contains("Address already in use") && !log.contains("could not bind") { break }
        }
        throw LivePostgresError(message: "PostgreSQL did not start: \(lastError)")
    }

    /// The folder of `initdb`/`pg_ctl`: Debian's PostgreSQL 15, else the PATH.
    private static func findBinaries() throws -> String {
        var candidates = ["/usr/lib/postgresql/15/bin"]
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for folder in candidates
        where FileManager.default.isExecutableFile(atPath: "\(folder)/initdb") && FileManager.default.isExecutableFile(atPath: "\(folder)/pg_ctl") {
            return folder
        }
        throw LivePostgresError(
            message: "PostgreSQL 15 is not installed (no initdb and pg_ctl in /usr/lib/postgresql/15/bin or on the PATH): "
                + "run scripts/setup.sh, which installs postgresql-15")
    }

    /// A TCP port free on 127.0.0.1 right now (bound to port 0, then released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LivePostgresError(message: "socket() failed (errno \(errno))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw LivePostgresError(message: "bind() failed (errno \(errno))") }
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw LivePostgresError(message: "getsockname() failed (errno \(errno))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a command to its end off the concurrency pool, its output going to a file (`pg_ctl start`
    /// leaves a server running that could hold a pipe open). Spawned and waited for with
    /// posix_spawn/waitpid rather than `Process`, whose exit monitoring missed the end of `runuser` here.
    private static func run(_ command: [String], in folder: URL) async throws -> (status: Int32, output: String) {
        try await offPool {
            let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("live-postgres-\(UUID().uuidString).out")
            defer { try? FileManager.default.removeItem(at: outputFile) }
            let pid = try spawn(command, output: outputFile.path, directory: folder.path)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw LivePostgresError(message: "waitpid failed (errno \(errno)) for \(command)") }
            }
            let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
            return (exitStatus, output)
        }
    }

    /// Starts `command` with standard input from /dev/null and standard output and error to `output`
    /// (or /dev/null), in `directory`, with no signal blocked; returns its pid.
    private static func spawn(_ command: [String], output: String?, directory: String?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Nothing but 0-2 is inherited. The watchdog shell lives as long as the test process: holding copies
        // of the tests' sockets and pipes, it kept closed connections open (servers waiting for a peer's
        // close at shutdown, readers for the end of a child's output) and hung the tests that run beside it.
        SpawnFileActions.standardStreams(&actions, output: output ?? "/dev/null")
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGCHLD, SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // In `directory` (posix_spawn_file_actions_addchdir_np is not visible from Swift here): through sh.
        let command = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + command } ?? command
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let result = argv.withUnsafeBufferPointer { pointer in
            posix_spawn(&pid, command[0], &actions, &attributes, pointer.baseAddress!, environ)
        }
        guard result == 0 else { throw LivePostgresError(message: "cannot start \(command[0]) (error \(result))") }
        return pid
    }

    /// Stops the server and deletes its folder when the process exits (`atexit`), and starts a watchdog
    /// that does the same within a second if the process dies without exit handlers (a crash, SIGKILL).
    private static func registerCleanup(binaries: String, runAs: [String], data: String, folder: String) {
        let prefix = runAs.map { "'\($0)'" }.joined(separator: " ")
        let stop = "\(prefix) '\(binaries)/pg_ctl' stop -D '\(data)' -m fast -w -t 30 >/dev/null 2>&1; rm -rf '\(folder)'"
        cleanupCommand.withLock { $0 = stop }
        atexit {
            guard let command = cleanupCommand.withLock({ $0 }) else { return }
            _ = system(command)
        }
        // Not waited for: it ends after this process does.
        _ = try? spawn(
            ["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; if [ -d '\(data)' ]; then \(stop); fi"],
            output: nil, directory: "/")
    }
}

/// The shell command that stops the test server, for the exit handler.
private let cleanupCommand = Mutex<String?>(nil)

/// The test server could not be started or used.
public struct LivePostgresError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
