import ArgumentParser
import Foundation
import MarksyncCore

/// `marksync-loadgen`: load generator for the sync protocol, against marksync-log or the Python seed.
///
/// ```
/// marksync-loadgen --spawn --target marksync-log --server-binary .build/release/marksync-log
/// marksync-loadgen --spawn --target seed --seed-command marksync
/// marksync-loadgen --target marksync-log --url ws://127.0.0.1:8765 --server-pid 1234 --json
/// ```
@main
struct LoadgenMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marksync-loadgen",
        abstract: "Load generator for the sync protocol (marksync-log or the Python seed server), loopback only.",
        discussion: """
            Scenarios: closed-loop writers (each writer owns one block, creates it with `full`, then sends real \
            diff-match-patch `patch` messages of code edits and waits for each `ack`; every write is broadcast to \
            the other writers, which count what they receive), fan-out (one writer at a fixed rate, N subscribers: \
            delivery latency from the send time carried in the patch, lost messages), `get_snapshot` latency, and \
            `roundtrip` (marksync-log only: `hello` answered on an open connection, no storage: the floor under a \
            writer's ack latency). \
            With --server-pid (or --spawn) the server's CPU time (utime+stime from /proc/PID/stat) is read before \
            and after each scenario and divided by the acks. Against a running marksync-log, start it with a high \
            --rate-limit (the default allows 2,000 messages/s per connection).
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable { case marksyncLog = "marksync-log", seed }

    @Option(help: "The server under test: marksync-log or seed.") var target: Target = .marksyncLog
    @Option(
        help: "WebSocket URL of a running server (loopback only), e.g. ws://127.0.0.1:8765; several, comma-separated, spread the peers over several `serve` nodes of one log."
    ) var url: String?
    @Option(help: "PID of the running server (comma-separated for several nodes), for its CPU time per ack.") var serverPID: String?
    @Flag(help: "Start the server on a free loopback port with a temporary copy of --readme, measure, stop it.")
    var spawn = false
    @Option(help: "marksync-log binary for --spawn.") var serverBinary = ".build/release/marksync-log"
    @Option(help: "Seed server command for --spawn (`<command> server README --host 127.0.0.1 --port P`).")
    var seedCommand = "marksync"
    @Option(help: "README copied for --spawn.") var readme = "examples/task-manager-api/README.md"
    @Option(help: "Per-connection rate limit given to a spawned marksync-log.") var rateLimit: Double = 1_000_000

    @Option(help: "Scenarios, comma-separated: writers, fanout, snapshot, roundtrip.") var scenarios = "writers,fanout,snapshot"
    @Option(help: "Writer counts for the closed-loop scenario.") var writers = "1,4,16"
    @Option(help: "Subscriber counts for the fan-out scenario.") var subscribers = "10,50,100"
    @Option(help: "Fan-out writer rate, messages per second.") var rate: Double = 1_000
    @Option(help: "Seconds per writer scenario.") var duration: Double = 5
    @Option(help: "Seconds per fan-out scenario.") var fanoutDuration: Double = 5
    @Option(help: "Seconds to wait, after a fan-out writer stops, for acks and deliveries.") var drain: Double = 10
    @Option(help: "At most this many writes per scenario.") var maxWrites = 200_000
    @Option(help: "Unmeasured writes per writer before measuring.") var warmup = 50
    @Option(help: "get_snapshot requests (within --duration).") var snapshots = 500
    @Option(help: "Seed of the edit generator.") var seed: UInt64 = 42
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        if spawn == (url != nil) { throw ValidationError("give either --url or --spawn") }
        for url in (url ?? "").split(separator: ",").map(String.init) {
            guard let components = URLComponents(string: url), components.scheme == "ws",
                let host = components.host, ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
            else { throw ValidationError("--url must be ws://127.0.0.1:PORT (loopback only)") }
        }
        guard (serverPID ?? "").split(separator: ",").allSatisfy({ Int32($0) != nil }) else {
            throw ValidationError("--server-pid takes process ids, comma-separated")
        }
        guard duration > 0, duration <= 120, fanoutDuration > 0, fanoutDuration <= 120 else {
            throw ValidationError("durations are bounded to 120 s")
        }
        guard drain >= 0, drain <= 120 else { throw ValidationError("--drain is bounded to 120 s") }
        guard rate > 0, rate <= 20_000 else { throw ValidationError("--rate must be in 1…20000") }
        guard maxWrites > 0, maxWrites <= 2_000_000 else { throw ValidationError("--max-writes must be in 1…2000000") }
    }

    func run() async throws {
        let writerCounts = try list(writers, max: 256)
        let subscriberCounts = try list(subscribers, max: 1_000)
        let wanted = Set(scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })

        var spawned: SpawnedServer?
        if spawn {
            switch target {
            case .marksyncLog: spawned = try await SpawnedServer.marksyncLog(binary: serverBinary, readme: readme, rateLimit: rateLimit)
            case .seed: spawned = try await SpawnedServer.seed(command: seedCommand, readme: readme)
            }
            log("started \(target.rawValue) at \(spawned!.url) (pid \(spawned!.pid))")
        }
        defer { spawned?.stop() }

        let context = RunContext(
            urls: spawned.map { [$0.url] } ?? url!.split(separator: ",").map(String.init), target: target.rawValue,
            serverPIDs: spawned.map { [$0.pid] } ?? (serverPID ?? "").split(separator: ",").compactMap { Int32($0) },
            tag: String(UUID().uuidString.prefix(8)).lowercased(), seed: seed)
        var results = [ScenarioResult]()
        do {
            if wanted.contains("writers") {
                for count in writerCounts {
                    log("writers-\(count) …")
                    results.append(try await runClosedLoop(context, writers: count, duration: duration, maxWrites: maxWrites, warmup: warmup))
                    try? await Task.sleep(for: .milliseconds(300))
                }
            }
            if wanted.contains("fanout") {
                for count in subscriberCounts {
                    log("fanout-\(count) at \(Int(rate))/s …")
                    results.append(try await runFanout(context, subscribers: count, rate: rate, duration: fanoutDuration, maxMessages: maxWrites, drain: drain))
                    try? await Task.sleep(for: .milliseconds(300))
                }
            }
            if wanted.contains("snapshot") {
                log("snapshot …")
                results.append(try await runSnapshots(context, count: snapshots, duration: duration))
            }
            if wanted.contains("roundtrip") {
                log("roundtrip …")
                results.append(try await runRoundTrips(context, count: 1_000_000, duration: duration))
            }
        } catch {
            log("scenario failed: \(error)")
            if let spawned { log("server log: \(spawned.folder.path)/server.log"); spawned.stop(keep: true) }
            throw ExitCode(1)
        }
        let formatter = ISO8601DateFormatter()
        let report = Report(target: target.rawValue, url: context.url, serverPID: context.serverPID, started: formatter.string(from: Date()), results: results)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Table.render(report), terminator: "")
        }
    }

    private func list(_ text: String, max: Int) throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 >= 1 && $0 <= max }) else { throw ValidationError("counts must be in 1…\(max)") }
        return values
    }

    private func log(_ text: String) {
        FileHandle.standardError.write(Data("[loadgen] \(text)\n".utf8))
    }
}
