import Foundation

/// The repository's root folder (this file is Tests/Support/Paths.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The built `marksync-log` executable: `$MARKSYNC_BIN`, next to the test bundle, or in .build/debug.
public func marksyncBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["MARKSYNC_BIN"] { return path }
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("marksync-log").path,
        repositoryRoot.appendingPathComponent(".build/debug/marksync-log").path,
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw BinaryMissing(message: "build the binary first (swift build); looked in \(candidates)")
    }
    return found
}

/// The executable is not built.
public struct BinaryMissing: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
