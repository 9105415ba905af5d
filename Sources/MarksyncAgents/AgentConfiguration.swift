import Foundation
import MarksyncCore
import MarksyncLLM

/// An agent's role.
public enum AgentRole: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Sends changed code blocks to the LLM; with auto-edit, writes the improvement back.
    case editor
    /// Appends a review note event per changed block version; never edits.
    case reviewer
    /// Materialises the project and runs a command when `run`/`deps` blocks change (off unless enabled).
    case deployer
    /// An audit line per event.
    case monitor
    /// Any other name: receives events and does nothing (as in the seed).
    case other(String)

    public init(_ name: String) {
        switch name.lowercased() {
        case "editor": self = .editor
        case "reviewer": self = .reviewer
        case "deployer": self = .deployer
        case "monitor": self = .monitor
        default: self = .other(name)
        }
    }

    public var description: String {
        switch self {
        case .editor: "editor"
        case .reviewer: "reviewer"
        case .deployer: "deployer"
        case .monitor: "monitor"
        case .other(let name): name
        }
    }
}

/// Where the sync server is and how to log in.
public struct ServerEndpoint: Sendable, Equatable {
    /// `ws://host:port` (the seed's `MARKSYNC_SERVER`).
    public var url: String
    /// A token with write scope, when the server has tokens.
    public var token: String?
    /// The document; the server's first one when nil.
    public var document: String?

    public init(url: String = "ws://127.0.0.1:8765", token: String? = nil, document: String? = nil) {
        self.url = url
        self.token = token
        self.document = document
    }
}

/// Everything one agent needs.
public struct AgentConfiguration: Sendable {
    public var name: String
    public var role: AgentRole
    public var server: ServerEndpoint
    /// The LLM (provider, URL, model). The model is the agent's own when agents.yml gives one.
    public var llm: LLMConfiguration
    /// Block ids or glob patterns (`markpact:file=app/*`) the agent watches; with `routes`, what it handles.
    public var watch: [String] = []
    /// Patterns of the routes that name this agent (set by the orchestrator from agents.yml).
    public var routes: [String] = []
    /// Editor: write improvements back.
    public var autoEdit = false
    /// Editor: the time after an edit of a block during which the editor does not edit it again, so two
    /// editors cannot ping-pong.
    public var editCooldown: Duration = .seconds(60)
    /// Editor: names of other editors; their writes are never sent to the LLM again.
    public var peerEditors: Set<String> = []
    /// Monitor: a JSON-lines file for audit lines (standard output when nil).
    public var auditFile: String?
    /// Deployer settings.
    public var deploy = DeploySettings()

    public init(name: String, role: AgentRole, server: ServerEndpoint = ServerEndpoint(), llm: LLMConfiguration = LLMConfiguration()) {
        self.name = name
        self.role = role
        self.server = server
        self.llm = llm
    }

    /// Whether the agent handles events of `blockID`: it matches one of the agent's `watch` patterns or one
    /// of its routes; an agent with neither handles every block.
    public func handles(_ blockID: String) -> Bool {
        if watch.isEmpty, routes.isEmpty { return true }
        return watch.contains { Glob.matches($0, blockID) } || routes.contains { Glob.matches($0, blockID) }
    }

    /// Whether `handles` was narrowed by watch patterns or routes.
    public var isFiltered: Bool { !watch.isEmpty || !routes.isEmpty }
}

/// How a deployer runs the project.
public struct DeploySettings: Sendable, Equatable {
    /// Deploys run only when enabled: a deploy runs code taken from the document.
    public var enabled = false
    /// The command, run with `/bin/sh -c` in the work folder.
    public var command = "markpact README.md --run"
    /// The folder the project is materialised into (created; files are written inside it only).
    public var workFolder = ".marksync/deploy"
    /// Quiet time after the last triggering change before a deploy starts.
    public var debounce: Duration = .seconds(2)
    /// A deploy running longer is stopped (SIGTERM, then SIGKILL).
    public var timeout: Duration = .seconds(600)
    /// Lines of output kept in the deploy event.
    public var tailLines = 40

    public init() {}
}
