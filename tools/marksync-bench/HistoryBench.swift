import ArgumentParser
import Foundation
import MarksyncCLI
import MarksyncCore
import MarksyncStore

/// `marksync-bench history`: the history CLI on a large README — `ingest` of a README of 20,000 blocks,
/// `log --limit 3` on its log, `export` and `import` of its events. Each command runs in-process through
/// the CLI's own code (`CommandLineRunner`), from a fresh open of the log, exactly as `marksync-log` runs it.
struct HistoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "ingest of a 20,000-block README, log --limit 3, export and import of its events (the CLI's code)."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Blocks in the README.")
    var blocks: Int = 20_000

    @Option(help: "Runs of `log --limit 3` (the median is reported).")
    var logRuns: Int = 20

    @Option(help: "Where to put the files (a temporary folder by default; removed afterwards).")
    var folder: String?

    func run() async throws {
        let report = Report(json: options.json)
        let base = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("marksync-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: base) } }
        let readme = base + "/README.md"
        let db = base + "/log.db"
        let export = base + "/export.jsonl"
        let copy = base + "/copy.db"
        try Data(Self.readme(blocks: blocks).utf8).write(to: URL(fileURLWithPath: readme))

        report.section("history CLI on a README of \(blocks) blocks (in-process, fresh open per command):")
        let ingest = try await timed(["ingest", readme, "--db", db, "--doc", "big"])
        report.add("ingest (\(blocks) blocks → \(blocks + 1) events)", ingest, "s", target: "≤ 1 s")

        var runs = [Double]()
        for _ in 0..<max(1, logRuns) { runs.append(try await timed(["log", "--db", db, "--limit", "3"]) * 1000) }
        report.add("log --limit 3: median of \(runs.count)", percentile(runs, 0.5), "ms", target: "≤ 50 ms")
        report.add("log --limit 3: slowest", runs.max() ?? 0, "ms")
        var older = [Double]()
        for _ in 0..<max(1, logRuns) { older.append(try await timed(["log", "--db", db, "--limit", "3", "--reverse", "--from", "HEAD~10000"]) * 1000) }
        report.add("log --reverse --from HEAD~10000 --limit 3: median", percentile(older, 0.5), "ms")

        let exported = try await timed(["export", "--db", db, "--out", export])
        let lines = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").count
        report.add("export (\(lines) lines)", exported, "s")
        let imported = try await timed(["import", export, "--db", copy])
        report.add("import (\(blocks + 1) events)", imported, "s", target: "≤ 1 s")
        let warmed = try await timed(["import", export, "--db", base + "/copy-warmed.db", "--yjs-warm-up"])
        report.add("import --yjs-warm-up (its Yjs checkpoints too)", warmed, "s")
        report.add("peak memory (VmHWM)", peakRSSMegabytes(), "MB")
        try report.finish()
    }

    /// Runs a marksync-log command line in-process; its output is captured (and dropped). Seconds taken.
    func timed(_ arguments: [String]) async throws -> Double {
        let capture = Console.Capture()
        let started = ContinuousClock.now
        let code = await Console.$capture.withValue(capture) { await CommandLineRunner.run(arguments) }
        let elapsed = ContinuousClock.now - started
        guard code == 0 else {
            throw ValidationError("marksync-log \(arguments.joined(separator: " ")) exited \(code): \(capture.standardError)")
        }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// A README of `blocks` small file blocks (3 lines each) under a title, with a run block at the end.
    static func readme(blocks: Int) -> String {
        var text = "# Big project\n\nA README with many blocks, for the history benchmark.\n"
        for index in 0..<blocks - 1 {
            text += "\n```python markpact:file path=pkg\(index / 100)/mod\(index).py\n"
            text += "def f\(index)(x):\n    return x + \(index)\n# end of mod\(index)\n```\n"
        }
        text += "\n```bash markpact:run\npython -m pkg0.mod0\n```\n"
        return text
    }
}
