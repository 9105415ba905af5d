import Foundation

/// Reads DSL lines and scripts.
///
/// ```
/// AGENT editor-1 editor --model qwen2.5-coder:7b --auto-edit --watch 'markpact:file=app/*'
/// PIPE review-flow editor-1 -> reviewer-1
/// ROUTE markpact:file=app/* -> editor-1
/// ```
///
/// Words are split as a POSIX shell would (quotes, backslashes); an unbalanced quote is an error that
/// names its column (the seed fell back to splitting on spaces). Unlike the seed, `--key=value` keeps
/// the value as written (the seed turned `-` into `_` in values too), and `PIPE a b -> c` is an error
/// (the seed dropped `b`).
public enum DSLParser {
    /// A word and the 1-based column where it starts.
    struct Word: Equatable {
        var text: String
        var column: Int
        /// The word was quoted (so `"->"` is not an arrow and `"--x"` not an option).
        var quoted: Bool
    }

    /// Parses one line; nil for a blank line or a `#` comment.
    public static func parse(_ line: String) throws(DSLSyntaxError) -> DSLCommand? {
        // A comment is skipped before it is split: it may hold an unbalanced quote (`# the app's files`).
        if line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { return nil }
        let words = try split(line)
        guard let first = words.first, !first.text.hasPrefix("#") || first.quoted else { return nil }
        guard let verb = DSLCommand.Verb(rawValue: first.text.uppercased()) else {
            throw DSLSyntaxError(
                column: first.column,
                "unknown command \(first.text.debugDescription); expected one of \(DSLCommand.Verb.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let rest = Array(words.dropFirst())
        var command: DSLCommand
        switch verb {
        case .pipe: command = try pipe(rest, after: first)
        case .route: command = try route(rest, after: first)
        default: command = general(verb, rest)
        }
        command.raw = line.trimmingCharacters(in: .whitespaces)
        try check(command, words: words)
        return command
    }

    /// Parses a script: one command per line, blank lines and `#` comments skipped. Errors carry the line.
    public static func parseScript(_ text: String) throws(DSLSyntaxError) -> [DSLCommand] {
        var commands = [DSLCommand]()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do {
                if let command = try parse(String(line.hasSuffix("\r") ? line.dropLast() : line)) { commands.append(command) }
            } catch {
                var located = error
                located.line = index + 1
                throw located
            }
        }
        return commands
    }

    // MARK: - Words

    /// Splits a line into words like `shlex.split` (POSIX mode): whitespace separates, `'…'` is literal,
    /// `"…"` allows `\"` and `\\`, a backslash outside quotes escapes the next character.
    static func split(_ line: String) throws(DSLSyntaxError) -> [Word] {
        var words = [Word]()
        var current = ""
        var start: Int?
        var quoted = false
        var quote: Character?
        var quoteColumn = 0
        var escaped = false
        var column = 0
        for character in line {
            column += 1
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case " ", "\t":
                if let begin = start {
                    words.append(Word(text: current, column: begin, quoted: quoted))
                    current = ""
                    start = nil
                    quoted = false
                }
            case "'", "\"":
                quote = character
                quoteColumn = column
                quoted = true
                if start == nil { start = column }
            case "\\":
                escaped = true
                if start == nil { start = column }
            default:
                current.append(character)
                if start == nil { start = column }
            }
        }
        if quote != nil { throw DSLSyntaxError(column: quoteColumn, "unbalanced quote: expected a closing \(quote!) before the end of the line") }
        if escaped { throw DSLSyntaxError(column: column, "a backslash at the end of the line: expected a character after it") }
        if let begin = start { words.append(Word(text: current, column: begin, quoted: quoted)) }
        return words
    }

    private static func isOption(_ word: Word) -> Bool { !word.quoted && word.text.hasPrefix("--") && word.text.count > 2 }
    private static func isArrow(_ word: Word) -> Bool { !word.quoted && word.text == "->" }

    // MARK: - Commands

