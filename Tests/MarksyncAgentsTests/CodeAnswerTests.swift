import MarksyncAgents
import Testing

@Suite struct CodeAnswerTests {
    @Test func fencedAnswersLoseTheirFences() {
        #expect(CodeAnswer.code(from: "```python\ndef f():\n    return 1\n```") == "def f():\n    return 1")
        #expect(CodeAnswer.code(from: "Here is the code:\n\n~~~\nx = 1\n~~~\nThanks") == "x = 1")
        #expect(CodeAnswer.code(from: "````js\na = '```'\n````") == "a = '```'")
        // An opening fence without its closing one.
        #expect(CodeAnswer.code(from: "```python\nprint(1)\n") == "print(1)")
        // No fence: the answer itself, blank lines around it removed, indentation kept.
        #expect(CodeAnswer.code(from: "\n\n    indented()\n\n") == "    indented()")
    }

    @Test func verdictsComeFromTheFirstLine() {
        #expect(CodeAnswer.verdict(of: "OK\nnothing to say") == "ok")
        #expect(CodeAnswer.verdict(of: "warning: unchecked input") == "warning")
        #expect(CodeAnswer.verdict(of: "ERROR - SQL injection") == "error")
        #expect(CodeAnswer.verdict(of: "The code looks fine") == "note")
        #expect(CodeAnswer.verdict(of: "") == "note")
    }

    @Test func onlySourceFilesAreCode() {
        #expect(BlockIdentity.isCode("markpact:file=app/main.py"))
        #expect(BlockIdentity.isCode("markpact:file=Makefile"))
        #expect(!BlockIdentity.isCode("markpact:file=data/sample.csv"))
        #expect(!BlockIdentity.isCode("markpact:file=config/settings.yaml"))
        #expect(!BlockIdentity.isCode("markpact:deps=python"))
        #expect(!BlockIdentity.isCode("markpact:run"))
        #expect(BlockIdentity.kind(of: "markpact:file=a.py") == "file")
        #expect(BlockIdentity.value(of: "markpact:file=a=b.py") == "a=b.py")
    }

    @Test func routesAndWatchDecideWhatAnAgentHandles() {
        var configuration = AgentConfiguration(name: "e", role: .editor)
        #expect(configuration.handles("markpact:run"), "no watch and no route: every block")
        configuration.routes = ["markpact:file=app/*"]
        #expect(configuration.handles("markpact:file=app/main.py"))
        #expect(!configuration.handles("markpact:run"))
        configuration.watch = ["markpact:run"]
        #expect(configuration.handles("markpact:run"), "watched or routed")
        #expect(!configuration.handles("markpact:deps=python"))
    }
}
