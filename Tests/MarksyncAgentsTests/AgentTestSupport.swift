import Foundation
import MarksyncAgents
import MarksyncClient
import MarksyncCore
import MarksyncLLM
import MarksyncStore
import MarksyncTestSupport
import Testing

let demoReadme = """
    # Demo

    A small project.

    ```text markpact:deps python
    fastapi
    ```

    ```python markpact:file path=app/main.py
    import sys


    def greet(name):
        return "hello " + name


    def main():
        return 1
    ```

    ```python markpact:file path=app/models.py
    class Task:
        pass
    ```

    ```yaml markpact:file path=config/settings.yaml
    debug: true
    ```

    ```bash markpact:run
    echo run
    ```

    """

let mainBlock = "markpact:file=app/main.py"
let modelsBlock = "markpact:file=app/models.py"
let depsBlock = "markpact:deps=python"
let runBlock = "markpact:run"

/// The code the editor prompt carries (after the instruction line).
func promptCode(_ prompt: String) -> String {
    guard let range = prompt.range(of: "\n\n") else { return prompt }
    return String(prompt[range.upperBound...])
}

/// A fake LLM reply that improves code: the code plus a comment line, inside a fence (which the editor strips).
func improvedReply(_ request: FakeLLMServer.Request) -> FakeLLMServer.Reply {
    let code = promptCode(request.prompt).trimmingCharacters(in: .whitespacesAndNewlines)
    if request.prompt.hasPrefix("Review") || request.system?.contains("review") == true {
        return .text("WARNING\n- consider input validation")
    }
    return .text("```python\n\(code)\n# improved\n```")
}

/// Agent defaults pointing at a live server and a fake LLM, with short timings.
func testDefaults(_ server: LiveSyncServer, _ llm: FakeLLMServer, folder: URL) -> Orchestrator.Defaults {
    var llmConfiguration = LLMConfiguration(provider: .ollama, baseURL: llm.baseURL, model: "qwen2.5-coder:7b")
    llmConfiguration.timeout = .seconds(10)
    llmConfiguration.retries = 1
    llmConfiguration.retryDelay = .milliseconds(20)
    var defaults = Orchestrator.Defaults(server: ServerEndpoint(url: server.url, document: server.document), llm: llmConfiguration)
    defaults.editCooldown = .seconds(30)
    defaults.deploy.workFolder = folder.appendingPathComponent("deploy").path
    defaults.deploy.debounce = .milliseconds(300)
    return defaults
}

/// A person editing the document.
func human(_ server: LiveSyncServer, name: String = "human") async throws -> SyncClient {
    var options = SyncClient.Options()
    options.name = name
    options.document = server.document
    options.requestTimeout = .seconds(20)
    return try await SyncClient.connect(to: server.url, options: options)
}

/// Waits until every consumer of the orchestrator is live (subscribed and caught up).
func waitLive(_ orchestrator: Orchestrator) async throws {
    let live = try await waitUntil(timeout: .seconds(60)) {
        await orchestrator.status().allSatisfy { $0.state == "live" }
    }
    let states = await orchestrator.status().map { "\($0.name)=\($0.state)" }
    #expect(live, "agents did not go live: \(states)")
}

/// The events of the document matching a filter.
func events(_ server: LiveSyncServer, kinds: Set<EventKind>? = nil, author: String? = nil) async throws -> [Event] {
    try await server.log.history(server.document, filter: HistoryFilter(author: author, kinds: kinds))
}

/// The block's content at the head.
func content(_ server: LiveSyncServer, _ blockID: String) async throws -> String? {
    try await server.log.head(server.document).block(blockID)?.content
}
