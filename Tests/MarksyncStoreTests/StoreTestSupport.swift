import Foundation
import MarksyncCore
import MarksyncStore
import MarksyncTestSupport
import Testing

/// A fresh folder under the system temp folder.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("marksync-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The backends the store's suite runs on: the same tests, parameterised (issue 8).
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// A SQLite file in a fresh folder.
    case sqlite
    /// A fresh database on the PostgreSQL 15 that LivePostgres starts for the test process.
    case postgres

    var testDescription: String { rawValue }
}

/// A fresh, empty database of a backend: a `--db` value, and a folder for files the test writes.
func temporaryDatabase(_ backend: StoreBackend) async throws -> (database: String, folder: URL) {
    let folder = try temporaryFolder()
    switch backend {
    case .sqlite: return (folder.appendingPathComponent("log.db").path, folder)
    case .postgres: return (try await LivePostgres.database(), folder)
    }
}

/// A new log on a fresh database (SQLite unless told otherwise).
func temporaryLog(_ options: EventLog.Options = EventLog.Options(), on backend: StoreBackend = .sqlite) async throws -> (EventLog, URL) {
    let (database, folder) = try await temporaryDatabase(backend)
    let log = try await EventLog.open(database: database, options: options)
    return (log, folder)
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The example READMEs of the repository.
func exampleReadmes() -> [URL] {
    let examples = repoRoot.appendingPathComponent("examples")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
    return names.sorted().map { examples.appendingPathComponent("\($0)/README.md") }.filter {
        FileManager.default.fileExists(atPath: $0.path)
    }
}

/// A small deterministic random generator for tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension WriteOutcome {
    var isAppended: Bool { if case .appended = self { true } else { false } }
    var rejectionCode: String? { if case .rejected(let error, _) = self { error.code } else { nil } }
}
