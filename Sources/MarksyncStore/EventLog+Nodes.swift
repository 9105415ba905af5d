import Foundation
import MarksyncCore

/// Several processes on one log (`serve` nodes on one PostgreSQL database, or a second process on a
/// SQLite file): each keeps its heads in memory and brings them up to date from the table when another
/// process committed — told by the backend's wake-ups, by a periodic check, or by a stale head at
/// commit. Events reach the observers once each, in seq order, whoever wrote them.
extension EventLog {
    /// How often heads are compared with the database when wake-ups may be lost.
    static let followInterval: Duration = .seconds(1)

    /// Starts following commits made by other processes (shared backends only).
    func startFollowingOtherNodes() {
        guard backend.isShared, let notifications = backend.commitNotifications() else { return }
        notificationTask = Task { [weak self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [weak self] in
                    for await note in notifications {
                        guard let self else { return }
                        await self.wake(doc: note.doc, seq: note.seq)
                    }
                }
                group.addTask { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: Self.followInterval)
                        guard let self else { return }
                        await self.checkHeads()
                    }
                }
                await group.waitForAll()
            }
        }
    }

    /// A wake-up: document `doc` has head `seq` in the database.
    func wake(doc: Int64, seq: Int) async {
        guard let (name, head) = heads.first(where: { $0.value.id == doc }), head.state.seq < seq else { return }
        if inFlight.contains(name) {
            // The commit under way brings the head up to date or fails as stale; look again after it.
            wokenDuringCommit[name] = max(seq, wokenDuringCommit[name] ?? 0)
            return
        }
        try? await catchUp(name)
    }

    /// Compares every loaded head with the database (a wake-up may have been lost).
    func checkHeads() async {
        for (name, head) in heads where !inFlight.contains(name) {
            guard let row = try? await backend.documentRow(name), row.headSeq > head.state.seq else { continue }
            try? await catchUp(name)
        }
    }

    /// After a commit: the wake-ups that came during it.
    func catchUpWoken(_ documents: Set<String>) async {
        for name in documents {
            guard let seq = wokenDuringCommit.removeValue(forKey: name), let head = heads[name], head.state.seq < seq else { continue }
            try? await catchUp(name)
        }
    }

    /// Applies the events stored after a loaded head (written by another process) to it, and gives them
    /// to the observers.
    func catchUp(_ name: String) async throws(StoreError) {
        guard var head = heads[name] else { return }
        while true {
            let raws = try await backend.rawEvents(doc: head.id, after: head.state.seq, through: Int.max, limit: Self.pageSize)
            // Another catch-up may have moved the head while this one read: continue from where it is now.
            guard let current = heads[name] else { return }
            head = current
            let fresh = raws.filter { $0.seq > head.state.seq }
            if fresh.isEmpty { return }
            head.blockIDs = try await names(covering: fresh, doc: head.id, blockIDs: head.blockIDs)
            for (key, id) in head.blockIDs { head.blockKeys[id] = key }
            guard heads[name]?.state.seq == head.state.seq else { continue }
            var events = [Event]()
            for raw in fresh {
                guard raw.seq == head.state.seq + 1 else {
                    throw StoreError(.corrupt, "the log of \(name) jumps from seq \(head.state.seq) to \(raw.seq)")
                }
                let event = try Self.decode(raw, document: name, blockIDs: head.blockIDs, authors: authorNames)
                do { try head.state.apply(event.body, seq: raw.seq) } catch {
                    throw StoreError(.corrupt, "event \(raw.seq) of \(name) does not apply: \(error)")
                }
                head.hash = raw.hash
                head.eventsSinceCheckpoint += 1
                head.workSinceCheckpoint += Self.replayCost(blockID: event.body.blockID, in: head.state, payloadBytes: raw.payload.count)
                events.append(event)
            }
            heads[name] = head
            publish(events)
            if raws.count < Self.pageSize { return }
        }
    }

    /// Gives committed events to the observers, each once and in seq order per document.
    func publish(_ events: [Event]) {
        var fresh = [Event]()
        fresh.reserveCapacity(events.count)
        for event in events {
            let last = publishedSeqs[event.document] ?? (event.seq - 1)
            guard event.seq > last else { continue }
            publishedSeqs[event.document] = event.seq
            fresh.append(event)
        }
        if fresh.isEmpty { return }
        for observer in observers.values { observer.yield(fresh) }
    }
}
