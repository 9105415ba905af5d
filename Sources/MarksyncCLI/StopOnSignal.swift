import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How every long-running command stops (`serve`, `api`, `orchestrate`, `sandbox`, `agent`): SIGINT or SIGTERM
/// starts a graceful shutdown (the services finish what is in flight; the sync server closes its WebSockets
/// with 1001 and ends its event streams); after ``grace`` the services are cancelled, which closes every
/// connection still open (a half-closed socket, a client that never answers the close); a second signal, or
/// ``hardDeadline`` after the first, ends the process at once. An ack is only sent after the event is durable,
/// so ending at once loses nothing acked (README.md is brought up to date at the next start).
enum StopOnSignal {
    /// Graceful shutdown before the services are cancelled.
    static let grace: Duration = .seconds(2)
    /// After the first signal, the process ends by this time whatever is still running.
    static let hardDeadline: Duration = .milliseconds(4_500)

    /// Runs `services` in one group until SIGINT/SIGTERM (or until they all return).
    static func run(_ services: [any Service], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        let group = ServiceGroup(configuration: configuration)
        let signalled = Signalled()
        let watchdog = Task { await watch(signalled) }
        defer { watchdog.cancel() }
        do { try await group.run() } catch where signalled.value.withLock({ $0 }) {
            // Cancelled after the grace period: still the stop that was asked for.
            logger.notice("stopped by cancellation after \(grace): \(error)")
        }
    }

    /// The second signal and the deadline (the service group listens to the first one only).
    private final class Signalled: Sendable { let value = Mutex(false) }

    private static func watch(_ signalled: Signalled) async {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        var seen = 0
        for await signal in signals {
            seen += 1
            signalled.value.withLock { $0 = true }
            if seen == 1 {
                Task.detached {
                    try? await Task.sleep(for: hardDeadline)
                    printError("still stopping after \(hardDeadline): exiting now")
                    exit(1)
                }
            } else {
                printError("second \(signal): exiting now")
                exit(130)
            }
        }
    }
}
