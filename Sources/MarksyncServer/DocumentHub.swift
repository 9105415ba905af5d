import MarksyncCore
import MarksyncStore
import NIOCore

/// Fans one document's committed events out to its subscriptions, in seq order.
///
/// It keeps a mirror of the document so that a broadcast `patch` is computed from the previous content to
/// the new one (every client in sync applies it exactly), and each event's message is built once for all
/// subscribers.
actor DocumentHub {
    let document: String
    private var mirror: DocumentState
    private var subscriptions: [String: Subscription] = [:]

    init(document: String, head: DocumentState) {
        self.document = document
        mirror = head
    }

    /// The seq of the last event fanned out.
    var seq: Int { mirror.seq }

    /// How many connections listen.
    var count: Int { subscriptions.count }

    /// Registers a subscription that starts live at the hub's current seq, and returns it with the
    /// manifest of that same seq (so nothing falls between the manifest and the live feed).
    func attachLive(connectionID: String, excludeOwn: Bool, limit: Int) -> (Subscription, manifest: String) {
        let subscription = Subscription(
            connectionID: connectionID, cursor: mirror.seq, lastSeen: mirror.seq, live: true, excludeOwn: excludeOwn, limit: limit)
        subscriptions[connectionID]?.close()
        subscriptions[connectionID] = subscription
        return (subscription, Wire.manifest(mirror, document: document))
    }

    /// Registers a subscription that first catches up from the log after `cursor`.
    func attachCatchingUp(connectionID: String, cursor: Int, limit: Int) -> Subscription {
        let subscription = Subscription(
            connectionID: connectionID, cursor: cursor, lastSeen: mirror.seq, live: false, excludeOwn: false, limit: limit)
        subscriptions[connectionID]?.close()
        subscriptions[connectionID] = subscription
        return subscription
    }

    func remove(_ connectionID: String) {
        subscriptions.removeValue(forKey: connectionID)?.close()
    }

    /// Fans out committed events of this document (the log yields them in seq order after each commit).
    func deliver(_ events: [Event]) {
        for event in events where event.document == document && event.seq == mirror.seq + 1 {
            let text: String
            do { text = try Wire.applyForSubscribers(event, to: &mirror) } catch {
                // The log applied it; the mirror cannot disagree unless it is out of date: resynchronise.
                mirror.seq = event.seq
                continue
            }
            if subscriptions.isEmpty { continue }
            // One buffer for every subscriber: the frame writers only read it (no copy per connection).
            let frame = ByteBuffer(string: text)
            for subscription in subscriptions.values {
                subscription.offer(seq: event.seq, origin: event.origin, frame: frame)
            }
        }
    }

    /// Replaces the mirror (after the hub fell behind the log).
    func resynchronise(_ head: DocumentState) { mirror = head }
}
