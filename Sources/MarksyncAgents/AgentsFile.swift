import MarksyncCore
import Yams

/// Reads `agents.yml` (the seed's schema) into an ``OrchestrationPlan``, keeping the file's order.
public enum AgentsFile {
    /// Why an agents file cannot be used.
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses the YAML text of an agents file.
    public static func parse(_ yaml: String) throws -> OrchestrationPlan {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch { throw Failure(message: "agents.yml is not valid YAML: \(error)") }
        guard let root else { return OrchestrationPlan() }
        guard let top = root.mapping else { throw Failure(message: "agents.yml must be a mapping with agents, pipelines and routes") }
        var plan = OrchestrationPlan()
        if let agents = top["agents"], let mapping = agents.mapping {
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                var agent = OrchestrationPlan.Agent(name: name)
                if let config = value.mapping {  // null is allowed: all defaults
                    agent.role = config["role"]?.string ?? "monitor"
                    agent.model = config["model"]?.string
                    agent.autoEdit = config["auto_edit"]?.bool ?? false
                    if let watch = config["watch"] {
                        agent.watch = watch.sequence?.compactMap(\.string) ?? watch.string.map { [$0] } ?? []
                    }
                    for (optionKey, optionValue) in config {
                        guard let key = optionKey.string, !["role", "model", "auto_edit", "watch"].contains(key) else { continue }
                        if let text = optionValue.scalar?.string { agent.options[key] = text }
                    }
                }
                plan.agents.append(agent)
            }
        }
        if let pipelines = top["pipelines"], let mapping = pipelines.mapping {
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                // Only `stages` matters here; the seed's step-based pipelines have none.
                plan.pipelines.append(.init(name: name, stages: value.mapping?["stages"]?.sequence?.compactMap(\.string) ?? []))
            }
        }
        if let routes = top["routes"]?.sequence {
            for route in routes {
                guard let pattern = route.mapping?["pattern"]?.string, let agent = route.mapping?["agent"]?.string else {
                    throw Failure(message: "every route needs a pattern and an agent")
                }
                plan.routes.append(.init(pattern: pattern, agent: agent))
            }
        }
        return plan
    }
}
