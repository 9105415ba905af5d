import MarksyncCore
import NIOCore
import Synchronization

/// One connection's live feed of a document's events, with the hand-over from catch-up to live.
///
/// The hub offers every committed event in seq order; the connection's pump takes them with
/// ``next()``. While the subscription is catching up (or after its buffer overflowed, or after a gap),
/// offered events are not kept: the pump reads the log from its cursor instead and calls
/// ``goLive(at:)`` when it has read everything, which succeeds only when no event newer than its cursor
/// has been offered meanwhile. So a subscriber never misses nor repeats an event, and a slow one
/// never stalls the writers or the other subscribers.
final class Subscription: Sendable {
    enum Next: Sendable {
        /// The next live event's message, as the text frame's payload (one buffer shared by every subscriber).
        case event(seq: Int, frame: ByteBuffer)
        /// Read the log after this seq, then call ``goLive(at:)``.
        case catchUp(after: Int)
        /// The connection is gone.
        case closed
    }

    private struct State {
        var live: Bool
        /// The seq of the last event queued (live) or handed to the pump.
        var cursor: Int
        /// The newest seq the hub has offered, live or not.
        var lastSeen: Int
        var queue: [(seq: Int, frame: ByteBuffer)] = []
        var head = 0
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    let connectionID: String
    /// Seed behaviour for plain connections: a writer does not get its own changes back.
    let excludeOwn: Bool
    let limit: Int
    private let state: Mutex<State>

    /// A subscription whose pump starts by catching up after `cursor`.
    init(connectionID: String, cursor: Int, lastSeen: Int, live: Bool, excludeOwn: Bool, limit: Int) {
        self.connectionID = connectionID
        self.excludeOwn = excludeOwn
        self.limit = limit
        state = Mutex(State(live: live, cursor: cursor, lastSeen: lastSeen))
    }

    /// Called by the hub for each committed event, in seq order.
    func offer(seq: Int, origin: String?, frame: ByteBuffer) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.lastSeen = max(state.lastSeen, seq)
            guard state.live, !state.closed, seq > state.cursor else { return nil }
            guard seq == state.cursor + 1 else {
                // A gap (events were committed while this subscription was not listening): catch up.
                state.live = false
                state.queue.removeAll()
                state.head = 0
                return state.waiter.take()
            }
            state.cursor = seq
            if excludeOwn, origin == connectionID { return nil }
            if state.queue.count - state.head >= limit {
                // Too slow: drop the buffer and fall back to reading the log from what was handed over.
                state.live = false
                state.cursor = state.queue.isEmpty ? seq - 1 : state.queue[state.head].seq - 1
                state.queue.removeAll()
                state.head = 0
                return state.waiter.take()
            }
            state.queue.append((seq, frame))
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// The next thing the pump must do.
    func next() async -> Next {
        while true {
            let result: Next? = state.withLock { state in
                if state.closed { return .closed }
                if !state.live { return .catchUp(after: state.cursor) }
                if state.head < state.queue.count {
                    let item = state.queue[state.head]
                    state.head += 1
                    if state.head > 1024, state.head * 2 > state.queue.count {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return .event(seq: item.seq, frame: item.frame)
                }
                return nil
            }
            if let result { return result }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || !state.live || state.head < state.queue.count { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Switches to live after the pump read the log up to `cursor`; false when newer events were
    /// offered meanwhile (the pump must read the log again).
    func goLive(at cursor: Int) -> Bool {
        state.withLock { state in
            guard state.lastSeen <= cursor else {
                state.cursor = cursor
                return false
            }
            state.live = true
            state.cursor = cursor
            state.queue.removeAll()
            state.head = 0
            return true
        }
    }

    /// Ends the subscription (the connection closed).
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            return state.waiter.take()
        }
        waiter?.resume()
    }
}
