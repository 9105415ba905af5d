import Foundation
import Testing

@testable import MarksyncCore

/// The fan-out relays a writer's patch only when it applied exactly; the result is the same either way.
struct PatchRelayTests {
    func state(_ content: String) throws -> DocumentState {
        var state = DocumentState()
        _ = try state.prepare(.create(blockID: "markpact:file=a.py", index: 0, header: nil, content: content), seq: 1)
        return state
    }

    @Test func anExactPatchIsRelayedVerbatimAndAFuzzyOneIsRecomputed() throws {
        let dmp = DiffMatchPatch()
        let base = (1...40).map { "line \($0) of the block" }.joined(separator: "\n") + "\n"
        // One small hunk, a long one (split by diff-match-patch), and two hunks far apart: all exact.
        let edits = [
            base.replacingOccurrences(of: "line 7 of", with: "line seven of"),
            base.replacingOccurrences(of: "line 3 of the block\nline 4 of the block\nline 5 of the block", with: "gone"),
            base.replacingOccurrences(of: "line 2 of", with: "LINE 2 of").replacingOccurrences(of: "line 38 of", with: "LINE 38 of"),
        ]
        for edited in edits {
            let patch = dmp.patchToText(dmp.patchMake(base, edited))
            var relay = try state(base)
            let kind = try relay.applyPatchForRelay(blockID: "markpact:file=a.py", patchText: patch, resultLength: edited.unicodeScalars.count, resultSHA256: nil, seq: 2)
            #expect(kind == .verbatim)
            #expect(relay.block("markpact:file=a.py")?.content == edited)
        }
        // A patch made against an older text applies fuzzily (shifted): recomputed from the content before.
        let shifted = "a new first line\n" + base
        let patch = dmp.patchToText(dmp.patchMake(base, base.replacingOccurrences(of: "line 20 of", with: "line twenty of")))
        var relay = try state(shifted)
        let expected = dmp.patchApply(try dmp.patchFromText(patch), to: shifted).text
        let kind = try relay.applyPatchForRelay(blockID: "markpact:file=a.py", patchText: patch, resultLength: expected.unicodeScalars.count, resultSHA256: nil, seq: 2)
        #expect(kind == .recompute(oldContent: shifted))
        #expect(relay.block("markpact:file=a.py")?.content == expected)
        #expect(relay.block("markpact:file=a.py")?.sha256 == SHA256.hexDigest(of: expected))
    }
}
