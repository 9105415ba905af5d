import Foundation
import MarksyncCore
import MarksyncTestSupport
import NIOHTTP1
import Testing

/// The `curl` examples of docs/dsl.md, run against a live control API (the port replaced).
@Suite(.serialized) struct ControlDocsTests {
    struct Example {
        var method: HTTPMethod
        var path: String
        var body: String?
    }

    /// `curl -s [-X METHOD] http://127.0.0.1:8080/PATH … [-d 'BODY']`, joined over `\` line ends.
    static func examples() throws -> [Example] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/dsl.md"), encoding: .utf8)
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        var out = [Example]()
        for line in joined.split(separator: "\n") where line.hasPrefix("curl ") {
            let words = line.split(separator: " ")
            var example = Example(method: .GET, path: "", body: nil)
            if let index = words.firstIndex(of: "-X"), index + 1 < words.count { example.method = HTTPMethod(rawValue: String(words[index + 1])) }
            if let url = words.first(where: { $0.hasPrefix("http://127.0.0.1:8080") }) { example.path = String(url.dropFirst("http://127.0.0.1:8080".count)) }
            if let start = line.range(of: "-d '"), let end = line.range(of: "'", options: .backwards), end.lowerBound > start.upperBound {
                example.body = String(line[start.upperBound..<end.lowerBound])
            }
            out.append(example)
        }
        return out
    }

    @Test func theCurlExamplesWork() async throws {
        let examples = try Self.examples()
        #expect(examples.count >= 2)
        let harness = try await ControlHarness.start()
        for example in examples {
            let reply = try await http(example.method, harness.base + example.path, body: example.body)
            #expect(reply.status == 200, "\(example.path): \(reply.text)")
            if example.method == .POST { #expect(reply.json?["ok"]?.boolValue == true, "\(reply.text)") }
        }
        // The example started an agent that the next one lists.
        let agents = try await http(.GET, harness.base + "/api/v1/agents")
        #expect(agents.text.contains("\"audit\""))
        await harness.stop()
    }
}
