import MarksyncDSL
import Testing

/// The seed's parser checklist (test_dsl.py), written anew, and the defects it had.
@Suite struct DSLParserTests {
    func parse(_ line: String) throws -> DSLCommand {
        try #require(try DSLParser.parse(line))
    }

    @Test func agentTakesNameRoleAndOptions() throws {
        let command = try parse("AGENT coder editor --model qwen2.5-coder:7b --auto-edit")
        #expect(command.verb == .agent)
        #expect(command.args == ["coder", "editor"])
        #expect(command.target == "coder")
        #expect(command.value == "editor")
        #expect(command.options["model"] == .string("qwen2.5-coder:7b"))
        #expect(command.options["auto_edit"] == .bool(true))
    }

    @Test func equalsFormKeepsTheValueAsWritten() throws {
        // The seed turned `-` into `_` in the value too: qwen2.5_coder:7b.
        let command = try parse("AGENT a editor --model=qwen2.5-coder:7b --x=1=2")
        #expect(command.options["model"] == .string("qwen2.5-coder:7b"))
        #expect(command.options["x"] == .string("1=2"))
    }

    @Test func simpleCommands() throws {
        #expect(try parse("KILL coder").target == "coder")
        #expect(try parse("LIST").target == "")
        #expect(try parse("LIST pipelines").target == "pipelines")
        let set = try parse("SET ollama_model llama3:8b")
        #expect(set.verb == .set && set.target == "ollama_model" && set.value == "llama3:8b")
        #expect(try parse("STATUS").target == "")
        #expect(try parse("STATUS coder").target == "coder")
        #expect(try parse("DEPLOY --force").options["force"] == .bool(true))
        #expect(try parse("SYNC push").target == "push")
        #expect(try parse("HELP").verb == .help)
        #expect(try parse("CONNECT ws://localhost:8765").target == "ws://localhost:8765")
        #expect(try parse("DISCONNECT").verb == .disconnect)
        #expect(try parse("LOG --tail 5").options["tail"] == .int(5))
        #expect(try parse("SEND coder improve markpact:file=a.py").args == ["coder", "improve", "markpact:file=a.py"])
    }

    @Test func routeGivesPatternAndAgent() throws {
        let route = try parse("ROUTE markpact:run -> deployer")
        #expect(route.verb == .route)
        #expect(route.args == ["markpact:run", "deployer"])
        #expect(try parse("ROUTE 'markpact:file=app/*' -> editor-1").args == ["markpact:file=app/*", "editor-1"])
    }

    @Test func pipeGivesStagesInOrder() throws {
        let pipe = try parse("PIPE review-flow coder -> reviewer -> deployer")
        #expect(pipe.target == "review-flow")
        #expect(pipe.stages == ["coder", "reviewer", "deployer"])
        #expect(try parse("PIPE one solo").stages == ["solo"])
        #expect(try parse("PIPE tight a->b->c").stages == ["a", "b", "c"])
    }

    @Test func commentsAndBlankLinesAreNothing() throws {
        #expect(try DSLParser.parse("# a comment") == nil)
        #expect(try DSLParser.parse("   ") == nil)
        #expect(try DSLParser.parse("") == nil)
    }

    @Test func verbsAreCaseInsensitive() throws {
        #expect(try parse("agent x monitor").verb == .agent)
        #expect(try parse("Pipe p a -> b").verb == .pipe)
    }

    @Test func quotedArgumentsStayWhole() throws {
        let command = try parse(#"SEND reviewer-1 "please review" 'markpact:file=my app.py'"#)
        #expect(command.args == ["reviewer-1", "please review", "markpact:file=my app.py"])
        #expect(try parse(#"SET deploy_command "echo \"hi\" && ls""#).value == #"echo "hi" && ls"#)
    }

    @Test func scriptsKeepCommandsAndSkipCommentsAndBlankLines() throws {
        let commands = try DSLParser.parseScript(
            """
            # setup
            SET ollama_model llama3:8b

            AGENT a editor
            # pipes
            PIPE p a -> b
            """)
        #expect(commands.map(\.verb) == [.set, .agent, .pipe])
    }

    @Test func optionValuesAreCoerced() {
        #expect(DSLValue(coercing: "true") == .bool(true))
        #expect(DSLValue(coercing: "YES") == .bool(true))
        #expect(DSLValue(coercing: "off") == .bool(false))
        #expect(DSLValue(coercing: "42") == .int(42))
        #expect(DSLValue(coercing: "-1") == .int(-1))
        #expect(DSLValue(coercing: "5.0") == .double(5.0))
        #expect(DSLValue(coercing: "nan") == .string("nan"))
        #expect(DSLValue(coercing: "llama3:8b") == .string("llama3:8b"))
    }

    @Test func negativeNumbersAreValuesNotOptions() throws {
        #expect(try parse("AGENT a editor --cooldown -1").options["cooldown"] == .int(-1))
    }

    @Test func errorsNameTheColumnAndWhatWasExpected() {
        func failure(_ line: String) -> DSLSyntaxError? {
            do {
                _ = try DSLParser.parse(line)
                return nil
            } catch { return error }
        }
        let unknown = failure("FROB x")
        #expect(unknown?.column == 1)
        #expect(unknown?.message.contains("expected one of AGENT") == true)
        let quote = failure("SEND a 'unclosed")
        #expect(quote?.column == 8)
        #expect(quote?.message.contains("closing '") == true)
        // The seed dropped `b` silently.
        let pipe = failure("PIPE p a b -> c")
        #expect(pipe?.column == 10)
        #expect(pipe?.message.contains("expected ->") == true)
        #expect(failure("PIPE p a ->")?.message.contains("after ->") == true)
        #expect(failure("PIPE")?.message.contains("pipeline name") == true)
        let route = failure("ROUTE markpact:run")
        #expect(route?.column == 19)
        #expect(route?.message.contains("pattern -> agent") == true)
        #expect(failure("ROUTE a -> ")?.message.contains("agent name") == true)
        #expect(failure("AGENT")?.column == 6)
        #expect(failure("KILL")?.message.contains("agent") == true)
        #expect(failure("LIST widgets")?.column == 6)
        #expect(failure("SYNC sideways")?.message.contains("push, pull or status") == true)
        #expect(failure("LOG --tail x")?.message.contains("--tail") == true)
        #expect(failure("SEND a")?.message.contains("message") == true)
        #expect(failure("SAVE")?.message.contains("file") == true)
    }

    @Test func scriptErrorsNameTheLine() {
        do {
            _ = try DSLParser.parseScript("SET a b\n\nPIPE p x y\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("line 3, column 10"))
        }
    }

    @Test func quotingRoundTrips() throws {
        for word in ["plain", "two words", "it's", #"back\slash"#, "", "->", "--flag", "#hash"] {
            let line = "SEND agent \(DSLScript.quote(word))"
            #expect(try parse(line).args == ["agent", word], "\(line)")
        }
    }
}
