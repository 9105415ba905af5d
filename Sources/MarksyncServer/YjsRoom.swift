import Foundation
import Logging
import MarksyncCore
import MarksyncStore
import Synchronization

/// One viewer of a document on the read-only y-websocket endpoint: the queue of binary frames its
/// connection writes. A viewer that falls more than ``limit`` frames (or ``byteLimit`` bytes) behind is
/// disconnected (its Yjs client reconnects and resynchronises with step 1/step 2), so a slow one never
/// holds the others up.
final class YjsPeer: Sendable {
    let id = RandomID.uuid()
    let frames: AsyncStream<[UInt8]>
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let overflowed = Mutex(false)
    private let refusal = Mutex<String?>(nil)
    /// Bytes queued and not written yet (``written(_:)``).
    private let queued = Mutex(0)
    /// Bytes a viewer may have queued; one frame alone may be larger (a big document's step 2).
    static let byteLimit = 32 << 20

    init(limit: Int) {
        (frames, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingOldest(limit))
    }

    /// Queues a frame; false (and the queue is closed) when the viewer is too far behind.
    @discardableResult
    func send(_ frame: [UInt8]) -> Bool {
        let over = queued.withLock { queued -> Bool in
            defer { queued += frame.count }
            return queued > 0 && queued + frame.count > Self.byteLimit
        }
        if over {
            overflowed.withLock { $0 = true }
            continuation.finish()
            return false
        }
        if case .dropped = continuation.yield(frame) {
            overflowed.withLock { $0 = true }
            continuation.finish()
            return false
        }
        return true
    }

    /// True when the queue was closed because the viewer fell behind.
    var fellBehind: Bool { overflowed.withLock { $0 } }

    func finish() { continuation.finish() }

    /// Called by the connection after writing a frame of `count` bytes.
    func written(_ count: Int) { queued.withLock { $0 -= count } }

    /// Closes the queue because the viewer broke a limit; `reason` becomes the WebSocket close reason.
    func refuse(_ reason: String) {
        refusal.withLock { $0 = reason }
        continuation.finish()
    }

    /// The reason the viewer was refused, if it was.
    var refused: String? { refusal.withLock { $0 } }
}

