/// What an `agents.yml` describes, in the seed's schema: agents, pipelines (with `stages`) and routes.
public struct OrchestrationPlan: Sendable, Equatable {
    /// One agent.
    public struct Agent: Sendable, Equatable {
        public var name: String
        /// `editor`, `reviewer`, `deployer`, `monitor` (the default) or another role.
        public var role: String
        /// The model, or nil for the orchestrator's default.
        public var model: String?
        public var autoEdit: Bool
        /// Block ids or glob patterns the agent watches.
        public var watch: [String]
        /// The other keys of the agent's entry with scalar values (`command`, `debounce`, `cooldown`,
        /// `audit_file`, `enabled`, …), as text.
        public var options: [String: String]

        public init(
            name: String, role: String = "monitor", model: String? = nil, autoEdit: Bool = false, watch: [String] = [],
            options: [String: String] = [:]
        ) {
            self.name = name
            self.role = role
            self.model = model
            self.autoEdit = autoEdit
            self.watch = watch
            self.options = options
        }
    }

    /// A pipeline: an event passes through the stages in order.
    public struct Pipeline: Sendable, Equatable {
        public var name: String
        public var stages: [String]
        public init(name: String, stages: [String]) {
            self.name = name
            self.stages = stages
        }
    }

    /// A route: events of blocks matching `pattern` (a glob) go to `agent`.
    public struct Route: Sendable, Equatable {
        public var pattern: String
        public var agent: String
        public init(pattern: String, agent: String) {
            self.pattern = pattern
            self.agent = agent
        }

        /// Whether a block id matches the route's pattern.
        public func matches(_ blockID: String) -> Bool { Glob.matches(pattern, blockID) }
    }

    /// The agents in file order.
    public var agents: [Agent]
    /// The pipelines in file order.
    public var pipelines: [Pipeline]
    /// The routes in file order.
    public var routes: [Route]

    public init(agents: [Agent] = [], pipelines: [Pipeline] = [], routes: [Route] = []) {
        self.agents = agents
        self.pipelines = pipelines
        self.routes = routes
    }

    /// The plan restricted to the agents of one role, the pipelines that have one of them as a stage and
    /// the routes naming one of them (the seed's `filter_role`).
    public func filtered(role: String) -> OrchestrationPlan {
        let kept = agents.filter { $0.role == role }
        let names = Set(kept.map(\.name))
        return OrchestrationPlan(
            agents: kept, pipelines: pipelines.filter { $0.stages.contains(where: names.contains) },
            routes: routes.filter { names.contains($0.agent) })
    }

    /// The equivalent DSL lines: `AGENT name role --model m [--auto-edit] [--watch a,b]`, `PIPE name a -> b`,
    /// `ROUTE pattern -> agent` (unlike the seed, `watch` is kept).
    public func dslLines(defaultModel: String) -> [String] {
        var lines = [String]()
        for agent in agents {
            var line = "AGENT \(agent.name) \(agent.role) --model \(agent.model ?? defaultModel)"
            if agent.autoEdit { line += " --auto-edit" }
            if !agent.watch.isEmpty { line += " --watch \(agent.watch.joined(separator: ","))" }
            lines.append(line)
        }
        for pipeline in pipelines where !pipeline.stages.isEmpty {
            lines.append("PIPE \(pipeline.name) \(pipeline.stages.joined(separator: " -> "))")
        }
        for route in routes { lines.append("ROUTE \(route.pattern) -> \(route.agent)") }
        return lines
    }

    /// The plan for people: agents, pipelines and routes (the seed's `summary()`).
    public func summary(defaultModel: String) -> String {
        var out = "Agents (\(agents.count)):\n"
        for agent in agents {
            var traits = [String]()
            if agent.autoEdit { traits.append("auto-edit") }
            traits.append("model=\(agent.model ?? defaultModel)")
            if !agent.watch.isEmpty { traits.append("watch=\(agent.watch.joined(separator: ","))") }
            out += "  \(agent.name): \(agent.role) (\(traits.joined(separator: ", ")))\n"
        }
        out += "Pipelines (\(pipelines.count)):\n"
        for pipeline in pipelines { out += "  \(pipeline.name): \(pipeline.stages.joined(separator: " → "))\n" }
        out += "Routes (\(routes.count)):\n"
        for route in routes { out += "  \(route.pattern) → \(route.agent)\n" }
        return out
    }

    /// What does not hold together: stages and routes naming agents that do not exist.
    public var problems: [String] {
        let names = Set(agents.map(\.name))
        var out = [String]()
        for pipeline in pipelines {
            for stage in pipeline.stages where !names.contains(stage) {
                out.append("pipeline \(pipeline.name) names an unknown agent \(stage)")
            }
        }
        for route in routes where !names.contains(route.agent) {
            out.append("route \(route.pattern) names an unknown agent \(route.agent)")
        }
        return out
    }
}

/// Shell-style glob matching as Python's `fnmatch.fnmatchcase`: `*`, `?`, `[abc]`, `[!abc]`, ranges.
public enum Glob {
    /// Whether `text` matches `pattern`.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let t = Array(text.unicodeScalars)
        var pi = 0
        var ti = 0
        var starP = -1
        var starT = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "*" {
                starP = pi
                starT = ti
                pi += 1
                continue
            }
            if pi < p.count, let (matched, next) = single(p, pi, t[ti]), matched {
                pi = next
                ti += 1
                continue
            }
            guard starP >= 0 else { return false }
            pi = starP + 1
            starT += 1
            ti = starT
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Matches one pattern element at `index` against `scalar`: (matched, index after the element).
    private static func single(_ p: [Unicode.Scalar], _ index: Int, _ scalar: Unicode.Scalar) -> (Bool, Int)? {
        switch p[index] {
        case "?": return (true, index + 1)
        case "[":
            var i = index + 1
            var negate = false
            if i < p.count, p[i] == "!" {
                negate = true
                i += 1
            }
            var matched = false
            var first = true
            while i < p.count, p[i] != "]" || first {
                first = false
                if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                    if p[i].value <= scalar.value && scalar.value <= p[i + 2].value { matched = true }
                    i += 3
                } else {
                    if p[i] == scalar { matched = true }
                    i += 1
                }
            }
            // An unclosed `[` is a literal, as in fnmatch.
            guard i < p.count else { return (scalar == "[", index + 1) }
            return (matched != negate, i + 1)
        default:
            return (p[index] == scalar, index + 1)
        }
    }
}
