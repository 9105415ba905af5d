import Foundation
import Synchronization

/// Counters of the server, rendered as Prometheus text at `/metrics`.
final class ServerMetrics: Sendable {
    private struct State {
        var received = 0
        var acks = 0
        var nacks: [String: Int] = [:]
        var delivered = 0
        var connections = 0
        var connectionsTotal = 0
        var commitBuckets = [Int](repeating: 0, count: ServerMetrics.bounds.count + 1)
        var commitSum = 0.0
        var commitCount = 0
        var http = 0
        var projectionFailures = 0
        var projectionConflicts = 0
    }

    /// Commit latency histogram bounds, seconds.
    static let bounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1]
    private let state = Mutex(State())
    /// Refused and timed-out connections (Connections/ConnectionLimits.swift).
    let connectionLimits = ConnectionLimitCounters()

    func received() { state.withLock { $0.received += 1 } }
    func ack() { state.withLock { $0.acks += 1 } }
    func nack(_ reason: String) { state.withLock { $0.nacks[reason, default: 0] += 1 } }
    func delivered() { state.withLock { $0.delivered += 1 } }
    func httpRequest() { state.withLock { $0.http += 1 } }
    /// A README projection write failed (it is retried).
    func projectionWriteFailed() { state.withLock { $0.projectionFailures += 1 } }
    /// A README's text was kept aside in README.md.conflict instead of being taken into the log.
    func projectionConflict() { state.withLock { $0.projectionConflicts += 1 } }
    var projectionFailures: Int { state.withLock { $0.projectionFailures } }
    func connectionOpened() {
        state.withLock {
            $0.connections += 1
            $0.connectionsTotal += 1
        }
    }
    func connectionClosed() { state.withLock { $0.connections -= 1 } }
    func commit(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { state in
            let bucket = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count
            state.commitBuckets[bucket] += 1
            state.commitSum += seconds
            state.commitCount += 1
        }
    }

    var connections: Int { state.withLock { $0.connections } }

    /// Prometheus text exposition.
    func render(documents: [(name: String, seq: Int, lag: Int)], logBytes: Int, checkpoints: Int) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ lines: [String]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for line in lines { out += line + "\n" }
        }
        metric("marksync_messages_received_total", "counter", "Sync messages received.", ["marksync_messages_received_total \(s.received)"])
        metric("marksync_acks_total", "counter", "Changes acknowledged (durable).", ["marksync_acks_total \(s.acks)"])
        metric(
            "marksync_nacks_total", "counter", "Messages refused, by reason.",
            s.nacks.sorted { $0.key < $1.key }.map { "marksync_nacks_total{reason=\"\($0.key)\"} \($0.value)" })
        metric(
            "marksync_projection_write_failures_total", "counter", "README projection writes that failed (each is retried).",
            ["marksync_projection_write_failures_total \(s.projectionFailures)"])
        metric(
            "marksync_projection_conflicts_total", "counter", "README texts kept aside in README.md.conflict (overlapping or unreadable edits).",
            ["marksync_projection_conflicts_total \(s.projectionConflicts)"])
        metric("marksync_events_delivered_total", "counter", "Event messages written to subscribers.", ["marksync_events_delivered_total \(s.delivered)"])
        metric("marksync_connections", "gauge", "Open sync connections.", ["marksync_connections \(s.connections)"])
        metric("marksync_connections_total", "counter", "Sync connections opened.", ["marksync_connections_total \(s.connectionsTotal)"])
        metric("marksync_http_requests_total", "counter", "HTTP API requests.", ["marksync_http_requests_total \(s.http)"])
        var buckets = [String]()
        var cumulative = 0
        for (index, bound) in Self.bounds.enumerated() {
            cumulative += s.commitBuckets[index]
            buckets.append("marksync_commit_seconds_bucket{le=\"\(bound)\"} \(cumulative)")
        }
        cumulative += s.commitBuckets[Self.bounds.count]
        buckets.append("marksync_commit_seconds_bucket{le=\"+Inf\"} \(cumulative)")
        buckets.append("marksync_commit_seconds_sum \(s.commitSum)")
        buckets.append("marksync_commit_seconds_count \(s.commitCount)")
        metric("marksync_commit_seconds", "histogram", "Time from a write's arrival to its durable commit.", buckets)
        metric(
            "marksync_document_seq", "gauge", "Head seq per document.", documents.map { "marksync_document_seq{doc=\"\($0.name)\"} \($0.seq)" })
        metric(
            "marksync_fanout_lag_events", "gauge", "Events committed but not yet fanned out, per document.",
            documents.map { "marksync_fanout_lag_events{doc=\"\($0.name)\"} \($0.lag)" })
        metric("marksync_log_bytes", "gauge", "Bytes of the log file and its WAL.", ["marksync_log_bytes \(logBytes)"])
        metric("marksync_checkpoints", "gauge", "Checkpoints in the log.", ["marksync_checkpoints \(checkpoints)"])
        out += connectionLimits.render()
        return out
    }
}
