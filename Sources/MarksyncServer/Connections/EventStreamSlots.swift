import HummingbirdCore
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

extension RequestBody {
    /// True when the body still reads from its connection, so that `consumeWithCancellationOnInboundClose`
    /// can watch for the client leaving. Hummingbird traps (`preconditionFailure`) when that is called on a
    /// body built in memory (`RequestBody(buffer:)`, as the router test client does) or replaced by a
    /// middleware; this looks at its storage first, and answers false when it cannot tell.
    var readsFromConnection: Bool {
        guard let backing = Mirror(reflecting: self).children.first(where: { $0.label == "_backing" })?.value,
            let payload = Mirror(reflecting: backing).children.first
        else { return false }
        switch payload.label {
        case "nioAsyncChannelRequestBody":
            return true
        case "byteBuffer", "anyAsyncSequence":
            let parts = Mirror(reflecting: payload.value).children.map(\.value)
            guard parts.count == 2 else { return false }
            let original = Mirror(reflecting: parts[1])
            return original.displayStyle == .optional && !original.children.isEmpty
        default:
            return false
        }
    }
}
