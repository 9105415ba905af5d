import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many connections the server holds and how long a connection may stay silent.
///
/// Every TCP connection (HTTP, SSE, WebSocket) counts, from accept to close. A connection over a limit is
/// accepted and closed at once (so the kernel's backlog keeps draining and `/health` stays reachable from
/// other addresses) and counted in `marksync_connections_refused_total{reason=…}`.
///
/// The per-address limit applies to loopback too: the storm it guards against came from 127.0.0.1, and a
/// local attacker is as real as a remote one. Behind a reverse proxy every client shares the proxy's
/// address: raise `maxConnectionsPerAddress` (or set it to 0, no per-address limit) there.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections held at once; 0 means the default (``defaultMaxConnections()``).
    public var maxConnections = 0
    /// Connections held at once from one remote IP address; 0 means no per-address limit.
    public var maxConnectionsPerAddress = 256
    /// Time a new connection has to send a complete request head (before any authentication).
    public var headerTimeout: Duration = .seconds(10)
    /// Time an HTTP keep-alive connection may stay idle between requests.
    public var idleTimeout: Duration = .seconds(60)
    /// Period of the WebSocket pings; a peer that has not answered a ping by the next one is closed.
    public var pingInterval: Duration = .seconds(20)
    /// Time a connection's output may stay blocked (over 64 KiB unsent, the peer not reading) before it is closed.
    public var writeTimeout: Duration = .seconds(60)
    /// Server-sent event streams open at once per document; more are answered 503 `too_many_streams`.
    public var maxEventStreamsPerDocument = 256

    public init() {}

    /// The connection limit in force: ``maxConnections``, or the default when it is 0.
    public var effectiveMaxConnections: Int { maxConnections > 0 ? maxConnections : Self.defaultMaxConnections() }

    /// The default connection limit: the process's soft `RLIMIT_NOFILE` minus the descriptors the server
    /// needs besides its sockets (the log, its WAL and shared memory, SQLite readers, README files and their
    /// temporary copies, the event loops' epoll, event and timer descriptors), at least 16.
    public static func defaultMaxConnections() -> Int {
        defaultMaxConnections(descriptorLimit: softDescriptorLimit(), processors: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The default for a given descriptor limit: `limit − (64 + 4 × processors)`, at least 16; 65,536 when
    /// the limit is unknown or unlimited.
    public static func defaultMaxConnections(descriptorLimit: Int?, processors: Int) -> Int {
        guard let limit = descriptorLimit, limit > 0 else { return 65_536 }
        let reserve = 64 + 4 * max(1, processors)
        return max(16, min(limit, 1 << 20) - reserve)
    }

    /// The soft limit on open descriptors, or nil when there is none.
    public static func softDescriptorLimit() -> Int? {
        var limit = rlimit()
        #if canImport(Glibc)
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        #else
        guard getrlimit(RLIMIT_NOFILE, &limit) == 0 else { return nil }
        #endif
        if limit.rlim_cur == rlim_t.max { return nil }  // RLIM_INFINITY
        return Int(clamping: limit.rlim_cur)
    }
}

/// Why a connection was refused or closed by the limits (stable reason codes, used in metrics and logs).
public enum ConnectionLimitReason: String, Sendable, CaseIterable {
    /// The server holds ``ConnectionLimits/effectiveMaxConnections`` connections.
    case maxConnections = "max_connections"
    /// The remote address holds ``ConnectionLimits/maxConnectionsPerAddress`` connections.
    case maxConnectionsPerAddress = "max_connections_per_address"
    /// No complete request head within ``ConnectionLimits/headerTimeout``.
    case headerTimeout = "header_timeout"
    /// A sync connection that did not present a valid token within ``ConnectionLimits/headerTimeout``.
    case authTimeout = "auth_timeout"
    /// Output blocked (the peer not reading) for ``ConnectionLimits/writeTimeout``.
    case writeTimeout = "write_timeout"
}

/// The connections a server holds, in total and per remote address; shared by the event loops.
final class ConnectionGate: Sendable {
    private struct State {
        var total = 0
        var byAddress: [String: Int] = [:]
    }
    let maxConnections: Int
    let maxPerAddress: Int
    let counters: ConnectionLimitCounters
    let logger: Logger
    private let state = Mutex(State())

    init(limits: ConnectionLimits, counters: ConnectionLimitCounters, logger: Logger) {
        maxConnections = limits.effectiveMaxConnections
        maxPerAddress = limits.maxConnectionsPerAddress
        self.counters = counters
        self.logger = logger
    }

    /// Takes a slot for a connection from `address`; the reason when there is none (then nothing is taken
    /// and the refusal is counted).
    func admit(address: String?) -> ConnectionLimitReason? {
        let refusal = state.withLock { state -> ConnectionLimitReason? in
            if state.total >= maxConnections { return .maxConnections }
            if let address, maxPerAddress > 0 {
                let held = state.byAddress[address, default: 0]
                if held >= maxPerAddress { return .maxConnectionsPerAddress }
                state.byAddress[address] = held + 1
            }
            state.total += 1
            return nil
        }
        if let refusal {
            // One line at the 1st, 2nd, 4th, 8th… refusal: a storm must not flood the log as well.
            let count = counters.count(refusal)
            if count & (count - 1) == 0 {
                logger.warning(
                    "connection from \(address ?? "?") refused (\(refusal.rawValue), limits \(maxConnections) in all, \(maxPerAddress) per address; \(count) refused so far)")
            }
        }
        return refusal
    }

    /// Gives back the slot of a connection admitted from `address`.
    func release(address: String?) {
        state.withLock { state in
            state.total -= 1
            if let address, maxPerAddress > 0, let held = state.byAddress[address] {
                if held <= 1 { state.byAddress[address] = nil } else { state.byAddress[address] = held - 1 }
            }
        }
    }

    /// Connections held now.
    var held: Int { state.withLock { $0.total } }
}

/// Counters of refused and timed-out connections, rendered at `/metrics`.
final class ConnectionLimitCounters: Sendable {
    private let counts = Mutex<[ConnectionLimitReason: Int]>([:])
    private let gauge = Mutex<(@Sendable () -> Int)?>(nil)

    /// Counts one more; returns the new count.
    @discardableResult
    func count(_ reason: ConnectionLimitReason) -> Int {
        counts.withLock {
            $0[reason, default: 0] += 1
            return $0[reason]!
        }
    }

    func count(of reason: ConnectionLimitReason) -> Int { counts.withLock { $0[reason] ?? 0 } }

    /// Makes `marksync_tcp_connections` report `held` (the running server's gate).
    func follow(_ held: @escaping @Sendable () -> Int) { gauge.withLock { $0 = held } }

    /// Prometheus text of the counters.
    func render() -> String {
        let counts = self.counts.withLock { $0 }
        var out = "# HELP marksync_connections_refused_total Connections closed by the connection limits or timeouts, by reason.\n"
        out += "# TYPE marksync_connections_refused_total counter\n"
        for reason in ConnectionLimitReason.allCases {
            out += "marksync_connections_refused_total{reason=\"\(reason.rawValue)\"} \(counts[reason] ?? 0)\n"
        }
        if let held = gauge.withLock({ $0 }) {
            out += "# HELP marksync_tcp_connections TCP connections held (HTTP, SSE and WebSocket).\n"
            out += "# TYPE marksync_tcp_connections gauge\nmarksync_tcp_connections \(held())\n"
        }
        return out
    }
}
