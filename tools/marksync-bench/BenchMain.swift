import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncStore
import MarksyncTraces

/// `marksync-bench`: the benchmark command. Build in release: `swift run -c release marksync-bench core`.
@main
struct BenchMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marksync-bench",
        abstract: "Benchmarks of marksync-log (run in release mode).",
        subcommands: [CoreBench.self, LogBench.self, YjsBench.self, StartupBench.self, HistoryBench.self]
    )
}

/// Options shared by the benchmarks.
struct BenchOptions: ParsableArguments {
    @Option(help: "The folder of the editing traces (default: $MARKSYNC_TRACES or ../shared/data/traces).")
    var traces: String?

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func tracePath(_ name: String) throws -> String {
        guard let folder = traces ?? EditingTrace.defaultFolder() else {
            throw ValidationError("cannot find the editing traces; pass --traces DIR or set MARKSYNC_TRACES")
        }
        return folder + "/" + name
    }
}

/// One measured figure.
struct Figure: Encodable {
    var name: String
    var value: Double
    var unit: String
    var target: String?
}

/// Collects and prints figures.
final class Report {
    var figures = [Figure]()
    let json: Bool
    init(json: Bool) { self.json = json }

    func add(_ name: String, _ value: Double, _ unit: String, target: String? = nil) {
        figures.append(Figure(name: name, value: value, unit: unit, target: target))
        if !json {
            let number = value >= 100 ? String(format: "%.0f", value) : String(format: "%.3g", value)
            print("  \(name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(number) \(unit)\(target.map { "   (target \($0))" } ?? "")")
        }
    }

    func section(_ title: String) { if !json { print(title) } }

    func finish() throws {
        guard json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(figures), as: UTF8.self))
    }
}

/// Seconds taken by `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The peak resident memory of this process (VmHWM), in MB.
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// The trace's edits as code points.
struct ScalarEdit {
    var position: Int
    var deleteCount: Int
    var insert: [UInt32]
}

func scalarEdits(_ trace: EditingTrace) -> [ScalarEdit] {
    trace.edits.map { ScalarEdit(position: $0.position, deleteCount: $0.deleteCount, insert: $0.insert.unicodeScalars.map(\.value)) }
}

/// The trace's edits as diff-match-patch patch texts, made beforehand: an ingest then measures the write
/// path, not the client.
func tracePatchTexts(_ edits: [ScalarEdit]) -> [String] {
    let dmp = DiffMatchPatch()
    var shadow = DiffMatchPatch.padded([], margin: dmp.patchMargin)
    var patches = [String]()
    patches.reserveCapacity(edits.count)
    for edit in edits {
        let made = dmp.patchMake(forEditInPadded: shadow, at: edit.position, deleting: edit.deleteCount, inserting: edit.insert)
        patches.append(dmp.patchToText(made))
        _ = dmp.patchApply(made, toPadded: &shadow)
    }
    return patches
}

/// Appends one patch event per text to `blockID` of document `paper`, in batches of `batch`.
func appendTracePatches(_ patches: [String], blockID: String, to log: EventLog, batch: Int) async throws {
    var start = 0
    while start < patches.count {
        let end = min(start + batch, patches.count)
        let requests = patches[start..<end].map {
            WriteRequest(document: "paper", author: "trace", change: .patch(blockID: blockID, patch: $0, expectedSHA256: nil))
        }
        let outcomes = try await log.append(requests)
        if let bad = outcomes.first(where: { $0.event == nil }) { throw ValidationError("an event was refused: \(bad)") }
        start = end
    }
}

/// Code-block edits: a Python file edited line by line (change a line, insert one, delete one).
func codeEdits(count: Int, seed: UInt64) -> [(old: String, new: String)] {
    var state = seed
    func next() -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int(truncatingIfNeeded: state >> 33)
    }
    var lines = (0..<120).map { "    value_\($0) = compute(\"item-\($0)\", weight=\($0 % 7))  # step \($0)" }
    var out = [(old: String, new: String)]()
    for i in 0..<count {
        let old = lines.joined(separator: "\n")
        let at = next() % lines.count
        switch next() % 3 {
        case 0: lines[at] = lines[at].replacingOccurrences(of: "compute", with: "compute_v\(i % 9)")
        case 1: lines.insert("    extra_\(i) = \(i) * 2  # inserted", at: at)
        default: if lines.count > 60 { lines.remove(at: at) } else { lines.append("    tail_\(i) = None") }
        }
        out.append((old, lines.joined(separator: "\n")))
    }
    return out
}

/// A string from code points.
func string(_ scalars: [UInt32]) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars.compactMap(Unicode.Scalar.init))
    return String(view)
}
