import Synchronization

/// The SSE clients (`GET /api/v1/docs/{doc}/events/stream`) of each document, capped: a stream over
/// ``ConnectionLimits/maxEventStreamsPerDocument`` is answered 503 with reason code `too_many_streams`.
final class EventStreamSlots: Sendable {
    private let held = Mutex<[String: Int]>([:])

    /// Takes a slot for a stream of `document`; nil when `limit` streams of it are open.
    func take(_ document: String, limit: Int) -> EventStreamSlot? {
        let taken = held.withLock { held -> Bool in
            let count = held[document, default: 0]
            guard count < limit else { return false }
            held[document] = count + 1
            return true
        }
        return taken ? EventStreamSlot(slots: self, document: document) : nil
    }

    /// Streams of `document` open now.
    func count(_ document: String) -> Int { held.withLock { $0[document] ?? 0 } }

    fileprivate func release(_ document: String) {
        held.withLock { held in
            let count = held[document, default: 0]
            held[document] = count > 1 ? count - 1 : nil
        }
    }
}

/// One stream's slot, given back when the last reference goes (the response, its body, or the stream that
/// ran it), whether or not the body was ever written.
final class EventStreamSlot: Sendable {
    private let slots: EventStreamSlots
    private let document: String

    fileprivate init(slots: EventStreamSlots, document: String) {
        self.slots = slots
        self.document = document
    }

    deinit { slots.release(document) }
}
