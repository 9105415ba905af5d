import NIOCore
import Testing

@testable import MarksyncServer

/// The catch-up → live hand-over and the slow-consumer fallback, event by event.
struct SubscriptionTests {
    @Test func liveEventsArriveInOrderWithoutOwnWrites() async {
        let subscription = Subscription(connectionID: "me", cursor: 10, lastSeen: 10, live: true, excludeOwn: true, limit: 100)
        subscription.offer(seq: 11, origin: "other", text: "a")
        subscription.offer(seq: 12, origin: "me", text: "mine")
        subscription.offer(seq: 13, origin: nil, text: "b")
        subscription.offer(seq: 13, origin: nil, text: "duplicate")
        guard case .event(11, let first) = await subscription.next(), case .event(13, let second) = await subscription.next(),
            String(buffer: first) == "a", String(buffer: second) == "b"
        else {
            Issue.record("expected events 11 and 13 only")
            return
        }
    }

    @Test func aGapSendsTheSubscriberBackToTheLog() async {
        let subscription = Subscription(connectionID: "s", cursor: 5, lastSeen: 5, live: true, excludeOwn: false, limit: 100)
        subscription.offer(seq: 6, origin: nil, text: "6")
        subscription.offer(seq: 8, origin: nil, text: "8")  // 7 was missed
        guard case .catchUp(let after) = await subscription.next() else {
            Issue.record("a gap must lead to catch-up")
            return
        }
        #expect(after == 6 || after == 5)
    }

    @Test func overflowFallsBackToCatchUpFromTheLastHandedOverEvent() async {
        let subscription = Subscription(connectionID: "slow", cursor: 0, lastSeen: 0, live: true, excludeOwn: false, limit: 3)
        subscription.offer(seq: 1, origin: nil, text: "1")
        guard case .event(1, _) = await subscription.next() else {
            Issue.record("expected event 1")
            return
        }
        for seq in 2...10 { subscription.offer(seq: seq, origin: nil, text: "\(seq)") }
        // Events 2…4 filled the buffer, 5 overflowed it: the pump must read the log after 1.
        guard case .catchUp(let after) = await subscription.next() else {
            Issue.record("an overflow must lead to catch-up")
            return
        }
        #expect(after == 1)
    }

    @Test func goingLiveFailsWhenNewerEventsWereOfferedMeanwhile() async {
        let subscription = Subscription(connectionID: "c", cursor: 0, lastSeen: 3, live: false, excludeOwn: false, limit: 10)
        // The pump read the log up to 3; event 4 was offered while it was not live.
        subscription.offer(seq: 4, origin: nil, text: "4")
        #expect(subscription.goLive(at: 3) == false)
        #expect(subscription.goLive(at: 4) == true)
        subscription.offer(seq: 5, origin: nil, text: "5")
        guard case .event(5, let frame) = await subscription.next(), String(buffer: frame) == "5" else {
            Issue.record("expected event 5 live")
            return
        }
    }

    @Test func closingWakesThePump() async {
        let subscription = Subscription(connectionID: "z", cursor: 0, lastSeen: 0, live: true, excludeOwn: false, limit: 10)
        async let next = subscription.next()
        try? await Task.sleep(for: .milliseconds(20))
        subscription.close()
        guard case .closed = await next else {
            Issue.record("close must end the pump")
            return
        }
    }
}

extension Subscription {
    /// Offers a text message (the hub offers the frame's buffer).
    fileprivate func offer(seq: Int, origin: String?, text: String) {
        offer(seq: seq, origin: origin, frame: ByteBuffer(string: text))
    }
}
