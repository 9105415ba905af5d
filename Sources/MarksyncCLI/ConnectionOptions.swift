import ArgumentParser
import MarksyncServer

/// `serve`'s connection limits and timeouts (see docs/operations.md, "Connection limits and timeouts").
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Connections held at once (default: the open-file limit minus a reserve for the log and files).")
    var maxConnections: Int?
    @Option(help: "Connections held at once from one IP address, loopback included; 0 for no limit (default 256).")
    var maxConnectionsPerAddress: Int?
    @Option(help: ArgumentHelp("Seconds a new connection has to send its request head (default 10).", valueName: "seconds"))
    var headerTimeout: Double?
    @Option(help: ArgumentHelp("Seconds an HTTP keep-alive connection may stay idle (default 60).", valueName: "seconds"))
    var idleTimeout: Double?
    @Option(help: ArgumentHelp("Seconds between WebSocket pings; a peer missing a pong is closed (default 20).", valueName: "seconds"))
    var pingInterval: Double?
    @Option(help: ArgumentHelp("Seconds a connection's output may stay blocked by a peer not reading (default 60).", valueName: "seconds"))
    var writeTimeout: Double?

    /// The limits, defaults where no option was given.
    func limits() throws -> ConnectionLimits {
        var limits = ConnectionLimits()
        if let maxConnections {
            guard maxConnections > 0 else { throw CLIError.usage("--max-connections must be at least 1") }
            limits.maxConnections = maxConnections
        }
        if let maxConnectionsPerAddress {
            guard maxConnectionsPerAddress >= 0 else { throw CLIError.usage("--max-connections-per-address must be 0 or more") }
            limits.maxConnectionsPerAddress = maxConnectionsPerAddress
        }
        if let headerTimeout { limits.headerTimeout = try Self.duration(headerTimeout, "--header-timeout") }
        if let idleTimeout { limits.idleTimeout = try Self.duration(idleTimeout, "--idle-timeout") }
        if let pingInterval { limits.pingInterval = try Self.duration(pingInterval, "--ping-interval") }
        if let writeTimeout { limits.writeTimeout = try Self.duration(writeTimeout, "--write-timeout") }
        return limits
    }

    private static func duration(_ seconds: Double, _ name: String) throws -> Duration {
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else { throw CLIError.usage("\(name) must be between 0 and 86400 seconds") }
        return .milliseconds(Int((seconds * 1000).rounded(.up)))
    }
}
