import Foundation
import MarksyncCore
import MarksyncTestSupport
import Testing

/// Issue 18: the README cannot rot. Every shell command of its "Quick start" and "Commands" sections runs
/// against a copy of the examples (tools/readme-commands.py): one-shot commands must exit 0, servers and
/// followers must keep running until stopped. A command renamed, an option dropped or a seq out of range
/// in the README fails this test.
@Suite(.timeLimit(.minutes(5)))
struct ReadmeCommandsTests {
    @Test func theReadmeCommandsRun() async throws {
        let script = repositoryRoot.appendingPathComponent("tools/readme-commands.py").path
        let run = try await runToEnd("/usr/bin/env", ["python3", script, try builtBinary()])
        let lines = run.output.split(separator: "\n").compactMap { JSONValue.parse(Array($0.utf8)) }
        #expect(run.status == 0, "README commands failed:\n\(run.error.suffix(4000))")
        // The sections were found and their commands run (not an empty pass).
        #expect(lines.count >= 20, "only \(lines.count) commands found in the README")
        #expect(lines.contains { $0["section"]?.stringValue == "Quick start" && $0["command"]?.stringValue?.hasPrefix("marksync push") == true })
        #expect(lines.contains { $0["command"]?.stringValue?.contains(" serve ") == true && $0["ok"] == .bool(true) })
    }
}
