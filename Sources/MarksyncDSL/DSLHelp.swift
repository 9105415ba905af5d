import MarksyncCore

/// The text of `HELP`.
public enum DSLHelp {
    /// One line of usage and one of meaning per command.
    public static let topics: [(verb: DSLCommand.Verb, usage: String, text: String)] = [
        (.agent, "AGENT <name> [role] [--model M] [--auto-edit] [--watch a,b] [--option value]",
         "start an agent (editor, reviewer, deployer, monitor) that connects to the server and consumes the log"),
        (.kill, "KILL <name>", "stop an agent and forget it"),
        (.list, "LIST [agents|pipelines|routes|config]", "what the runtime holds"),
        (.pipe, "PIPE <name> <a> -> <b> [-> <c> …]", "an event passes through the stages in order (replaces a pipeline of that name)"),
        (.route, "ROUTE <pattern> -> <agent>", "blocks matching the glob pattern go to the agent (in force at once)"),
        (.set, "SET <key> <value>", "a setting for agents started afterwards: server_uri, ollama_url, ollama_model, deploy, …"),
        (.status, "STATUS [agent]", "cursor, lag, counts and last error of every agent, or one"),
        (.send, "SEND <agent> <message naming a block>", "the agent acts on the block now: an editor improves it, a reviewer reviews it"),
        (.deploy, "DEPLOY [--force]", "the deployers deploy the head now (--force: even when nothing changed)"),
        (.sync, "SYNC [push|pull|status]", "push the README to the server, pull it, or compare them"),
        (.connect, "CONNECT [uri]", "check the server and use it for agents started afterwards; restart stopped agents"),
        (.disconnect, "DISCONNECT", "stop every agent's connection (they stay listed; CONNECT starts them again)"),
        (.load, "LOAD <file.msdsl>", "run a script"),
        (.save, "SAVE <file.msdsl>", "write the settings, agents, pipelines and routes as a script LOAD reads back"),
        (.log, "LOG [agent] [--tail N]", "the commands run so far (last 20, or N)"),
        (.help, "HELP [command]", "this help, or one command's"),
    ]

    /// `HELP` (every command) or `HELP cmd` (one, any case).
    public static func reply(_ topic: String) -> JSONValue {
        let chosen = topics.filter { topic.isEmpty || $0.verb.rawValue == topic.uppercased() }
        var help = [String: JSONValue]()
        for item in chosen { help[item.verb.rawValue] = .object(["usage": .string(item.usage), "text": .string(item.text)]) }
        return .object(["help": .object(help)])
    }
}