    /// Every command but PIPE and ROUTE: options and positional arguments; bare `->` dropped.
    private static func general(_ verb: DSLCommand.Verb, _ words: [Word]) -> DSLCommand {
        var command = DSLCommand(verb: verb)
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if isArrow(word) { continue }
            guard isOption(word) else {
                command.args.append(word.text)
                continue
            }
            let body = word.text.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                command.options[key(body[..<equals])] = DSLValue(coercing: String(body[body.index(after: equals)...]))
            } else if index < words.count, !isOption(words[index]), !isArrow(words[index]) {
                command.options[key(body)] = DSLValue(coercing: words[index].text)
                index += 1
            } else {
                command.options[key(body)] = .bool(true)
            }
        }
        return command
    }

    private static func key(_ text: Substring) -> String { text.replacingOccurrences(of: "-", with: "_") }

    /// `PIPE name a -> b -> c [--options]`.
    private static func pipe(_ words: [Word], after verb: Word) throws(DSLSyntaxError) -> DSLCommand {
        let optionStart = words.firstIndex(where: isOption) ?? words.count
        let options = general(.pipe, Array(words[optionStart...])).options
        // `a->b` written without spaces is two stages too.
        var parts = [Word]()
        for word in words[..<optionStart] {
            guard !word.quoted, word.text.contains("->"), word.text != "->" else {
                parts.append(word)
                continue
            }
            var column = word.column
            let pieces = word.text.components(separatedBy: "->")
            for (index, piece) in pieces.enumerated() {
                if !piece.isEmpty { parts.append(Word(text: piece, column: column, quoted: false)) }
                column += piece.count
                if index < pieces.count - 1 {
                    parts.append(Word(text: "->", column: column, quoted: false))
                    column += 2
                }
            }
        }
        guard let name = parts.first, !isArrow(name) else {
            throw DSLSyntaxError(column: parts.first?.column ?? verb.column + verb.text.count + 1, "expected a pipeline name after PIPE")
        }
        var stages = [String]()
        var expectStage = true
        var lastColumn = name.column + name.text.count + 1
        for word in parts.dropFirst() {
            if isArrow(word) {
                guard !expectStage else { throw DSLSyntaxError(column: word.column, "expected an agent name before ->") }
                expectStage = true
            } else {
                guard expectStage else {
                    throw DSLSyntaxError(column: word.column, "expected -> between the stages \(stages.last ?? "") and \(word.text)")
                }
                stages.append(word.text)
                expectStage = false
            }
            lastColumn = word.column + word.text.count + 1
        }
        guard !stages.isEmpty else { throw DSLSyntaxError(column: lastColumn, "expected at least one stage: PIPE \(name.text) a -> b") }
        guard !expectStage else { throw DSLSyntaxError(column: lastColumn, "expected an agent name after ->") }
        return DSLCommand(verb: .pipe, args: [name.text], options: options, stages: stages)
    }

    /// `ROUTE pattern -> agent`.
    private static func route(_ words: [Word], after verb: Word) throws(DSLSyntaxError) -> DSLCommand {
        let end = verb.column + verb.text.count + 1
        guard let arrow = words.firstIndex(where: isArrow) else {
            throw DSLSyntaxError(column: words.last.map { $0.column + $0.text.count } ?? end, "expected `pattern -> agent`")
        }
        guard arrow == 1 else {
            throw DSLSyntaxError(column: words.first?.column ?? end, arrow == 0 ? "expected a block pattern before ->" : "expected one pattern before -> (quote it if it has spaces)")
        }
        guard words.count == 3, !isOption(words[2]) else {
            let column = words.count > 3 ? words[3].column : words[arrow].column + 3
            throw DSLSyntaxError(column: column, words.count < 3 ? "expected an agent name after ->" : "expected the end of the line after the agent name")
        }
        return DSLCommand(verb: .route, args: [words[0].text, words[2].text])
    }

    /// What each command needs, checked with the column of the missing or wrong word.
    private static func check(_ command: DSLCommand, words: [Word]) throws(DSLSyntaxError) {
        // The column just after the last word.
        let endColumn = words.last.map { $0.column + $0.text.count } ?? 1
        func column(ofArgument index: Int) -> Int {
            let positional = words.dropFirst().filter { !isOption($0) && !isArrow($0) }
            return index < positional.count ? positional[index].column : endColumn
        }
        switch command.verb {
        case .agent:
            guard !command.target.isEmpty else { throw DSLSyntaxError(column: endColumn, "expected an agent name: AGENT <name> [role] [--options]") }
        case .kill:
            guard !command.target.isEmpty else { throw DSLSyntaxError(column: endColumn, "expected the name of the agent to stop") }
        case .send:
            guard !command.target.isEmpty else { throw DSLSyntaxError(column: endColumn, "expected an agent name: SEND <agent> <message>") }
            guard command.args.count > 1 else { throw DSLSyntaxError(column: endColumn, "expected a message after the agent name") }
        case .set:
            guard !command.target.isEmpty else { throw DSLSyntaxError(column: endColumn, "expected a setting name: SET <key> <value>") }
        case .load, .save:
            guard !command.target.isEmpty else { throw DSLSyntaxError(column: endColumn, "expected a file name (.msdsl)") }
        case .list:
            let allowed = ["agents", "pipelines", "routes", "config"]
            if !command.target.isEmpty, !allowed.contains(command.target.lowercased()) {
                throw DSLSyntaxError(column: column(ofArgument: 0), "expected agents, pipelines, routes or config")
            }
        case .sync:
            if !command.target.isEmpty, !["push", "pull", "status"].contains(command.target.lowercased()) {
                throw DSLSyntaxError(column: column(ofArgument: 0), "expected push, pull or status")
            }
        case .log:
            if let tail = command.options["tail"] {
                guard case .int(let count) = tail, count > 0 else {
                    throw DSLSyntaxError(column: endColumn, "expected a positive number after --tail")
                }
            }
        case .help:
            if !command.target.isEmpty, DSLCommand.Verb(rawValue: command.target.uppercased()) == nil {
                throw DSLSyntaxError(column: column(ofArgument: 0), "no help on \(command.target.debugDescription); try HELP")
            }
        case .pipe, .route, .status, .deploy, .connect, .disconnect:
            break
        }
    }
}
