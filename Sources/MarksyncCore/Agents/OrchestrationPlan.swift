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

        public init(name: String, role: String = "monitor", model: String? = nil, autoEdit: Bool = false, watch: [String] = []) {
            self.name = name
            self.role = role
            self.model = model
            self.autoEdit = autoEdit
            self.watch = watch
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
