import Synchronization

/// The deadlines of one attempt: the whole request, and, once a streamed reply has started, the gap
/// between two chunks. The body runs beside a timer task; whichever ends first wins and the other is
/// cancelled (AsyncHTTPClient closes the connection of a cancelled request).
final class Watchdog: Sendable {
    enum Expiry: Error {
        case request
        case idle
    }

    private let lastActivity = Mutex<ContinuousClock.Instant?>(nil)

    /// Arms (then resets) the idle clock: called when the stream starts and for every chunk.
    func touch() {
        let now = ContinuousClock.now
        lastActivity.withLock { $0 = now }
    }

    /// Runs `body`, throwing ``Expiry`` when `timeout` passes, or `idleTimeout` passes after the last
    /// ``touch()``.
    static func run<T: Sendable>(
        timeout: Duration, idleTimeout: Duration, _ body: @escaping @Sendable (Watchdog) async throws -> T
    ) async throws -> T {
        let watchdog = Watchdog()
        let deadline = ContinuousClock.now + timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body(watchdog) }
            group.addTask {
                while true {
                    let now = ContinuousClock.now
                    if now >= deadline { throw Expiry.request }
                    var wake = deadline
                    if let last = watchdog.lastActivity.withLock({ $0 }) {
                        // Armed: wakes at the earliest possible idle expiry and looks again, since a
                        // chunk may have come meanwhile.
                        let idleEnd = last + idleTimeout
                        if now >= idleEnd { throw Expiry.idle }
                        wake = min(wake, idleEnd)
                    } else {
                        // Not armed yet: looks often enough to see the arming well before an idle
                        // timeout could expire.
                        wake = min(wake, now + idleTimeout / 4)
                    }
                    try await Task.sleep(until: wake, clock: .continuous)
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }
}
