import ArgumentParser
import Foundation
import MarksyncCore
import MarksyncTraces

/// `marksync-bench core`: diff-match-patch, the block parser, SHA-256 and LZ4.
struct CoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "diff-match-patch throughput and the automerge-paper trace as patch-text round trips."
    )

    @OptionGroup var options: BenchOptions

    func run() async throws {
        let report = Report(json: options.json)
        let dmp = DiffMatchPatch()

        report.section("automerge-paper trace as patch-text round trips (make → toText → fromText → apply):")
        let trace = try EditingTrace.load(path: try options.tracePath("automerge-paper.json.gz"))
        let edits = scalarEdits(trace)
        var buffer = DiffMatchPatch.padded(Array(trace.startContent.unicodeScalars.map(\.value)), margin: dmp.patchMargin)
        var failures = 0
        var patchBytes = 0
        let elapsed = try seconds {
            for edit in edits {
                let patches = dmp.patchMake(forEditInPadded: buffer, at: edit.position, deleting: edit.deleteCount, inserting: edit.insert)
                let text = dmp.patchToText(patches)
                patchBytes += text.utf8.count
                let parsed = try dmp.patchFromText(text)
                if dmp.patchApply(parsed, toPadded: &buffer).contains(false) { failures += 1 }
            }
        }
        let final = string(DiffMatchPatch.unpadded(buffer, margin: dmp.patchMargin))
        guard final == trace.endContent, failures == 0 else {
            throw ValidationError("the replay did not end on endContent (\(failures) failed hunks)")
        }
        report.add("edits replayed (final text == endContent)", Double(edits.count), "edits")
        report.add("total time", elapsed, "s", target: "≤ 3 s")
        report.add("throughput", Double(edits.count) / elapsed, "edits/s")
        report.add("mean patch text size", Double(patchBytes) / Double(edits.count), "bytes")

        report.section("code-block edits (120-line Python file):")
        let pairs = codeEdits(count: 2_000, seed: 7)
        var texts = [String]()
        let makeTime = seconds {
            for pair in pairs { texts.append(dmp.patchToText(dmp.patchMake(pair.old, pair.new))) }
        }
        report.add("patch_make + patch_toText", Double(pairs.count) / makeTime, "ops/s")
        var mismatches = 0
        let applyTime = try seconds {
            for (pair, text) in zip(pairs, texts) {
                let (result, applied) = dmp.patchApply(try dmp.patchFromText(text), to: pair.old)
                if result != pair.new || applied.contains(false) { mismatches += 1 }
            }
        }
        guard mismatches == 0 else { throw ValidationError("\(mismatches) code patches did not reproduce their target") }
        report.add("patch_fromText + patch_apply", Double(pairs.count) / applyTime, "ops/s")

        report.section("blocks, hashing, compression:")
        let readme = trace.endContent
        let document = "# Paper\n\n```latex markpact:file path=paper.tex\n" + readme + "\n```\n"
        var parsed = MarkpactDocument()
        let parseTime = seconds { for _ in 0..<20 { parsed = MarkpactDocument(parsing: document) } }
        guard parsed.render() == document else { throw ValidationError("render differs from the input") }
        let megabytes = Double(document.utf8.count * 20) / 1_000_000
        report.add("parse a README", megabytes / parseTime, "MB/s")
        let bytes = Array(readme.utf8)
        let shaTime = seconds { for _ in 0..<20 { _ = SHA256.digest(bytes) } }
        report.add("SHA-256", Double(bytes.count * 20) / 1_000_000 / shaTime, "MB/s")
        var compressed = [UInt8]()
        let lz4Time = try seconds { for _ in 0..<20 { compressed = try LZ4Codec.compress(bytes) } }
        report.add("LZ4 compress", Double(bytes.count * 20) / 1_000_000 / lz4Time, "MB/s")
        let unlz4Time = try seconds { for _ in 0..<20 { _ = try LZ4Codec.decompress(compressed) } }
        report.add("LZ4 decompress", Double(bytes.count * 20) / 1_000_000 / unlz4Time, "MB/s")
        report.add("LZ4 ratio on the paper", Double(bytes.count) / Double(compressed.count), "×")
        try report.finish()
    }
}