/// A document's live Yjs room: the projection at the head of the log, the viewers connected to
/// `/yjs/{doc}`, and their awareness states.
///
/// The room follows the log's commits and sends every event's update (`00 02 …`) to every viewer in seq
/// order. A viewer's step 1 is answered with step 2 (all it lacks plus the whole delete set). Updates
/// from viewers are refused with a permission-denied message naming the reason; nothing else happens to
/// the viewer or to the others. Awareness messages are passed to the other viewers, and a viewer's
/// states are cleared for the others when it leaves. The room closes when its last viewer leaves.
actor YjsRoom {
    let server: SyncServer
    let document: String
    private var projection: YjsProjection?
    private var loading: Task<Result<YjsProjection, StoreError>, Never>?
    private var peers: [UUID: YjsPeer] = [:]
    /// Awareness states: client → (clock, JSON state, the viewer that sent it), capped (AwarenessTable).
    private var awareness = AwarenessTable()
    private var follower: Task<Void, Never>?
    private var closed = false
    private var catchingUp = false
    private var catchUpAgain = false

    init(server: SyncServer, document: String) {
        self.server = server
        self.document = document
    }

    /// The reason given to a viewer whose update is refused.
    static func readOnlyReason(_ document: String, _ detail: String) -> String {
        "read-only: /yjs/\(document) is a projection of the marksync log and takes no Yjs updates (\(detail)); "
            + "edit through the marksync sync protocol (/sync) or the HTTP API"
    }

    // MARK: - Viewers

    /// Adds a viewer and queues its first frames: sync step 1 (the room's state vector), then the
    /// awareness states the room knows. False when the room is closing (ask the registry for a new one).
    func join(_ peer: YjsPeer) async throws(StoreError) -> Bool {
        guard !closed else { return false }
        peers[peer.id] = peer
        let projection: YjsProjection
        do { projection = try await loaded() } catch {
            peers[peer.id] = nil
            closeIfIdle()
            throw error
        }
        guard peers[peer.id] != nil else { return false }
        peer.send(YjsSyncMessage.syncStep1(projection.stateVector.encoded).encoded)
        if !awareness.isEmpty { peer.send(YjsSyncMessage.awareness(awareness.all.encoded).encoded) }
        return true
    }

    /// Removes a viewer; its awareness states become `null` for the others.
    func leave(_ id: UUID) {
        guard peers.removeValue(forKey: id) != nil else { return }
        if let update = awareness.removeAll(ownedBy: id) {
            broadcast(YjsSyncMessage.awareness(update.encoded).encoded, except: nil)
        }
        closeIfIdle()
    }

    /// Handles one binary message from a viewer.
    func receive(_ bytes: [UInt8], from id: UUID) async {
        guard let peer = peers[id] else { return }
        let message: YjsSyncMessage
        do { message = try YjsSyncMessage(decoding: bytes) } catch {
            peer.send(YjsSyncMessage.permissionDenied(Self.readOnlyReason(document, "unreadable message: \(error.message)")).encoded)
            return
        }
        switch message {
        case .syncStep1(let vectorBytes):
            guard let projection = try? await loaded(), peers[id] != nil else { return }
            let vector = (try? YjsStateVector(decoding: vectorBytes)) ?? YjsStateVector()
            peer.send(YjsSyncMessage.syncStep2(projection.encodeStateAsUpdate(from: vector)).encoded)
        case .syncStep2(let update), .update(let update):
            // A Yjs client answers the server's step 1 with an empty step 2 (`00 00`): nothing to refuse.
            let detail: String
            do {
                let parsed = try YjsUpdate(decoding: update)
                if parsed.isEmpty { return }
                detail = "an update with \(parsed.structs.count) struct(s) and \(parsed.deleteSet.reduce(0) { $0 + $1.ranges.count }) deleted range(s) was dropped"
            } catch {
                detail = "an unreadable update was dropped: \(error.message)"
            }
            peer.send(YjsSyncMessage.permissionDenied(Self.readOnlyReason(document, detail)).encoded)
        case .awareness(let payload):
            switch awareness.apply(payload, from: id) {
            case .success(let accepted):
                if let accepted { broadcast(YjsSyncMessage.awareness(accepted.encoded).encoded, except: id) }
            case .failure(let refusal):
                server.logger.warning("Yjs viewer of \(document) disconnected: \(refusal.reason.rawValue) \(refusal.detail)")
                peer.refuse(refusal.closeReason)
                leave(id)
            }
        case .queryAwareness:
            peer.send(YjsSyncMessage.awareness(awareness.all.encoded).encoded)
        case .permissionDenied, .unknown:
            break
        }
    }

    private func broadcast(_ frame: [UInt8], except: UUID?) {
        for (id, peer) in peers where id != except {
            if !peer.send(frame) { peers[id] = nil }
        }
    }

    /// Awareness entries held (for tests and figures).
    var awarenessCount: Int { awareness.count }

    private func closeIfIdle() {
        guard peers.isEmpty, !closed else { return }
        closed = true
        follower?.cancel()
        follower = nil
        YjsRooms.shared.remove(self)
    }

    // MARK: - Following the log

    /// The projection at the head; the first caller loads it and starts following the log.
    private func loaded() async throws(StoreError) -> YjsProjection {
        if let projection { return projection }
        if loading == nil {
            let log = server.log
            let document = self.document
            loading = Task {
                do { return .success(try await log.yjsProjection(document)) } catch let error as StoreError {
                    return .failure(error)
                } catch {
                    return .failure(StoreError(.database, "\(error)"))
                }
            }
            // The catch-up after the load reads the log from the projection's seq, and the live feed is
            // subscribed before that: no commit falls between the two.
            let commits = await log.committedEvents()
            follower = Task { [weak self] in
                for await batch in commits {
                    guard batch.contains(where: { $0.document == document }) else { continue }
                    await self?.catchUp()
                }
            }
        }
        switch await loading!.value {
        case .success(let value):
            if projection == nil {
                projection = value
                await catchUp()
            }
            return projection!
        case .failure(let error):
            loading = nil
            follower?.cancel()
            follower = nil
            throw error
        }
    }

    /// Applies the events committed since the projection's seq and sends their updates to every viewer,
    /// storing a Yjs checkpoint at each log checkpoint passed. One catch-up runs at a time; a call made
    /// meanwhile makes the running one look again.
    private func catchUp() async {
        guard projection != nil else { return }
        if catchingUp {
            catchUpAgain = true
            return
        }
        catchingUp = true
        defer { catchingUp = false }
        repeat {
            catchUpAgain = false
            do {
                while let after = projection?.seq {
                    let page = try await server.log.yjsReplayEvents(document, after: after, limit: 1024)
                    guard let last = page.last else { break }
                    let due = Set(try await server.log.checkpointSeqs(document, after: after, through: last.seq))
                    for event in page {
                        guard projection != nil else { return }
                        let update = try projection!.apply(event)
                        if update != [0, 0] { broadcast(YjsSyncMessage.update(update).encoded, except: nil) }
                        if due.contains(event.seq), let snapshot = projection { try await server.log.saveYjsCheckpoint(snapshot) }
                    }
                }
            } catch {
                server.logger.error("Yjs projection of \(document): \(error); its viewers are disconnected to resynchronise")
                for peer in peers.values { peer.finish() }
                peers.removeAll()
                projection = try? await server.log.yjsProjection(document)
                closeIfIdle()
                return
            }
        } while catchUpAgain
    }
}

/// The live rooms of every server of the process, by server and document.
final class YjsRooms: Sendable {
    static let shared = YjsRooms()

    private struct Key: Hashable {
        let server: ObjectIdentifier
        let document: String
    }

    private let rooms = Mutex<[Key: YjsRoom]>([:])

    /// The document's room, made when there is none.
    func room(for server: SyncServer, document: String) -> YjsRoom {
        rooms.withLock { rooms in
            let key = Key(server: ObjectIdentifier(server), document: document)
            if let room = rooms[key] { return room }
            let room = YjsRoom(server: server, document: document)
            rooms[key] = room
            return room
        }
    }

    /// Forgets a room that closed (unless another one took its place).
    func remove(_ room: YjsRoom) {
        rooms.withLock { rooms in
            let key = Key(server: ObjectIdentifier(room.server), document: room.document)
            if rooms[key] === room { rooms[key] = nil }
        }
    }
}
