import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MarksyncCore
import MarksyncServer
import MarksyncStore
import MarksyncTestSupport
import Testing

/// The web UI in a real headless browser (Debian's chromium and chromium-driver, driven by Selenium from
/// PyPI through tools/webui/ui_session.py) against a live server.
@Suite(.serialized) struct WebUITests {
    static var browserAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    /// Runs the browser session; returns its JSON lines by step.
    func session(_ live: LiveSyncServer, screenshot: String, extra: [String] = []) async throws -> (
        status: Int32, steps: [String: JSONValue], output: String
    ) {
        let script = repositoryRoot.appendingPathComponent("tools/webui/ui_session.py").path
        let run = try await runToEnd("/usr/bin/env", ["python3", script, "http://127.0.0.1:\(live.port)", live.document, screenshot] + extra)
        var steps = [String: JSONValue]()
        for line in run.output.split(separator: "\n") {
            if let json = JSONValue.parse(Array(line.utf8)), let step = json["step"]?.stringValue { steps[step] = json }
        }
        return (run.status, steps, run.output + run.error)
    }

    func skipUnlessBrowser() throws -> Bool {
        if Self.browserAvailable { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil { throw BinaryMissing(message: "chromium and chromium-driver are missing: scripts/setup.sh installs them") }
        return false
    }

    @Test func editTimelineDiffBlameAndAgentsInARealBrowser() async throws {
        guard try skipUnlessBrowser() else { return }
        let live = try await LiveSyncServer.start(markdown: clientTestReadme, document: "demo")
        defer { Task { await live.stop() } }
        let original = try #require(try await live.log.head("demo").block(mainBlock)?.content)
        let artifacts = repositoryRoot.appendingPathComponent(".artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("webui-session.png").path
        let run = try await session(live, screenshot: screenshot)
        #expect(run.status == 0, "\(run.output)")

        // The page's edit is in the log: a patch by the page's name, based on the version it showed.
        let name = try #require(run.steps["loaded"]?["name"]?.stringValue)
        let edited = try #require(run.steps["edited"]?["content"]?.stringValue)
        let byPage = try await live.log.history("demo", filter: HistoryFilter(author: name))
        let edit = try #require(byPage.first)
        if case .blockPatched(let block, _, _, _) = edit.body { #expect(block == mainBlock) } else { Issue.record("expected a patch, got \(edit.body.kind)") }
        #expect(edit.baseSeq != nil)
        #expect(try await live.log.state("demo", at: edit.seq).block(mainBlock)?.content == edited)
        // The remote write was seen, the conflict shown, the old version read back, blame named the page.
        #expect(run.steps["edited"]?["status"]?.stringValue?.hasPrefix("✓ saved as seq") == true)
        // Ctrl+S saved the block: its content is in the log.
        let expected = try #require(run.steps["ctrl_s"]?["expected"]?.stringValue)
        #expect(run.steps["ctrl_s"]?["content"]?.stringValue == expected)
        #expect(try await live.log.head("demo").block(mainBlock)?.content.contains("# saved with ctrl-s") == true)
        #expect(run.steps["prose_shown"] != nil)
        #expect(run.steps["agents_empty_explained"]?["text"]?.stringValue?.contains("orchestrate") == true)
        #expect(run.steps["diff_error"] != nil)
        #expect(run.steps["narrow"]?["width"]?.intValue ?? 999 <= 420)
        #expect(run.steps["remote_seen"] != nil)
        #expect(run.steps["conflict_shown"] != nil)
        #expect(run.steps["agents_seen"] != nil)
        let old = try #require(run.steps["timeline"]?["text"]?.stringValue)
        // The browser's text of the <pre>: the README after event 1, as the log renders it.
        func normalized(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(normalized(old) == normalized(try await live.log.state("demo", at: 1).render()))
        #expect(!old.contains("edited in the browser"))
        #expect(!original.isEmpty)
        #expect(run.steps["blame"]?["line"]?.stringValue?.contains(name) == true)
        #expect(FileManager.default.fileExists(atPath: screenshot), "the screenshot is kept as an artifact")
    }

    @Test func thePageAsksForATokenWhenTheServerHasTokens() async throws {
        guard try skipUnlessBrowser() else { return }
        let live = try await LiveSyncServer.start(markdown: clientTestReadme, document: "demo", tokens: "ui-writer-token:write")
        defer { Task { await live.stop() } }
        let screenshot = try temporaryFolder("webui").appendingPathComponent("login.png").path
        let run = try await session(live, screenshot: screenshot, extra: ["--token", "ui-writer-token", "--wrong-token", "not-the-token", "--only-open"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.steps["asked_for_token"]?["message"]?.stringValue == "The server needs a token.")
        #expect(run.steps["wrong_token"]?["message"]?.stringValue?.contains("not accepted") == true)
        #expect(run.steps["loaded"]?["blocks"]?.intValue == 3)
    }

    @Test func thePageShipsInTheBinaryAndLoadsNothingFromElsewhere() async throws {
        let live = try await LiveSyncServer.start(markdown: clientTestReadme, document: "demo")
        defer { Task { await live.stop() } }
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(live.port)/ui/")!)
        let page = String(decoding: data, as: UTF8.self)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Security-Policy")?.contains("default-src 'none'") == true)
        #expect(page.contains("<title>marksync-log</title>"))
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http"), "no asset from the internet")
        #expect(data.count < 64 * 1024, "small: \(data.count) bytes")
    }
}

/// The routes the UI's Markdown and Plan tabs use.
@Suite struct WebUIRoutesTests {
    @Test func putMarkdownTurnsTheTextIntoEventsAndPlanNeedsAFolder() async throws {
        let live = try await LiveSyncServer.start(markdown: clientTestReadme, document: "demo")
        defer { Task { await live.stop() } }
        let edited = clientTestReadme.replacingOccurrences(of: "uvicorn app.main:app", with: "uvicorn app.main:app --reload")
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(live.port)/api/v1/docs/demo/markdown")!)
        request.httpMethod = "PUT"
        request.httpBody = Data(edited.utf8)
        request.setValue("page-1", forHTTPHeaderField: "X-Marksync-Author")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let reply = try #require(JSONValue.parse(Array(data)))
        #expect(reply["events"]?.intValue == 1)
        #expect(try await live.log.head("demo").render() == edited)
        #expect(try await live.log.history("demo", filter: HistoryFilter(author: "page-1")).count == 1)
        let (plan, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(live.port)/api/v1/docs/demo/plan")!)
        #expect(JSONValue.parse(Array(plan))?["agents_yml"] == .null, "a document kept in the log only has no agents.yml beside it")
    }
}
