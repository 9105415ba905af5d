import Foundation

/// Latencies in nanoseconds, summarised as median / p99 / max in milliseconds.
struct Latencies: Sendable {
    var samples: [UInt64] = []
    mutating func add(_ nanos: UInt64) { samples.append(nanos) }
    mutating func merge(_ other: Latencies) { samples += other.samples }

    func summary() -> LatencySummary {
        guard !samples.isEmpty else { return LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0) }
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double {
            let index = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1e6
        }
        let mean = Double(sorted.reduce(0, +)) / Double(sorted.count) / 1e6
        return LatencySummary(count: sorted.count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Double(sorted.last!) / 1e6, mean: mean)
    }
}

struct LatencySummary: Codable, Sendable {
    var count: Int
    /// Milliseconds.
    var p50: Double
    var p90: Double
    var p99: Double
    var max: Double
    var mean: Double
}

/// CPU time (user + system) of a process, from /proc/PID/stat, in microseconds.
enum ProcessCPU {
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// A process's CPU time so far, user and system (kernel), microseconds.
    static func times(pid: Int32) -> CPUTimes? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime is 14 and stime 15 (1-based).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return CPUTimes(user: user / ticksPerSecond * 1e6, system: system / ticksPerSecond * 1e6)
    }

    /// A process's resident memory (VmRSS), bytes.
    static func residentBytes(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// A reading (CPU times, resident bytes) of the process tree: the pid and its children still running (the
    /// seed server is one Python process; `marksync-log serve` is one Swift process). Nil when the pid is gone.
    static func tree<Value: AdditiveArithmetic>(_ pid: Int32, _ read: (Int32) -> Value?) -> Value? {
        guard var total = read(pid) else { return nil }
        for child in children(of: pid) { total += read(child) ?? .zero }
        return total
    }

    static func children(of pid: Int32) -> [Int32] {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
        return text.split(separator: " ").compactMap { Int32($0) }
    }

    /// This process's own CPU time (the load generator), microseconds.
    static func selfMicros() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec)
        let system = Double(usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_stime.tv_usec)
        return user + system
    }
}

/// CPU time split into user and system (kernel) time, microseconds.
struct CPUTimes: Sendable, AdditiveArithmetic {
    var user = 0.0
    var system = 0.0
    var total: Double { user + system }
    static let zero = CPUTimes()
    static func + (a: CPUTimes, b: CPUTimes) -> CPUTimes { CPUTimes(user: a.user + b.user, system: a.system + b.system) }
    static func - (a: CPUTimes, b: CPUTimes) -> CPUTimes { CPUTimes(user: a.user - b.user, system: a.system - b.system) }
}

/// What one scenario measured.
struct ScenarioResult: Codable, Sendable {
    var scenario: String
    var target: String
    var writers: Int = 0
    var subscribers: Int = 0
    var seconds: Double = 0
    /// Writes sent and their outcomes.
    var sent: Int = 0
    var acks: Int = 0
    var nacks: Int = 0
    var errors: Int = 0
    var acksPerSecond: Double = 0
    /// Ack latency (writes) or reply latency (snapshots).
    var latency: LatencySummary?
    /// Fan-out: delivery latency, from the writer's send to a subscriber's receive.
    var delivery: LatencySummary?
    var broadcastsExpected: Int = 0
    var broadcastsReceived: Int = 0
    var lost: Int = 0
    var duplicates: Int = 0
    var targetRate: Double?
    var achievedRate: Double?
    /// Server CPU (user + sys) during the scenario, and per ack.
    var serverCPUSeconds: Double?
    var serverCPUMicrosPerAck: Double?
    var serverCPUUtilisation: Double?
    /// The kernel's part of the server CPU per ack (system time: syscalls, fsync, sockets, wake-ups).
    var serverSystemMicrosPerAck: Double?
    /// The server's resident memory at the end of the scenario, peers still connected.
    var serverRSSMegabytes: Double?
    /// The load generator's own CPU during the scenario (it shares the machine), in all and per ack.
    var clientCPUSeconds: Double?
    var clientCPUMicrosPerAck: Double?
    /// Request scenarios: the size of the last reply.
    var replyBytes = 0
    var notes: [String] = []
}

struct Report: Codable, Sendable {
    var tool = "marksync-loadgen"
    var target: String
    var url: String
    var serverPID: Int32?
    var cores: Int = ProcessInfo.processInfo.activeProcessorCount
    var started: String
    var results: [ScenarioResult]
}

enum Table {
    static func format(_ value: Double?, _ digits: Int = 2) -> String {
        guard let value else { return "-" }
        return String(format: "%.\(digits)f", value)
    }

    static func render(_ report: Report) -> String {
        var out = "marksync-loadgen  target \(report.target)  \(report.url)  \(report.cores) cores\n"
        let header = ["scenario", "acks/s", "p50 ms", "p99 ms", "sent", "acks", "nacks", "errors", "bcast got/exp", "lost", "dlv p50", "dlv p99", "srv µs/ack", "sys µs/ack", "srv cpu%", "srv RSS MB", "cli cpu s", "cli µs/ack"]
        var rows = [header]
        for r in report.results {
            rows.append([
                r.scenario,
                r.acksPerSecond > 0 ? format(r.acksPerSecond, 0) : "-",
                format(r.latency?.p50, 3), format(r.latency?.p99, 3),
                "\(r.sent)", "\(r.acks)", "\(r.nacks)", "\(r.errors)",
                r.broadcastsExpected > 0 || r.broadcastsReceived > 0 ? "\(r.broadcastsReceived)/\(r.broadcastsExpected)" : "-",
                r.broadcastsExpected > 0 ? "\(r.lost)" : "-",
                format(r.delivery?.p50, 3), format(r.delivery?.p99, 3),
                format(r.serverCPUMicrosPerAck, 1), format(r.serverSystemMicrosPerAck, 1),
                r.serverCPUUtilisation.map { format($0 * 100, 0) } ?? "-", format(r.serverRSSMegabytes, 1),
                format(r.clientCPUSeconds, 2), format(r.clientCPUMicrosPerAck, 0),
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for (index, row) in rows.enumerated() {
            out += row.enumerated().map { i, cell in i == 0 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[i] - cell.count) + cell }
                .joined(separator: "  ") + "\n"
            if index == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        for r in report.results where !r.notes.isEmpty {
            for note in r.notes { out += "  \(r.scenario): \(note)\n" }
        }
        return out
    }
}
