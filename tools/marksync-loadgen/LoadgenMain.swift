import ArgumentParser

/// The load generator (work in progress).
@main
struct LoadgenMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "marksync-loadgen", abstract: "Load generator for the sync protocol.")
    func run() async throws { print("not implemented yet") }
}
