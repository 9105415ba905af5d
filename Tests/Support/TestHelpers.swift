import Foundation

/// Creates a new, empty folder under the temporary directory: `<prefix>-<UUID>`.
public func temporaryFolder(_ prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes (long: CI runs suites side by side on
/// two cores); returns whether it held.
public func waitUntil(timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Runs blocking work (waiting for a child process, reading its pipes) on a thread of its own, so that it
/// never holds one of the few threads of Swift's concurrency pool: on a 2-core machine there are two, and
/// a test blocking them stalls every other test running beside it.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// Runs a child process to its end off the concurrency pool; returns its status, standard output and error.
public func runToEnd(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil, directory: URL? = nil
) async throws -> (status: Int32, output: String, error: String) {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        // Standard error goes to a file: reading two pipes from one thread could block on the fuller one.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = errorHandle
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errorHandle.close()
        let error = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), error)
    }
}

/// Reads a child's standard output until it prints `listening <port>` (what `serve`, `api` and
/// `orchestrate` print once bound), off the concurrency pool. Returns the port (0 when the child ended or
/// `timeout` passed first) and what it printed so far.
public func readListeningPort(_ output: FileHandle, timeout: Duration = .seconds(60)) async throws -> (port: Int, printed: String) {
    let seconds = Double(timeout.components.seconds)
    return try await offPool {
        var printed = ""
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let data = output.availableData
            if data.isEmpty { break }
            printed += String(decoding: data, as: UTF8.self)
            if let line = printed.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                return (Int(line.dropFirst("listening ".count)) ?? 0, printed)
            }
        }
        return (0, printed)
    }
}

/// Waits for a child process to end, off the concurrency pool.
public func waitForExit(_ process: Process) async throws {
    let box = ProcessBox(process)
    try await offPool { box.process.waitUntilExit() }
}

/// Hands a `Process` to another thread (it is only waited on there).
private final class ProcessBox: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}
