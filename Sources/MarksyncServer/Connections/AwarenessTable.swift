import Foundation
import MarksyncCore

/// The awareness states of a Yjs room (cursors, user names: y-protocols' awareness), with caps, so that
/// one viewer cannot make the room hold (and send to everyone) an unbounded amount of state.
///
/// Each entry belongs to the viewer that sent it; a viewer's entries are removed when it leaves. Beyond
/// ``Limits/perViewer`` client ids, or with a state over ``Limits/stateBytes``, the viewer is abusive: the
/// update is refused and the viewer disconnected. When the room is full (``Limits/perRoom`` entries or
/// ``Limits/roomBytes`` bytes of state), new clients' entries are dropped (not stored, not relayed) and the
/// viewer stays.
struct AwarenessTable {
    /// The caps.
    struct Limits: Sendable {
        /// Client ids one viewer may hold (a y-websocket tab uses one).
        var perViewer = 16
        /// Entries in a room.
        var perRoom = 256
        /// Bytes of one entry's JSON state.
        var stateBytes = 64 * 1024
        /// Bytes of all the room's states.
        var roomBytes = 4 * 1024 * 1024
    }

    /// Why an update was refused (stable reason codes, in the close reason and the log).
    enum Refusal: String, Sendable {
        /// The viewer sent more client ids than ``Limits/perViewer`` (in one update or over time).
        case tooManyClients = "awareness_too_many_clients"
        /// A state over ``Limits/stateBytes``.
        case stateTooLarge = "awareness_state_too_large"
        /// The payload is not an awareness update.
        case malformed = "awareness_malformed"
    }

    struct Entry {
        var clock: Int
        var state: String
        var owner: UUID
    }

    let limits: Limits
    private(set) var entries: [UInt64: Entry] = [:]
    private(set) var bytes = 0
    private var byOwner: [UUID: Int] = [:]
    /// Entries dropped because the room was full (for the log).
    private(set) var dropped = 0

    init(limits: Limits = Limits()) { self.limits = limits }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// Applies a viewer's awareness payload. Returns the update to relay to the others (the accepted entries
    /// only; nil when none), or the refusal: then nothing was applied and the viewer is to be disconnected.
    mutating func apply(_ payload: [UInt8], from owner: UUID) -> Result<YjsAwarenessUpdate?, AwarenessRefusal> {
        // The count comes first: a payload announcing more entries than a viewer may have is refused
        // before it is decoded (a 4 MiB frame could otherwise decode to a million entries).
        var peek = Lib0Decoder(payload)
        guard let announced = try? peek.varUint() else { return .failure(.init(.malformed)) }
        guard announced <= UInt64(limits.perViewer) else { return .failure(.init(.tooManyClients, "\(announced) entries in one update")) }
        guard let update = try? YjsAwarenessUpdate(decoding: payload) else { return .failure(.init(.malformed)) }
        // Check first, apply after: a refused update changes nothing.
        var newClients = Set<UInt64>()
        for entry in update.entries {
            if entry.state.utf8.count > limits.stateBytes {
                return .failure(.init(.stateTooLarge, "\(entry.state.utf8.count) bytes (limit \(limits.stateBytes))"))
            }
            if entry.state != "null", entries[entry.client]?.owner != owner { newClients.insert(entry.client) }
        }
        if byOwner[owner, default: 0] + newClients.count > limits.perViewer {
            return .failure(.init(.tooManyClients, "over \(limits.perViewer) client ids"))
        }
        var accepted = [YjsAwarenessUpdate.Entry]()
        for entry in update.entries {
            let known = entries[entry.client]
            if let known, known.owner != owner, known.clock > entry.clock { continue }
            if entry.state == "null" {
                if known != nil { remove(entry.client) }
                accepted.append(entry)
                continue
            }
            let size = entry.state.utf8.count
            let freed = known?.state.utf8.count ?? 0
            if (known == nil && entries.count >= limits.perRoom) || bytes - freed + size > limits.roomBytes {
                dropped += 1
                continue
            }
            if known != nil { remove(entry.client) }
            entries[entry.client] = Entry(clock: entry.clock, state: entry.state, owner: owner)
            bytes += size
            byOwner[owner, default: 0] += 1
            accepted.append(entry)
        }
        return .success(accepted.isEmpty ? nil : YjsAwarenessUpdate(accepted))
    }

    /// Removes a viewer's entries; returns the update telling the others they are gone (`null` states).
    mutating func removeAll(ownedBy owner: UUID) -> YjsAwarenessUpdate? {
        let gone = entries.filter { $0.value.owner == owner }
        guard !gone.isEmpty else { return nil }
        for client in gone.keys { remove(client) }
        byOwner[owner] = nil
        return YjsAwarenessUpdate(gone.map { .init(client: $0.key, clock: $0.value.clock + 1, state: "null") }.sorted { $0.client < $1.client })
    }

    /// Every entry, by client id.
    var all: YjsAwarenessUpdate {
        YjsAwarenessUpdate(entries.sorted { $0.key < $1.key }.map { .init(client: $0.key, clock: $0.value.clock, state: $0.value.state) })
    }

    private mutating func remove(_ client: UInt64) {
        guard let entry = entries.removeValue(forKey: client) else { return }
        bytes -= entry.state.utf8.count
        if let held = byOwner[entry.owner] { byOwner[entry.owner] = held > 1 ? held - 1 : nil }
    }
}

/// A refused awareness update: the reason code and a detail for the log.
struct AwarenessRefusal: Error, Sendable {
    let reason: AwarenessTable.Refusal
    let detail: String

    init(_ reason: AwarenessTable.Refusal, _ detail: String = "") {
        self.reason = reason
        self.detail = detail
    }

    /// The WebSocket close reason (at most 123 bytes).
    var closeReason: String { String("\(reason.rawValue): reconnect".prefix(120)) }
}
