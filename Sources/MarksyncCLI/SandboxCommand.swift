import ArgumentParser
import Foundation
import MarksyncAgents
import MarksyncCore

/// `marksync-log sandbox`: the web UI on copies of the example projects, for trying things.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve copies of the example projects with the web UI, for trying things.",
        discussion: """
            Copies each project of --examples (a folder of folders holding README.md and agents.yml) into --folder \
            (once; later runs reuse the copies and their log), writes the DSL equivalent of each agents.yml beside it, \
            and serves them all: open http://HOST:PORT/ui/ and pick a project. The originals are never touched.

            The port comes from --port, else $MARKSYNC_SANDBOX_PORT, else 8888. The seed's sandbox had no setting for \
            its port (it used $DASHBOARD_PORT only for a redirect); $DASHBOARD_PORT is still read, last, so setups \
            that set it keep working, but it is deprecated here.

            Examples:
              marksync-log sandbox  # http://127.0.0.1:8888/ui/
              marksync-log sandbox --port 0  # a free port, printed on stdout
              MARKSYNC_SANDBOX_PORT=9000 marksync-log sandbox --examples ~/projects
            """
    )

    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default: $MARKSYNC_SANDBOX_PORT, else the deprecated $DASHBOARD_PORT, else 8888; 0 picks a free one).") var port: Int?
    @Option(help: "The example projects (default: examples).") var examples = "examples"
    @Option(help: "Where the copies and their log live (default: .marksync/sandbox).") var folder = ".marksync/sandbox"

    func run() async throws {
        let manager = FileManager.default
        let source = URL(fileURLWithPath: examples)
        guard let names = try? manager.contentsOfDirectory(atPath: source.path).sorted(),
            case let projects = names.filter({ manager.fileExists(atPath: source.appendingPathComponent("\($0)/README.md").path) }),
            !projects.isEmpty
        else {
            throw CLIError.failure("no example projects in \(examples) (folders with a README.md); pass --examples")
        }
        let target = URL(fileURLWithPath: folder)
        var readmes = [String]()
        for name in projects {
            let copy = target.appendingPathComponent(name)
            try manager.createDirectory(at: copy, withIntermediateDirectories: true)
            for file in ["README.md", "agents.yml", ".env.example"] {
                let from = source.appendingPathComponent("\(name)/\(file)")
                let to = copy.appendingPathComponent(file)
                if manager.fileExists(atPath: from.path), !manager.fileExists(atPath: to.path) { try manager.copyItem(at: from, to: to) }
            }
            let agents = copy.appendingPathComponent("agents.yml")
            if let plan = try? AgentsFile.load(agents.path) {
                let script = OrchestrateCommand.script(plan, defaults: Orchestrator.Defaults())
                try script.write(to: copy.appendingPathComponent("agents.msdsl"), atomically: true, encoding: .utf8)
            }
            readmes.append(copy.appendingPathComponent("README.md").path)
        }
        let settings = Settings()
        let chosenPort = port ?? settings.int("MARKSYNC_SANDBOX_PORT", default: settings.int("DASHBOARD_PORT", default: 8888))
        printError("sandbox: \(projects.count) projects copied to \(target.path); open http://\(host ?? "127.0.0.1"):\(chosenPort == 0 ? "PORT" : String(chosenPort))/ui/")
        var arguments = readmes + ["--port", String(chosenPort), "--db", target.appendingPathComponent("log.db").path]
        if let host { arguments += ["--host", host] }
        var serve = try ServeCommand.parse(arguments)
        try await serve.run()
    }
}
