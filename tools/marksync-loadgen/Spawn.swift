import Foundation

/// A server started by the load generator on a free loopback port, with a temporary copy of a README.
final class SpawnedServer: @unchecked Sendable {
    let process: Process
    let url: String
    let folder: URL
    var pid: Int32 { process.processIdentifier }

    private init(process: Process, url: String, folder: URL) {
        self.process = process
        self.url = url
        self.folder = folder
    }

    /// `marksync-log serve README.md --port 0 --db …`; the port is read from its `listening <port>` line.
    static func marksyncLog(binary: String, readme: String, rateLimit: Double) async throws -> SpawnedServer {
        let folder = try temporaryFolder()
        let copy = folder.appendingPathComponent("README.md")
        try FileManager.default.copyItem(atPath: readme, toPath: copy.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", copy.path, "--host", "127.0.0.1", "--port", "0", "--db", folder.appendingPathComponent("log.db").path,
            "--rate-limit", String(Int(rateLimit)),
            // Every simulated client comes from 127.0.0.1: the per-address connection limit would cap them.
            "--max-connections-per-address", "0",
        ]
        process.currentDirectoryURL = folder
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: touch(folder.appendingPathComponent("server.log")))
        try process.run()
        let port = try await readPort(stdout.fileHandleForReading, process: process, timeout: 30)
        return SpawnedServer(process: process, url: "ws://127.0.0.1:\(port)/", folder: folder)
    }

    /// The Python seed: `marksync server README.md --host 127.0.0.1 --port P`.
    static func seed(command: String, readme: String) async throws -> SpawnedServer {
        let folder = try temporaryFolder()
        let copy = folder.appendingPathComponent("README.md")
        try FileManager.default.copyItem(atPath: readme, toPath: copy.path)
        let port = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command, "server", copy.path, "--host", "127.0.0.1", "--port", String(port)]
        process.currentDirectoryURL = folder
        let log = try FileHandle(forWritingTo: touch(folder.appendingPathComponent("server.log")))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !canConnect(port: port) {
            guard process.isRunning else { throw LoadgenError("the seed server exited; see \(folder.path)/server.log") }
            guard Date() < deadline else {
                process.terminate()
                throw LoadgenError("the seed server did not listen on 127.0.0.1:\(port) within 30 s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return SpawnedServer(process: process, url: "ws://127.0.0.1:\(port)/", folder: folder)
    }

    /// SIGTERM, then SIGKILL after 5 s; removes the temporary folder.
    func stop(keep: Bool = false) {
        if process.isRunning {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        if !keep { try? FileManager.default.removeItem(at: folder) }
    }

    private static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("marksync-loadgen-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static func touch(_ url: URL) -> URL {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }

    private static func readPort(_ handle: FileHandle, process: Process, timeout: Double) async throws -> Int {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            Thread.detachNewThread {
                var buffer = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty {
                        continuation.resume(throwing: LoadgenError("marksync-log exited before printing `listening <port>`"))
                        return
                    }
                    buffer.append(chunk)
                    let text = String(decoding: buffer, as: UTF8.self)
                    for line in text.split(separator: "\n") where line.hasPrefix("listening ") {
                        if let port = Int(line.dropFirst("listening ".count).trimmingCharacters(in: .whitespaces)) {
                            continuation.resume(returning: port)
                            // Keep draining so the server never blocks on a full pipe.
                            while !handle.availableData.isEmpty {}
                            return
                        }
                    }
                }
            }
        }
    }

    /// A port the kernel hands out for 127.0.0.1 (bound then released).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadgenError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LoadgenError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
